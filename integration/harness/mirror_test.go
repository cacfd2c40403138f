package harness

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMirrorInReadsBothAptFormats(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, text, want string }{
		{"sources.list", "# comment\ndeb http://security.debian.org/debian-security bookworm-security main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n", "http://mirror.example/debian"},
		{"debian.sources", "Types: deb\nURIs: http://deb.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://deb.example/debian-security\nSuites: bookworm-security\n", "http://deb.example/debian"},
		{"last.sources", "Types: deb\nURIs: http://last.example/debian\nSuites: bookworm\n", "http://last.example/debian"},
		{"other.list", "deb http://x.example/ubuntu jammy main\n", ""},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := mirrorIn(p); got != c.want {
			t.Errorf("%s: mirror %q, want %q", c.name, got, c.want)
		}
	}
}

func TestFindRPMDoesNotConfuseNamePrefixes(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"hello-data-1.0-1.noarch.rpm", "hello-1.0-1.noarch.rpm", "hello-extra-1.0-1.noarch.rpm"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"hello": "hello-1.0-1.noarch.rpm", "hello-data": "hello-data-1.0-1.noarch.rpm"} {
		got, err := findRPM(dir, name)
		if err != nil || filepath.Base(got) != want {
			t.Errorf("findRPM(%s) = %s, %v; want %s", name, got, err, want)
		}
	}
}
