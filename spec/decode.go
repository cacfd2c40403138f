package spec

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/internal/suggest"
	"gopkg.in/yaml.v3"
)

// The generic decoder: YAML nodes into the Spec's fields by reflection
// (the yaml and default tags), recording each key's position and reporting
// every problem with its line and column.

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
			if !ok && t == specType && builderKeys[name] != "" {
				p.errorf(k, "unknown key %q: %s", name, builderKeys[name])
				continue
			}
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

// builderKeys are keys of flatpak-builder's manifests that a file written
// from one brings along, with what this file says instead.
var builderKeys = map[string]string{
	"app-id":         `flatpak-builder's spelling; here the key is id`,
	"modules":        `flatpak-builder builds modules from source; this file installs RPMs: list them under packages`,
	"build-options":  `flatpak-builder builds modules from source; this file installs RPMs, which need no build options`,
	"cleanup":        `flatpak-builder's list of files to delete; here, delete them in cleanup-commands`,
	"sdk-extensions": `flatpak-builder's SDK extensions build sources; this file installs RPMs and needs none`,
}

func prefix(path []any) string {
	if len(path) == 0 {
		return ""
	}
	return pathString(path) + ": "
}

// decodeField decodes one key's value, by its shape if it has one.
func (p *parser) decodeField(parent reflect.Type, f field, n *yaml.Node, v reflect.Value, path []any) {
	if isNull(n) {
		return
	}
	if name, _ := Shape(parent.Field(f.index)); name != "" {
		shapes[name].decode(p, n, v, path)
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
