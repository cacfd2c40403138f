package spec

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/flatpak-frontend/flatpak-frontend/internal/suggest"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
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

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) syntaxError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		msg = m[2]
		if l, err := strconv.Atoi(m[1]); err == nil {
			line = l
			// yaml.v3 counts lines from 0 for parser (not scanner) errors,
			// and reports where the enclosing collection starts.
			if isParserError(msg) {
				line++
			}
		}
	} else {
		// Without "line N", yaml.v3's error is on the first line, or is
		// not tied to one (an unknown anchor).
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	pos := p.syntaxPos(msg, line)
	p.errorAt(Range{pos, pos}, "YAML syntax error: %s", msg)
}

var unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// syntaxPos is where a YAML syntax error is: yaml.v3 gives the line (of
// most errors) but no column, so the offending token is looked for in it.
func (p *parser) syntaxPos(msg string, line int) Pos {
	if strings.Contains(msg, "end of stream") {
		// The parser reached the end of the file.
		return p.posAt(len(p.data))
	}
	if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		// The first alias of that name: *NAME followed by no name
		// character.
		re := regexp.MustCompile(`\*` + regexp.QuoteMeta(m[1]) + `(?:[\s,\]}]|$)`)
		if loc := re.FindIndex(p.data); loc != nil {
			return p.posAt(loc[0])
		}
		return Pos{1, 1}
	}
	if line < 1 || line > len(p.lines) {
		return Pos{1, 1}
	}
	start := p.lines[line-1]
	end := len(p.data)
	if line < len(p.lines) {
		end = p.lines[line]
	}
	text := string(p.data[start:end])
	col := -1
	switch {
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		// '@' and '`' are reserved; a tab cannot indent.
		col = strings.IndexAny(text, "@`\t")
	case strings.HasPrefix(msg, "mapping values are not allowed"):
		// The ':' that would start a mapping where none can be.
		first := strings.Index(text, ": ")
		if second := strings.Index(text[first+1:], ": "); first >= 0 && second >= 0 {
			col = first + 1 + second
		} else {
			col = first
		}
	case strings.HasPrefix(msg, "did not find expected ',' or ']'"):
		col = strings.IndexByte(text, '[')
	case strings.HasPrefix(msg, "did not find expected ',' or '}'"):
		col = strings.IndexByte(text, '{')
	}
	if col < 0 {
		col = len(text) - len(strings.TrimLeft(text, " \t"))
	}
	return p.posAt(start + col)
}

