package spec

import (
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Shapes are the keys whose YAML form is not their Go type's. A field's
// `shape` tag names its shape; the decoder here, the JSON Schema and
// docs/keys.md (spec/internal/schemagen) all go by that tag, so which keys
// have a shape is said once, in spec.go.
var shapes map[string]shapeInfo

type shapeInfo struct {
	// doc is how docs/keys.md names the type.
	doc    string
	decode func(p *parser, n *yaml.Node, v reflect.Value, path []any)
}

// The decoders call back into decodeField, which looks here: the table is
// filled at init to break that initialization cycle.
func init() {
	shapes = map[string]shapeInfo{
		"finish-args": {"string or list of strings", (*parser).decodeFinishArgs},
		"packages":    {"list of package names or mappings", (*parser).decodePackages},
		"script":      {"string (a shell script)", (*parser).decodeScript},
		"args":        {"mapping of names to strings", (*parser).decodeArgs},
		"arches":      {"string or list of strings", (*parser).decodeArchList},
		"urls":        {"string or list of strings", (*parser).decodeURLList},
	}
}

// Shape is the shape a struct field's tag names ("" for none) and how
// docs/keys.md describes it; it panics on a tag no decoder knows.
func Shape(f reflect.StructField) (name, doc string) {
	name = f.Tag.Get("shape")
	if name == "" {
		return "", ""
	}
	s, ok := shapes[name]
	if !ok {
		panic("spec: field " + f.Name + " has unknown shape " + name)
	}
	return name, s.doc
}

// decodeScript reads cleanup-commands: a shell script, not expanded (build
// args reach it as environment variables).
func (p *parser) decodeScript(n *yaml.Node, v reflect.Value, path []any) {
	if s, ok := p.scalar(n, path, "a string (a shell script)"); ok {
		v.SetString(s)
	}
}

func (p *parser) decodeArgs(n *yaml.Node, v reflect.Value, path []any) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%sexpected a mapping of build argument names to default values, got %s", prefix(path), describe(n))
		return
	}
	args := map[string]string{}
	p.mapEntries(n, path, func(k, val *yaml.Node, kp []any) {
		if !isArgName(k.Value) {
			p.errorf(k, "%sbuild argument name %q must be letters, digits and '_', not starting with a digit", prefix(path), k.Value)
		}
		def := ""
		if !isNull(val) {
			if s, ok := p.scalar(val, kp, "a string (the default value)"); ok {
				def = s
			}
		}
		if o, ok := p.opts.BuildArgs[k.Value]; ok {
			def = o
		}
		args[k.Value] = def
	})
	p.args = args
	v.Set(reflect.ValueOf(args))
}

// mapEntries calls fn for each entry of a string-keyed mapping, with the
// entry's path, after recording the positions of its key and value;
// non-string and duplicate keys are errors.
func (p *parser) mapEntries(n *yaml.Node, path []any, fn func(k, val *yaml.Node, kp []any)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%skeys must be strings, got %s", prefix(path), describe(k))
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			p.errorf(k, "%sduplicate key %q (first at line %d)", prefix(path), k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		kp := join(path, k.Value)
		p.src.set(p.rangeOf(k), join(kp, Key)...)
		p.record(val, kp)
		fn(k, val, kp)
	}
}

func isArgName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	return matchCharset(s, "_")
}

func (p *parser) decodePackages(n *yaml.Node, v reflect.Value, path []any) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%sexpected a list of package names (or mappings with name and platforms), got %s", prefix(path), describe(n))
		return
	}
	pkgs := make([]Package, len(n.Content))
	for i, item := range n.Content {
		item = resolve(item)
		ip := join(path, i)
		p.record(item, ip)
		switch item.Kind {
		case yaml.ScalarNode:
			if isNull(item) {
				p.errorf(item, "%sexpected a package name, got %s", prefix(ip), describe(item))
				continue
			}
			p.src.set(p.rangeOf(item), join(ip, "name")...)
			pkgs[i].Name = p.expand(item, item.Value, ip)
		case yaml.MappingNode:
			p.decodeStruct(item, reflect.ValueOf(&pkgs[i]).Elem(), ip)
			if !p.isPresent(join(ip, "name")...) {
				p.errorf(item, "%smissing key \"name\" (the RPM package name)", prefix(ip))
			}
		default:
			p.errorf(item, "%sexpected a package name or a mapping with name and platforms, got %s", prefix(ip), describe(item))
		}
	}
	v.Set(reflect.ValueOf(pkgs))
}

// decodeArchList reads platforms.only/not: a list, or one string of
// architectures separated by commas or spaces.
func (p *parser) decodeArchList(n *yaml.Node, v reflect.Value, path []any) {
	p.decodeWords(n, v, path, "an architecture name")
}

// decodeURLList reads URLs as a .repo file gives them (gpgkey): separated
// by spaces or commas, or a list.
func (p *parser) decodeURLList(n *yaml.Node, v reflect.Value, path []any) {
	p.decodeWords(n, v, path, "a URL")
}

// decodeWords reads one string of words separated by commas or white
// space, or a list of them, recording each word's position.
func (p *parser) decodeWords(n *yaml.Node, v reflect.Value, path []any, what string) {
	var out []string
	switch n.Kind {
	case yaml.ScalarNode:
		cursor := p.contentStart(n)
		for i, a := range strings.FieldsFunc(n.Value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
			r := p.find(n, a, &cursor)
			p.src.set(r, join(path, i)...)
			out = append(out, p.expandAt(r, a, join(path, i)))
		}
	case yaml.SequenceNode:
		out = p.stringList(n, path, what)
	default:
		p.errorf(n, "%sexpected %s or a list of them, got %s", prefix(path), what, describe(n))
		return
	}
	v.Set(reflect.ValueOf(out))
}

func (p *parser) decodeFinishArgs(n *yaml.Node, v reflect.Value, path []any) {
	var out []string
	switch n.Kind {
	case yaml.SequenceNode:
		out = p.stringList(n, path, "a string (one flatpak build-finish option)")
	case yaml.ScalarNode:
		words, err := shellSplit(n.Value)
		cursor := p.contentStart(n)
		for i, w := range words {
			r := p.find(n, n.Value[w.start:w.end], &cursor)
			p.src.set(r, join(path, i)...)
			out = append(out, p.expandAt(r, w.value, join(path, i)))
		}
		if err != nil {
			r := p.find(n, n.Value[err.start:], &cursor)
			p.errorAt(r, "%s%s", prefix(path), err.msg)
		}
	default:
		p.errorf(n, "%sexpected a list of flatpak build-finish options or one string of them, got %s", prefix(path), describe(n))
		return
	}
	v.Set(reflect.ValueOf(out))
}

// stringList reads a sequence of scalars, each expanded, recording each
// item's position; want says what an item must be.
func (p *parser) stringList(n *yaml.Node, path []any, want string) []string {
	var out []string
	for i, item := range n.Content {
		ip := join(path, i)
		item = resolve(item)
		p.record(item, ip)
		if s, ok := p.scalar(item, ip, want); ok {
			out = append(out, p.expand(item, s, ip))
		}
	}
	return out
}
