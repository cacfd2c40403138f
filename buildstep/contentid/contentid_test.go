package contentid

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "share/data"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "bin/app"), []byte("binary"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "share/data/a"), []byte("aaaa"), 0o644))
	must(os.Symlink("app", filepath.Join(dir, "bin/link")))
	must(os.MkdirAll(filepath.Join(dir, buildstep.ReportDir), 0o755))
	must(os.WriteFile(filepath.Join(dir, buildstep.ReportDir, "install"), []byte("report"), 0o644))
	return dir
}

// The digest changes with any content, name, type, permission or link
// target, and not with the reports or with time.
func TestTreeChangesWithAnyContent(t *testing.T) {
	base, err := Tree(tree(t), buildstep.ReportDir)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Tree(tree(t), buildstep.ReportDir)
	if base != again {
		t.Fatalf("two equal trees: %s and %s", base, again)
	}
	for name, change := range map[string]func(dir string) error{
		"content, same size": func(d string) error { return os.WriteFile(filepath.Join(d, "share/data/a"), []byte("aaab"), 0o644) },
		"a new empty file":   func(d string) error { return os.WriteFile(filepath.Join(d, "share/new"), nil, 0o644) },
		"a permission":       func(d string) error { return os.Chmod(filepath.Join(d, "bin/app"), 0o700) },
		"a link target": func(d string) error {
			os.Remove(filepath.Join(d, "bin/link"))
			return os.Symlink("other", filepath.Join(d, "bin/link"))
		},
		"a name": func(d string) error {
			return os.Rename(filepath.Join(d, "share/data/a"), filepath.Join(d, "share/data/b"))
		},
		"an empty dir": func(d string) error { return os.Mkdir(filepath.Join(d, "share/empty"), 0o755) },
		"a file's type": func(d string) error {
			os.Remove(filepath.Join(d, "bin/link"))
			return os.WriteFile(filepath.Join(d, "bin/link"), []byte("app"), 0o777)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := tree(t)
			if err := change(dir); err != nil {
				t.Fatal(err)
			}
			id, err := Tree(dir, buildstep.ReportDir)
			if err != nil {
				t.Fatal(err)
			}
			if id == base {
				t.Errorf("the digest did not change")
			}
		})
	}
	dir := tree(t)
	os.WriteFile(filepath.Join(dir, buildstep.ReportDir, "install"), []byte("another report"), 0o644)
	os.Chtimes(filepath.Join(dir, "bin/app"), time0, time0)
	if id, _ := Tree(dir, buildstep.ReportDir); id != base {
		t.Errorf("the reports or a time changed the digest")
	}
}

func TestRunWritesTheFile(t *testing.T) {
	dir, out := tree(t), t.TempDir()
	if err := Run(&buildstep.ContentIDConfig{Dir: dir, Out: out}); err != nil {
		t.Fatal(err)
	}
	dt, err := os.ReadFile(filepath.Join(out, buildstep.ContentIDFile))
	want, _ := Tree(dir, buildstep.ReportDir)
	if err != nil || string(dt) != want+"\n" || len(dt) != buildstep.ContentIDFileSize {
		t.Errorf("wrote %q (%v), want %q", dt, err, want)
	}
}

var time0 = time.Unix(12345, 0)
