package spec

import "gopkg.in/yaml.v3"

// YAML's merge keys (`<<: *anchor`, or `<<: [*a, *b]`), which PyYAML's
// safe_load (what reads a container.yaml in Fedora's tools) and yaml.v3's
// own Unmarshal apply: a mapping takes the keys of the merged mappings it
// does not give itself, the first merged mapping winning over later ones.
// yaml.v3's node tree keeps `<<` as a key, so the tree is rewritten here,
// once, before anything is decoded; the merged keys keep the positions of
// the anchor they come from, where an error about them belongs.

// isMergeKey tells a merge key from a quoted "<<", which is a plain key.
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}

// expandMerges applies the merge keys under n, in place. The document was
// bounded (MaxNodes, counting aliases as copies, which also rejects an
// anchor that contains itself) before this runs, so the merged mappings it
// makes are bounded too.
func (p *parser) expandMerges(n *yaml.Node) {
	p.mergeNode(n, map[*yaml.Node]bool{})
}

func (p *parser) mergeNode(n *yaml.Node, done map[*yaml.Node]bool) {
	if n == nil || done[n] {
		return
	}
	done[n] = true
	if n.Kind == yaml.AliasNode {
		p.mergeNode(n.Alias, done)
		return
	}
	for _, c := range n.Content {
		p.mergeNode(c, done)
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	hasMerge := false
	own := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if isMergeKey(k) {
			hasMerge = true
		} else if k := resolve(k); k.Kind == yaml.ScalarNode {
			own[k.Value] = true
		}
	}
	if !hasMerge {
		return
	}
	var out []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			out = append(out, k, v)
			continue
		}
		for _, src := range p.mergeSources(k, resolve(v)) {
			for j := 0; j+1 < len(src.Content); j += 2 {
				mk := resolve(src.Content[j])
				if mk.Kind == yaml.ScalarNode && own[mk.Value] {
					continue
				}
				if mk.Kind == yaml.ScalarNode {
					own[mk.Value] = true
				}
				out = append(out, src.Content[j], src.Content[j+1])
			}
		}
	}
	n.Content = out
}

// mergeSources returns the mappings a merge key's value names (already
// merged themselves: they are under the key, or an alias's anchor, which
// mergeNode visits first), or reports why it names none.
func (p *parser) mergeSources(k, v *yaml.Node) []*yaml.Node {
	var srcs []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		srcs = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, item := range v.Content {
			m := resolve(item)
			if m.Kind != yaml.MappingNode {
				p.errorf(item, "merge key <<: expected a list of mappings (such as [*a, *b]), got %s in it", describe(m))
				return nil
			}
			srcs = append(srcs, m)
		}
	default:
		p.errorf(v, "merge key <<: expected a mapping or a list of mappings (such as *anchor), got %s; quote the key (\"<<\") if it is not a merge", describe(v))
		return nil
	}
	return srcs
}
