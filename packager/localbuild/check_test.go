package localbuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "flatpak.yaml")
	if err := os.WriteFile(spec, []byte("id: org.example.A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name string
		o    Options
		want string // "" for no error
	}{
		{"all there", Options{File: spec, ContextDir: dir, Contexts: map[string]string{
			"rpms": dir, "runtime": "oci-layout://" + dir + "@sha256:00", "base": "docker-image://example.org/x:1"}}, ""},
		{"no spec", Options{File: missing, ContextDir: dir}, "the spec " + missing + ": no such file or folder"},
		{"spec is a folder", Options{File: dir, ContextDir: dir}, "the spec " + dir + " is a folder"},
		{"no context", Options{File: spec, ContextDir: missing}, "the build context " + missing + ": no such file or folder"},
		{"context is a file", Options{File: spec, ContextDir: notDir}, "the build context " + notDir + ": " + notDir + " is not a folder"},
		{"no named folder", Options{File: spec, Contexts: map[string]string{"rpms": missing}}, "--build-context rpms=" + missing + ": no such file or folder"},
		{"no layout folder", Options{File: spec, Contexts: map[string]string{"runtime": "oci-layout://" + missing}}, "--build-context runtime=oci-layout://" + missing + ": no such file or folder"},
		{"first by name", Options{File: spec, Contexts: map[string]string{"b": missing, "a": notDir}}, "--build-context a="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Check()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("error %v, want one starting %q", err, tc.want)
			}
		})
	}
}
