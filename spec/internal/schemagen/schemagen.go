package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// SchemaID is the $id of the schema.
const SchemaID = "https://raw.githubusercontent.com/flatpak-frontend/flatpak-frontend/main/spec/flatpak.schema.json"

// comments holds the doc comments of the spec package's types.
type comments struct {
	types  map[string]string            // type name -> doc
	fields map[string]map[string]string // type name -> Go field name -> doc
	consts map[string][]string          // type name -> values of its string constants
}

// readComments reads the spec package in dir, and the types it uses from
// flatpak/metadata (add-extensions' Extension).
func readComments(dir string) (*comments, error) {
	c := &comments{types: map[string]string{}, fields: map[string]map[string]string{}, consts: map[string][]string{}}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	// Read first, so that spec's own doc of an alias wins.
	files = append([]string{filepath.Join(dir, "..", "flatpak", "metadata", "extension.go")}, files...)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, sp := range g.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					doc := sp.Doc
					if doc == nil {
						doc = g.Doc
					}
					if d := text(doc); d != "" || c.types[sp.Name.Name] == "" {
						c.types[sp.Name.Name] = d
					}
					st, ok := sp.Type.(*ast.StructType)
					if !ok {
						continue
					}
					fm := map[string]string{}
					for _, fl := range st.Fields.List {
						for _, n := range fl.Names {
							fm[n.Name] = text(fl.Doc)
						}
					}
					c.fields[sp.Name.Name] = fm
				case *ast.ValueSpec:
					id, ok := sp.Type.(*ast.Ident)
					if !ok || g.Tok != token.CONST {
						continue
					}
					for _, v := range sp.Values {
						if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, err := strconv.Unquote(lit.Value)
							if err == nil {
								c.consts[id.Name] = append(c.consts[id.Name], s)
							}
						}
					}
				}
			}
		}
	}
	return c, nil
}

// text joins a doc comment into one paragraph.
func text(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return strings.Join(strings.Fields(g.Text()), " ")
}

// key is one YAML key of a struct.
type key struct {
	name     string
	field    reflect.StructField
	doc      string
	def      string
	hasDef   bool
	required bool
}

func keysOf(t reflect.Type, c *comments) []key {
	var out []key
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		def, hasDef := f.Tag.Lookup("default")
		out = append(out, key{
			name:     name,
			field:    f,
			doc:      c.fields[t.Name()][f.Name],
			def:      def,
			hasDef:   hasDef,
			required: !strings.Contains(opts, "omitempty") && !hasDef,
		})
	}
	return out
}

// obj is a JSON object that keeps its keys in order.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var (
	specType      = reflect.TypeFor[spec.Spec]()
	packageType   = reflect.TypeFor[spec.Package]()
	platformsType = reflect.TypeFor[spec.Platforms]()
	installerType = reflect.TypeFor[spec.Installer]()
)

// scalarString is what the parser accepts where a string is expected:
// numbers and booleans are taken as written.
func scalarString() obj {
	return obj{{"type", []string{"string", "number", "boolean"}}}
}

func stringOrList() obj {
	return obj{{"oneOf", []any{
		obj{{"type", "string"}},
		obj{{"type", "array"}, {"items", scalarString()}},
	}}}
}

func ref(t reflect.Type) obj { return obj{{"$ref", "#/$defs/" + t.Name()}} }

// schemaFor is the schema of one key's value: its shape's (spec.Shape),
// or its Go type's.
func (g *gen) schemaFor(k key) obj {
	name, _ := spec.Shape(k.field)
	switch name {
	case "":
		return g.typeSchema(k.field.Type)
	case "finish-args", "arches", "urls":
		return stringOrList()
	case "packages":
		g.define(packageType)
		return obj{{"type", "array"}, {"items", obj{{"oneOf", []any{scalarString(), ref(packageType)}}}}}
	case "args":
		return obj{{"type", "object"}, {"additionalProperties", obj{{"type", []string{"string", "number", "boolean", "null"}}}}}
	case "script":
		return scalarString()
	}
	panic("schemagen: no schema for shape " + name)
}

func (g *gen) typeSchema(t reflect.Type) obj {
	if t == installerType {
		return obj{{"type", "string"}, {"enum", g.c.consts[t.Name()]}}
	}
	switch t.Kind() {
	case reflect.String:
		return scalarString()
	case reflect.Bool:
		return obj{{"type", "boolean"}}
	case reflect.Int:
		return obj{{"type", "integer"}}
	case reflect.Uint64:
		return obj{{"type", "integer"}, {"minimum", 0}}
	case reflect.Pointer:
		return g.typeSchema(t.Elem())
	case reflect.Slice:
		return obj{{"type", "array"}, {"items", g.typeSchema(t.Elem())}}
	case reflect.Map:
		return obj{{"type", "object"}, {"additionalProperties", g.typeSchema(t.Elem())}}
	case reflect.Struct:
		g.define(t)
		return ref(t)
	}
	panic("schemagen: unsupported type " + t.String())
}

type gen struct {
	c    *comments
	defs map[string]obj
	// order of definitions
	names []string
}

