package spec_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/flatpak-frontend/flatpak-frontend/spec/internal/schemagen"
)

// TestGeneratedFilesAreCurrent fails when spec.go changed without
// go generate ./spec.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	for _, f := range []struct {
		path string
		gen  func(string) ([]byte, error)
	}{
		{"flatpak.schema.json", schemagen.Schema},
		{"../docs/keys.md", schemagen.Docs},
	} {
		want, err := f.gen(".")
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./spec", f.path)
		}
	}
	if !bytes.Equal(spec.Schema(), mustRead(t, "flatpak.schema.json")) {
		t.Errorf("spec.Schema() differs from flatpak.schema.json")
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSchemaCoversEveryKey checks the schema against the Go types: every
// yaml key is a property, with a description.
func TestSchemaCoversEveryKey(t *testing.T) {
	var s struct {
		Schema string `json:"$schema"`
		ID     string `json:"$id"`
		Defs   map[string]struct {
			Properties           map[string]map[string]any `json:"properties"`
			Required             []string                  `json:"required"`
			AdditionalProperties *bool                     `json:"additionalProperties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(spec.Schema(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" || s.ID == "" {
		t.Errorf("$schema %q $id %q", s.Schema, s.ID)
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[spec.Spec](), reflect.TypeFor[spec.Package](), reflect.TypeFor[spec.Platforms](),
		reflect.TypeFor[spec.Repo](), reflect.TypeFor[spec.Extension](),
	} {
		d, ok := s.Defs[typ.Name()]
		if !ok {
			t.Errorf("no $defs/%s", typ.Name())
			continue
		}
		if d.AdditionalProperties == nil || *d.AdditionalProperties {
			t.Errorf("%s: additionalProperties is not false", typ.Name())
		}
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
			if name == "-" || name == "" {
				continue
			}
			p, ok := d.Properties[name]
			if !ok {
				t.Errorf("%s: no property %q", typ.Name(), name)
				continue
			}
			if p["description"] == nil {
				t.Errorf("%s.%s: no description", typ.Name(), name)
			}
		}
	}
	props := s.Defs["Spec"].Properties
	for alias, canon := range spec.KeyAliases() {
		if props[alias] == nil || props[canon] == nil {
			t.Errorf("alias %s or %s missing", alias, canon)
		}
	}
	if props["branch"]["default"] != "stable" || props["appstream-compose"]["default"] != true || props["installer"]["default"] != "auto" {
		t.Errorf("defaults: %v %v %v", props["branch"]["default"], props["appstream-compose"]["default"], props["installer"]["default"])
	}
	if props["finish-args"]["oneOf"] == nil {
		t.Errorf("finish-args is not string-or-list: %v", props["finish-args"])
	}
	if !reflect.DeepEqual(s.Defs["Spec"].Required, []string{"id"}) {
		t.Errorf("required: %v", s.Defs["Spec"].Required)
	}
}