// isParserError reports whether a yaml.v3 message comes from its parser
// (parserc.go) rather than its scanner.
func isParserError(msg string) bool {
	for _, p := range []string{"did not find expected", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// countNodes counts the nodes under n, following aliases, and stops early
// once the count passes limit.
func countNodes(n *yaml.Node, limit int) int {
	count := 0
	stack := []*yaml.Node{n}
	for len(stack) > 0 && count <= limit {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		if x.Kind == yaml.AliasNode && x.Alias != nil {
			stack = append(stack, x.Alias)
			continue
		}
		stack = append(stack, x.Content...)
	}
	return count
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return "the string " + strconv.Quote(v)
	}
	return "something else"
}

func (p *parser) errorAt(r Range, format string, args ...any) {
	p.errs = append(p.errs, &Error{Filename: p.filename, Range: r, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errorAt(p.rangeOf(n), format, args...)
}

// errorPath reports a problem with the value at path, at its position (or
// the nearest enclosing one that the file has).
func (p *parser) errorPath(path []any, format string, args ...any) {
	p.errorAt(p.rangeAt(path), format, args...)
}

func (p *parser) rangeAt(path []any) Range {
	for i := len(path); i > 0; i-- {
		if r, ok := p.src.Range(path[:i]...); ok {
			return r
		}
	}
	return p.root
}

func (p *parser) record(n *yaml.Node, path []any) {
	p.src.set(p.rangeOf(n), path...)
	if !isNull(n) {
		k, _ := pathKey(path)
		p.present[k] = true
	}
}

func (p *parser) isPresent(path ...any) bool {
	k, _ := pathKey(path)
	return p.present[k]
}

// field is one key of a struct, from its yaml tag.
type field struct {
	name  string
	index int
}

func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		fs = append(fs, field{name, i})
	}
	return fs
}

var specType = reflect.TypeFor[Spec]()

func join(path []any, elems ...any) []any {
	out := make([]any, 0, len(path)+len(elems))
	out = append(out, path...)
	return append(out, elems...)
}

func (p *parser) decodeStruct(n *yaml.Node, v reflect.Value, path []any) {
	t := v.Type()
	fields := fieldsOf(t)
	byName := map[string]field{}
	var names []string
	for _, f := range fields {
		byName[f.name] = f
		names = append(names, f.name)
	}
	aliases := map[string]string{}
	if t == specType {
		aliases = keyAliases
	}
	type seenKey struct {
		node  *yaml.Node
		spell string
	}
	seen := map[string]seenKey{}
	// Build arguments are declared before anything that uses them is
	// expanded, wherever args appears in the mapping.
	passes := 1
	if t == specType {
		passes = 2
	}
	for pass := 0; pass < passes; pass++ {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := resolve(n.Content[i]), resolve(n.Content[i+1])
			if k.Kind != yaml.ScalarNode {
				if pass == passes-1 {
					p.errorf(k, "%skeys must be strings, got %s", prefix(path), describe(k))
				}
				continue
			}
			name := k.Value
			canon := name
			if a, ok := aliases[name]; ok {
				canon = a
			}
			if t == specType && (canon == "args") != (pass == 0) {
				continue
			}
			f, ok := byName[canon]
			if !ok {
				msg := fmt.Sprintf("%sunknown key %q", prefix(path), name)
				cands := append([]string(nil), names...)
				for a := range aliases {
					cands = append(cands, a)
				}
				sort.Strings(cands)
				if s := suggest.Closest(name, cands); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				p.errorf(k, "%s", msg)
				continue
			}
			if prev, dup := seen[canon]; dup {
				if prev.spell == name {
					p.errorf(k, "%sduplicate key %q (first at line %d)", prefix(path), name, prev.node.Line)
				} else {
					p.errorf(k, "%s%q and %q are two spellings of the same key (first at line %d); keep one", prefix(path), name, prev.spell, prev.node.Line)
				}
				continue
			}
			seen[canon] = seenKey{k, name}
			fp := join(path, canon)
			p.src.set(p.rangeOf(k), join(fp, Key)...)
			p.record(val, fp)
			p.decodeField(t, f, val, v.Field(f.index), fp)
		}
	}
}

func prefix(path []any) string {
	if len(path) == 0 {
		return ""
	}
	return pathString(path) + ": "
}

// decodeField decodes one key's value, with the shapes that are not a plain
// Go type: finish-args, packages and platforms.
func (p *parser) decodeField(parent reflect.Type, f field, n *yaml.Node, v reflect.Value, path []any) {
	if isNull(n) {
		return
	}
	switch {
	case parent == specType && f.name == "finish-args":
		p.decodeFinishArgs(n, v, path)
		return
	case parent == specType && f.name == "packages":
		p.decodePackages(n, v, path)
		return
	case parent == specType && f.name == "cleanup-commands":
		// A shell script: build args reach it as environment variables.
		if s, ok := p.scalar(n, path, "a string (a shell script)"); ok {
			v.SetString(s)
		}
		return
	case parent == specType && f.name == "args":
		p.decodeArgs(n, v, path)
		return
	case parent == reflect.TypeFor[Platforms](), parent == reflect.TypeFor[ExtraData]() && f.name == "only-arches":
		p.decodeArchList(n, v, path)
		return
	}
	p.decodeValue(n, v, path)
}