func (g *gen) define(t reflect.Type) {
	if _, ok := g.defs[t.Name()]; ok {
		return
	}
	g.defs[t.Name()] = nil // placeholder against recursion
	g.names = append(g.names, t.Name())
	props := obj{}
	var required []string
	for _, k := range keysOf(t, g.c) {
		s := g.schemaFor(k)
		if k.doc != "" {
			s = append(obj{{"description", k.doc}}, s...)
		}
		if k.hasDef {
			s = append(s, kv{"default", defaultValue(k)})
		}
		props = append(props, kv{k.name, s})
		if k.required {
			required = append(required, k.name)
		}
	}
	var notBoth []any
	if t == specType {
		aliases := spec.KeyAliases()
		var names []string
		for a := range aliases {
			names = append(names, a)
		}
		sort.Strings(names)
		for _, a := range names {
			canon := aliases[a]
			for _, p := range props {
				if p.k == canon {
					s := append(obj{{"description", "Another spelling of " + canon + "."}}, p.v.(obj)[1:]...)
					props = append(props, kv{a, s})
				}
			}
			notBoth = append(notBoth, obj{{"not", obj{{"required", []string{canon, a}}}}})
		}
	}
	d := obj{{"type", "object"}}
	if doc := g.c.types[t.Name()]; doc != "" {
		d = append(obj{{"description", doc}}, d...)
	}
	d = append(d, kv{"properties", props})
	if len(required) > 0 {
		d = append(d, kv{"required", required})
	}
	d = append(d, kv{"additionalProperties", false})
	if len(notBoth) > 0 {
		d = append(d, kv{"allOf", notBoth})
	}
	g.defs[t.Name()] = d
}

func defaultValue(k key) any {
	switch k.field.Type.Kind() {
	case reflect.Bool:
		b, _ := strconv.ParseBool(k.def)
		return b
	case reflect.Int:
		i, _ := strconv.Atoi(k.def)
		return i
	}
	return k.def
}

// Schema returns the JSON Schema of flatpak.yaml; dir is the spec package's
// source directory.
func Schema(dir string) ([]byte, error) {
	c, err := readComments(dir)
	if err != nil {
		return nil, err
	}
	g := &gen{c: c, defs: map[string]obj{}}
	g.define(specType)
	defs := obj{}
	for _, n := range g.names {
		defs = append(defs, kv{n, g.defs[n]})
	}
	top := obj{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", SchemaID},
		{"title", "flatpak.yaml"},
		{"description", "A flatpak.yaml for flatpak-frontend, or a Fedora container.yaml whose flatpak: section is the spec. Generated from spec/spec.go by go generate ./spec; do not edit."},
		{"anyOf", []any{
			ref(specType),
			obj{
				{"description", "A Fedora container.yaml: the flatpak: section is the spec; other sections are ignored."},
				{"type", "object"},
				{"properties", obj{{"flatpak", ref(specType)}}},
				{"required", []string{"flatpak"}},
			},
		}},
		{"$defs", defs},
	}
	out, err := json.MarshalIndent(top, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Docs returns docs/keys.md; dir is the spec package's source directory.
func Docs(dir string) ([]byte, error) {
	c, err := readComments(dir)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# flatpak.yaml keys\n\n")
	b.WriteString("<!-- Generated from spec/spec.go by `go generate ./spec`; do not edit. -->\n\n")
	b.WriteString(c.types["Spec"] + "\n\n")
	b.WriteString("A Fedora `container.yaml` is accepted as it is: its `flatpak:` section is the spec and its other sections are ignored.\n")
	b.WriteString("String values may use build arguments declared under `args` as `${NAME}`, `${NAME:-default}` or `${NAME:+alternative}`; `$$` is a literal `$`. `cleanup-commands` is not expanded: it gets the build arguments as environment variables.\n")
	sections := []struct {
		title string
		t     reflect.Type
	}{
		{"Top-level keys", specType},
		{"`packages` entries (as a mapping)", packageType},
		{"`platforms` of a package", platformsType},
		{"`repos` entries", reflect.TypeFor[spec.Repo]()},
		{"`add-extensions` values", reflect.TypeFor[spec.Extension]()},
	}
	aliases := spec.KeyAliases()
	for _, s := range sections {
		fmt.Fprintf(&b, "\n## %s\n\n", s.title)
		if s.t != specType && c.types[s.t.Name()] != "" {
			b.WriteString(c.types[s.t.Name()] + "\n\n")
		}
		b.WriteString("| Key | Type | Default | Meaning |\n|---|---|---|---|\n")
		for _, k := range keysOf(s.t, c) {
			name := "`" + k.name + "`"
			var also []string
			for a, canon := range aliases {
				if s.t == specType && canon == k.name {
					also = append(also, "`"+a+"`")
				}
			}
			sort.Strings(also)
			if len(also) > 0 {
				name += " (or " + strings.Join(also, ", ") + ")"
			}
			if k.required {
				name += " (required)"
			}
			def := ""
			if k.hasDef {
				def = "`" + k.def + "`"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, docType(k, c), def, cell(k.doc))
		}
	}
	return b.Bytes(), nil
}

func cell(s string) string {
	return strings.ReplaceAll(s, "|", "\\|")
}

func docType(k key, c *comments) string {
	if _, doc := spec.Shape(k.field); doc != "" {
		return doc
	}
	return typeDoc(k.field.Type, c)
}

func typeDoc(t reflect.Type, c *comments) string {
	if t == installerType {
		return "one of " + strings.Join(c.consts[t.Name()], ", ")
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int:
		return "integer"
	case reflect.Pointer:
		return typeDoc(t.Elem(), c)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "list of mappings"
		}
		return "list of " + typeDoc(t.Elem(), c) + "s"
	case reflect.Map:
		if t.Elem().Kind() == reflect.Struct {
			return "mapping of names to mappings"
		}
		return "mapping of strings to " + typeDoc(t.Elem(), c) + "s"
	case reflect.Struct:
		return "mapping"
	}
	return t.String()
}

// Write regenerates the schema file and the docs.
func Write(dir, schemaPath, docsPath string) error {
	s, err := Schema(dir)
	if err != nil {
		return err
	}
	d, err := Docs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(docsPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(schemaPath, s, 0o644); err != nil {
		return err
	}
	return os.WriteFile(docsPath, d, 0o644)
}
