package localbuild

import (
	"archive/tar"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/session/secrets/secretsprovider"
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
	layout := filepath.Join(dir, "layout")
	if err := os.MkdirAll(layout, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(layout, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, secretsprovider.MaxSecretSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FFE_TEST_SECRET", "value")
	t.Chdir(dir)
	for _, tc := range []struct {
		name string
		o    Options
		want string // "" for no error
	}{
		{"all there", Options{File: spec, ContextDir: dir, Contexts: map[string]string{
			"rpms": dir, "runtime": "oci-layout://" + layout + "@sha256:00", "base": "docker-image://example.org/x:1"}}, ""},
		{"no spec", Options{File: missing, ContextDir: dir}, "the spec " + missing + ": no such file or folder"},
		{"spec is a folder", Options{File: dir, ContextDir: dir}, "the spec " + dir + " is a folder"},
		{"no context", Options{File: spec, ContextDir: missing}, "the build context " + missing + ": no such file or folder"},
		{"context is a file", Options{File: spec, ContextDir: notDir}, "the build context " + notDir + ": " + notDir + " is not a folder"},
		{"no named folder", Options{File: spec, Contexts: map[string]string{"rpms": missing}}, "--build-context rpms=" + missing + ": no such file or folder"},
		{"no layout folder", Options{File: spec, Contexts: map[string]string{"runtime": "oci-layout://" + missing}}, "--build-context runtime=oci-layout://" + missing + ": no such file or folder"},
		{"a folder that is no layout", Options{File: spec, Contexts: map[string]string{"runtime": "oci-layout://" + dir + "@sha256:00"}}, "--build-context runtime=oci-layout://" + dir + "@sha256:00: " + dir + ": not an OCI layout"},
		{"bad image reference", Options{File: spec, Contexts: map[string]string{"runtime": "docker-image://Example.org/UPPER:1"}}, "--build-context runtime=docker-image://Example.org/UPPER:1: invalid reference format: repository name (UPPER) must be lowercase"},
		{"push", Options{File: spec, Push: "localhost:5000/org.example.app:1"}, ""},
		{"bad push reference", Options{File: spec, Push: "localhost:5000/app:bad tag"}, "--push localhost:5000/app:bad tag: invalid reference format"},
		{"first by name", Options{File: spec, Contexts: map[string]string{"b": missing, "a": notDir}}, "--build-context a="},
		{"secrets there", Options{File: spec, Secrets: []secretsprovider.Source{
			{ID: "a", FilePath: spec}, {ID: "b", Env: "FFE_TEST_SECRET"}, {ID: "FFE_TEST_SECRET"}, {ID: "file"}}}, ""},
		{"no secret file", Options{File: spec, Secrets: []secretsprovider.Source{{ID: "a", FilePath: missing}}}, "--secret id=a,src=" + missing + ": no such file or folder"},
		{"secret is a folder", Options{File: spec, Secrets: []secretsprovider.Source{{ID: "a", FilePath: dir}}}, "--secret id=a,src=" + dir + ": a folder"},
		{"secret too big", Options{File: spec, Secrets: []secretsprovider.Source{{ID: "a", FilePath: big}}}, "--secret id=a,src=" + big + ": 512001 bytes"},
		{"secret variable unset", Options{File: spec, Secrets: []secretsprovider.Source{{ID: "a", Env: "FFE_TEST_UNSET"}}}, "--secret id=a,env=FFE_TEST_UNSET: the variable FFE_TEST_UNSET is not set"},
		{"secret named nowhere", Options{File: spec, Secrets: []secretsprovider.Source{{ID: "nothing"}}}, "--secret id=nothing (no src=FILE or env=VAR: the file nothing): no such file or folder"},
		{"secret named as a folder", Options{File: spec, Secrets: []secretsprovider.Source{{ID: "."}}}, "--secret id=. (no src=FILE or env=VAR: the file .): a folder, not a file"},
		{"platforms", Options{File: spec, Platforms: []string{"linux/amd64,linux/arm64", "linux/arm/v7", "linux/x86_64"}}, ""},
		{"unknown platform", Options{File: spec, Platforms: []string{"linux/amd64,linux/bogus"}}, "--platform linux/bogus: platform linux/bogus has no Flatpak architecture"},
		{"bad platform", Options{File: spec, Platforms: []string{"linux/amd64/v2/x"}}, "--platform linux/amd64/v2/x: "},
		{"progress modes", Options{File: spec, Progress: "plain"}, ""},
		{"unknown progress", Options{File: spec, Progress: "fancy"}, "--progress fancy: want auto, tty, plain or quiet"},
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

// TestCheckSaysAnUnknownLayoutTag: oci-layout://DIR:TAG names an image
// of index.json; one it does not name is said before a daemon is reached.
func TestCheckSaysAnUnknownLayoutTag(t *testing.T) {
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	if err := os.MkdirAll(layout, 0o755); err != nil {
		t.Fatal(err)
	}
	index := `{"schemaVersion":2,"manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("0", 64) + `","size":1,"annotations":{"org.opencontainers.image.ref.name":"f41"}},` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("1", 64) + `","size":1,"annotations":{"org.opencontainers.image.ref.name":"f42"}}]}`
	if err := os.WriteFile(filepath.Join(layout, "index.json"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "flatpak.yaml")
	if err := os.WriteFile(spec, []byte("id: org.example.A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (Options{File: spec, Contexts: map[string]string{"runtime": "oci-layout://" + layout + ":f41"}}).Check(); err != nil {
		t.Errorf("a known tag: %v", err)
	}
	err := Options{File: spec, Contexts: map[string]string{"runtime": "oci-layout://" + layout + ":f40"}}.Check()
	if err == nil || err.Error() != "--build-context runtime=oci-layout://"+layout+":f40: "+layout+"/index.json names no image f40 (the names it has: f41, f42)" {
		t.Errorf("an unknown tag: %v", err)
	}
}

// TestCheckTakesAnOCIArchiveAsALayout: an OCI archive (buildx's --output
// type=oci tar, skopeo's oci-archive:) is a layout, given as
// oci-layout://FILE, but no folder; a docker save archive or another tar
// is neither, and says what it is.
func TestCheckTakesAnOCIArchiveAsALayout(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "flatpak.yaml")
	if err := os.WriteFile(spec, []byte("id: org.example.A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	index := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":2}]}`
	for i, tc := range []struct {
		files   map[string]string
		context string // the value, with FILE for the archive
		want    string // "" for no error
	}{
		{map[string]string{"oci-layout": "{}", "index.json": index}, "oci-layout://FILE", ""},
		{map[string]string{"oci-layout": "{}", "index.json": index}, "FILE", "is not a folder but an OCI archive"},
		{map[string]string{"manifest.json": "[]", "repositories": "{}"}, "oci-layout://FILE", "is a docker save archive"},
		{map[string]string{"manifest.json": "[]", "repositories": "{}"}, "FILE", "is not a folder but a docker save archive"},
		{map[string]string{"README": "hi"}, "oci-layout://FILE", "a tar without index.json"},
		{map[string]string{"README": "hi"}, "FILE", "is not a folder"},
	} {
		p := filepath.Join(dir, fmt.Sprintf("%d.tar", i))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		tw := tar.NewWriter(f)
		for _, n := range slices.Sorted(maps.Keys(tc.files)) {
			body := tc.files[n]
			if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(body))}); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte(body))
		}
		tw.Close()
		f.Close()
		v := strings.Replace(tc.context, "FILE", p, 1)
		err = Options{File: spec, Contexts: map[string]string{"runtime": v}}.Check()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s of %v: %v", tc.context, slices.Sorted(maps.Keys(tc.files)), err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s of %v: %v, want %q", tc.context, slices.Sorted(maps.Keys(tc.files)), err, tc.want)
		}
	}
}
