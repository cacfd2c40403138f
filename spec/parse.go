package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

const (
	// MaxFileSize is the largest spec file Parse reads.
	MaxFileSize = 4 << 20
	// MaxNodes bounds the YAML nodes of a document, counting each use of an
	// alias as a copy of its anchor, so that aliases cannot blow up memory.
	MaxNodes = 100000
)

// Options are the inputs of Parse besides the file.
type Options struct {
	// BuildArgs are the --build-arg NAME=VALUE values. They override the
	// defaults declared under args; values for names the file does not
	// declare are ignored (see (*Spec).UndeclaredBuildArgs).
	BuildArgs map[string]string
}

// keyAliases maps other spellings of Spec keys to their canonical name.
var keyAliases = map[string]string{
	"cleanup_commands":  "cleanup-commands",
	"appstream-license": "appdata-license",
}

// KeyAliases returns the other accepted spellings of top-level keys, each
// mapped to its canonical key name.
func KeyAliases() map[string]string {
	m := make(map[string]string, len(keyAliases))
	for k, v := range keyAliases {
		m[k] = v
	}
	return m
}

// Parse reads a flatpak.yaml, or a Fedora container.yaml whose flatpak:
// section is the spec (its other sections are ignored). It expands build
// arguments, fills in defaults and validates every value. On failure the
// error is Errors, every problem found, sorted by position, and the *Spec is
// nil. On success Spec.Args holds the effective value of each declared
// build argument and Spec.Source the position of every key.
func Parse(filename string, data []byte, opts Options) (s *Spec, err error) {
	p := &parser{filename: filename, data: data, opts: opts}
	defer func() {
		if r := recover(); r != nil {
			s = nil
			err = Errors{{Filename: filename, Range: Range{Pos{1, 1}, Pos{1, 1}},
				Msg: fmt.Sprintf("internal error while reading the file (please report it): %v", r)}}
		}
	}()
	s = p.parse()
	if len(p.errs) > 0 {
		p.errs.sort()
		p.errs = p.errs.dedupe()
		for _, e := range p.errs {
			e.Range = p.clampRange(e.Range)
		}
		return nil, p.errs
	}
	return s, nil
}

type parser struct {
	filename string
	data     []byte
	opts     Options
	errs     Errors
	src      *Source
	lines    []int // byte offset of the start of each line
	root     Range // the spec mapping
	args     map[string]string
	present  map[string]bool    // canonical paths (pathKey) that were given non-null
	ends     map[*yaml.Node]int // cache of endOffset
	ascii    bool               // the file is ASCII: columns are byte offsets
	marks    map[int][]int      // see lineMarks
	// composeModules is set for an old-style container.yaml that builds
	// from modules (compose: modules:) instead of listing packages;
	// composeKey is its compose: key.
	composeModules bool
	composeKey     *yaml.Node
}

func (p *parser) parse() *Spec {
	if len(p.data) > MaxFileSize {
		p.errorAt(Range{Pos{1, 1}, Pos{1, 1}}, "file is too large (%d bytes; at most %d are read)", len(p.data), MaxFileSize)
		return nil
	}
	p.indexLines()
	if !utf8.Valid(p.data) {
		off := 0
		for off < len(p.data) {
			r, n := utf8.DecodeRune(p.data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		pos := p.posAt(off)
		p.errorAt(Range{pos, pos}, "file is not valid UTF-8 (byte 0x%02x); save it as UTF-8", p.data[off])
		return nil
	}
	p.src = &Source{Filename: p.filename, Data: p.data, ranges: map[string]Range{}}
	p.present = map[string]bool{}

	dec := yaml.NewDecoder(bytes.NewReader(p.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorAt(Range{Pos{1, 1}, Pos{1, 1}}, "file is empty: expected a mapping with at least id and packages")
		} else {
			p.syntaxError(err)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		pos := Pos{next.Line, next.Column}
		p.errorAt(Range{pos, pos}, "file has more than one YAML document; put the spec in one document")
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errorAt(Range{Pos{1, 1}, Pos{1, 1}}, "file is empty: expected a mapping with at least id and packages")
		return nil
	}
	if n := countNodes(&doc, MaxNodes); n > MaxNodes {
		p.errorAt(Range{Pos{1, 1}, Pos{1, 1}}, "document is too large: more than %d YAML nodes (counting each alias as a copy of its anchor)", MaxNodes)
		return nil
	}
	p.expandMerges(&doc)
	root := resolve(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		p.errorAt(Range{Pos{1, 1}, Pos{1, 1}}, "file is empty: expected a mapping with at least id and packages")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "expected a mapping of keys (id, packages, ...) at the top level, got %s", describe(root))
		return nil
	}
	specNode := root
	var flatpakKey, platformsKey, platformsVal *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := resolve(root.Content[i])
		if k.Kind == yaml.ScalarNode && k.Value == "platforms" {
			platformsKey, platformsVal = k, resolve(root.Content[i+1])
		}
		if k.Kind == yaml.ScalarNode && k.Value == "compose" {
			p.composeKey = k
			if c := resolve(root.Content[i+1]); c.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(c.Content); j += 2 {
					if resolve(c.Content[j]).Value == "modules" {
						p.composeModules = true
					}
				}
			}
		}
		if k.Kind == yaml.ScalarNode && k.Value == "flatpak" {
			if flatpakKey != nil {
				p.errorf(k, "duplicate key \"flatpak\" (first at line %d)", flatpakKey.Line)
				continue
			}
			flatpakKey = k
			specNode = resolve(root.Content[i+1])
		}
	}
	if flatpakKey != nil && specNode.Kind != yaml.MappingNode {
		p.errorf(specNode, "flatpak: expected a mapping of keys (id, packages, ...), got %s", describe(specNode))
		return nil
	}
	p.root = p.rangeOf(specNode)

	s := &Spec{Source: p.src}
	p.decodeStruct(specNode, reflect.ValueOf(s).Elem(), nil)
	if flatpakKey != nil && platformsKey != nil {
		// A container.yaml's top-level platforms: section.
		if p.isPresent("platforms") {
			p.errorf(platformsKey, "platforms: given both at the top level and in flatpak:; keep one")
		} else {
			p.src.set(p.rangeOf(platformsKey), "platforms", Key)
			p.record(platformsVal, []any{"platforms"})
			p.decodeValue(platformsVal, reflect.ValueOf(&s.Platforms).Elem(), []any{"platforms"})
		}
	}
	p.applyDefaults(s)
	p.validate(s)
	return s
}

func (p *parser) applyDefaults(s *Spec) {
	if !p.isPresent("branch") {
		s.Branch = "stable"
	}
	if !p.isPresent("appstream-compose") {
		s.AppstreamCompose = true
	}
	if !p.isPresent("installer") {
		s.Installer = InstallerAuto
	}
	for i := range s.Repos {
		if s.Repos[i].GPGCheck == nil {
			b := len(s.Repos[i].GPGKeys) > 0
			s.Repos[i].GPGCheck = &b
		}
	}
}
