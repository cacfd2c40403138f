package contentid

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
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
	base, err := treeID(tree(t), buildstep.ReportDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := treeID(tree(t), buildstep.ReportDir, nil)
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
			id, err := treeID(dir, buildstep.ReportDir, nil)
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
	if id, _ := treeID(dir, buildstep.ReportDir, nil); id != base {
		t.Errorf("the reports or a time changed the digest")
	}
}

// A known file's digest is taken while its stamp is the one known: the
// digest is the same as when it is read; once the file changed, it is read.
func TestTreeTakesKnownDigestsWhileTheStampHolds(t *testing.T) {
	dir := tree(t)
	want, err := treeID(dir, buildstep.ReportDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "share/data/a")
	known := func(digest string, algo int) map[string]buildstep.VerifiedFile {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		stamp, ok := buildstep.StampOf(fi)
		if !ok {
			t.Fatal("no stamp")
		}
		return map[string]buildstep.VerifiedFile{"share/data/a": {Path: "/app/share/data/a", DigestAlgo: algo, Digest: digest, Stamp: stamp}}
	}
	sum := sha256.Sum256([]byte("aaaa"))
	right := strings.ToUpper(hex.EncodeToString(sum[:]))
	if got, _ := Tree(dir, buildstep.ReportDir, known(right, buildstep.DigestSHA256)); got.ID != want || got.Known != 1 || got.Read != 1 {
		t.Errorf("with the right digest known: %+v, want %s, 1 file known and 1 read", got, want)
	}
	// A wrong digest shows which was used: the known one, not the file.
	wrong := strings.Repeat("0", 64)
	if got, _ := treeID(dir, buildstep.ReportDir, known(wrong, buildstep.DigestSHA256)); got == want {
		t.Error("a known digest was not used")
	}
	if got, _ := treeID(dir, buildstep.ReportDir, known(wrong, 10)); got != want {
		t.Error("a digest that is not SHA-256 was used")
	}
	// Rewritten in place, same size and mtime: the ctime moved.
	stale := known(wrong, buildstep.DigestSHA256)
	fi, _ := os.Stat(p)
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(p, []byte("aaab"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	fresh, _ := treeID(dir, buildstep.ReportDir, nil)
	if got, _ := treeID(dir, buildstep.ReportDir, stale); got != fresh || got == want {
		t.Errorf("a changed file's old digest was used: %s, want %s", got, fresh)
	}
}

// treeID is Tree's ID.
func treeID(dir, skip string, known map[string]buildstep.VerifiedFile) (string, error) {
	sum, err := Tree(dir, skip, known)
	return sum.ID, err
}

var time0 = time.Unix(12345, 0)