func (p *parser) decodeValue(n *yaml.Node, v reflect.Value, path []any) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	switch v.Kind() {
	case reflect.String:
		if s, ok := p.scalar(n, path, "a string"); ok {
			v.SetString(p.expand(n, s, path))
		}
	case reflect.Bool:
		if b, ok := p.bool(n, path); ok {
			v.SetBool(b)
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			p.errorf(n, "%sexpected an integer, got %s", prefix(path), describe(n))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 32)
		if err != nil {
			p.errorf(n, "%sexpected an integer, got %s", prefix(path), describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			p.errorf(n, "%sexpected a number of bytes, got %s", prefix(path), describe(n))
			return
		}
		u, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			p.errorf(n, "%sexpected a number of bytes, got %s", prefix(path), describe(n))
			return
		}
		v.SetUint(u)
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		p.decodeValue(n, e.Elem(), path)
		v.Set(e)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.errorf(n, "%sexpected %s, got %s", prefix(path), typeName(v.Type()), describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ip := join(path, i)
			p.record(resolve(item), ip)
			p.decodeValue(item, s.Index(i), ip)
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.errorf(n, "%sexpected %s, got %s", prefix(path), typeName(v.Type()), describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		p.mapEntries(n, path, func(k, val *yaml.Node, kp []any) {
			e := reflect.New(v.Type().Elem()).Elem()
			if v.Type().Elem().Kind() == reflect.Struct && isNull(val) {
				p.errorf(val, "%sexpected %s, got %s", prefix(kp), typeName(v.Type().Elem()), describe(val))
			} else {
				p.decodeValue(val, e, kp)
			}
			m.SetMapIndex(reflect.ValueOf(k.Value), e)
		})
		v.Set(m)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.errorf(n, "%sexpected %s, got %s", prefix(path), typeName(v.Type()), describe(n))
			return
		}
		p.decodeStruct(n, v, path)
	}
}

// typeName names a Go type the way the spec documentation does.
func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Package]():
		return "a package name or a mapping with name and platforms"
	case reflect.TypeFor[Repo]():
		return "a mapping with name and baseurl or path"
	case reflect.TypeFor[Extension]():
		return "a mapping with directory and other extension keys"
	case reflect.TypeFor[Platforms]():
		return "a mapping with only and/or not"
	case reflect.TypeFor[ExtraData]():
		return "a mapping with url, sha256, size and the other extra-data keys"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int:
		return "an integer"
	case reflect.Uint64:
		return "a number of bytes"
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "a list of strings"
		}
		return "a list"
	case reflect.Map:
		if t.Elem().Kind() == reflect.String {
			return "a mapping of strings to strings"
		}
		return "a mapping of names to mappings"
	case reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// scalar returns the literal text of a scalar: numbers and booleans given
// where a string is expected are taken as written.
func (p *parser) scalar(n *yaml.Node, path []any, want string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%sexpected %s, got %s", prefix(path), want, describe(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) bool(n *yaml.Node, path []any) (bool, bool) {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!bool" {
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, true
			}
		}
		// YAML 1.1 spellings, which Fedora's tools (PyYAML) read as booleans.
		if n.Style == 0 {
			switch n.Value {
			case "yes", "Yes", "YES", "on", "On", "ON":
				return true, true
			case "no", "No", "NO", "off", "Off", "OFF":
				return false, true
			}
		}
	}
	p.errorf(n, "%sexpected a boolean (true or false), got %s", prefix(path), describe(n))
	return false, false
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
		for i, item := range n.Content {
			ip := join(path, i)
			item = resolve(item)
			p.record(item, ip)
			if s, ok := p.scalar(item, ip, "an architecture name"); ok {
				out = append(out, p.expand(item, s, ip))
			}
		}
	default:
		p.errorf(n, "%sexpected an architecture name or a list of them, got %s", prefix(path), describe(n))
		return
	}
	v.Set(reflect.ValueOf(out))
}

func (p *parser) decodeFinishArgs(n *yaml.Node, v reflect.Value, path []any) {
	var out []string
	switch n.Kind {
	case yaml.SequenceNode:
		for i, item := range n.Content {
			ip := join(path, i)
			item = resolve(item)
			p.record(item, ip)
			if s, ok := p.scalar(item, ip, "a string (one flatpak build-finish option)"); ok {
				out = append(out, p.expand(item, s, ip))
			}
		}
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
			b := s.Repos[i].GPGKey != ""
			s.Repos[i].GPGCheck = &b
		}
	}
}
