package install

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/filecheck"
)

// TestCommitWatchVouchesOnlyForWhatRPMWrote installs a real package with
// rpm into a watched folder: the files rpm committed and nothing touched
// after are vouched for; a file its %post rewrote in place (same size, its
// mtime set back) and one it replaced by a rename are not, and the check
// reads exactly those and finds them changed.
func TestCommitWatchVouchesOnlyForWhatRPMWrote(t *testing.T) {
	dir := t.TempDir()
	spec := `%install
mkdir -p %{buildroot}/app/share/deep/er
for f in a b c share/deep/er/d; do printf '%s\n' "$f-content" > %{buildroot}/app/$f; done
%post
P=$RPM_INSTALL_PREFIX
printf 'B' | dd of=$P/b conv=notrunc status=none
touch -d @0 $P/b
printf 'c-CONTENT\n' > $P/c.new && mv $P/c.new $P/c
%files
/app/a
/app/b
/app/c
/app/share
`
	// A relocatable package: rpm installs it below tree and runs its
	// scriptlet on this machine, with no root to chroot into.
	specPath := filepath.Join(dir, "watched.spec")
	head := "Name: watched\nVersion: 1.0\nRelease: 1\nSummary: w\nLicense: MIT\nBuildArch: noarch\nPrefix: /app\n%description\nw\n"
	if err := os.WriteFile(specPath, []byte(head+spec), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "rpmbuild", "-bb", "--define", "_topdir "+dir, specPath)
	pkg := filepath.Join(dir, "RPMS", "noarch", "watched-1.0-1.noarch.rpm")
	tree := filepath.Join(dir, "tree")
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	run(t, "rpm", "--dbpath", db, "--initdb")

	w := watchCommits(tree)
	run(t, "rpm", "--dbpath", db, "-i", "--nodeps", "--prefix", tree, pkg)
	committed, why := w.stop()
	if why != "" {
		t.Fatalf("the watch gave up: %s", why)
	}
	at := func(p string) string { return filepath.Join(tree, p) }
	if !committed[at("a")] {
		t.Errorf("a, which only rpm wrote, is not vouched for: %v", committed)
	}
	for _, p := range []string{"b", "c", "c.new"} {
		if committed[at(p)] {
			t.Errorf("%s, which the scriptlet wrote, is vouched for", p)
		}
	}
	if again, _ := w.stop(); len(again) != len(committed) {
		t.Error("a second stop says something else")
	}

	// The check reads what the watch does not vouch for, and finds b and
	// c changed.
	var files []buildstep.PackagedFile
	for _, p := range []string{"a", "b", "c", "share/deep/er/d"} {
		content := p + "-content\n"
		sum := sha256.Sum256([]byte(content))
		files = append(files, buildstep.PackagedFile{Package: "watched", Path: at(p), Mode: 0o100644,
			Size: int64(len(content)), DigestAlgo: buildstep.DigestSHA256, Digest: hex.EncodeToString(sum[:])})
	}
	problems, verified, counts := filecheck.CheckTrusting(files, filecheck.Tree{Dir: tree, Prefix: tree}, filecheck.Trust{Committed: committed})
	got := map[string]string{}
	for _, p := range problems {
		got[p.File.Path] = p.What
	}
	if len(got) != 2 || got[at("b")] != "has changed content" || got[at("c")] != "has changed content" {
		t.Errorf("problems %v, want b and c changed", got)
	}
	if _, ok := verified[at("a")]; !ok {
		t.Error("a is not verified")
	}
	if want := 4 - len(committed); counts.Read != want || counts.Trusted != len(committed) {
		t.Errorf("read %d files and trusted %d, want %d and %d", counts.Read, counts.Trusted, want, len(committed))
	}
}

func TestIsRPMTemporary(t *testing.T) {
	for _, c := range []struct {
		tmp, final string
		want       bool
	}{
		{"libfoo.so.1;6a1b2c3d", "libfoo.so.1", true},
		{"x;00000000", "x", true},
		{"x;6A1B2C3D", "x", false},
		{"x;6a1b2c3", "x", false},
		{"x;6a1b2c3d0", "x", false},
		{"y;6a1b2c3d", "x", false},
		{"x.new", "x", false},
		{"sedAbc123", "x", false},
	} {
		if got := isRPMTemporary(c.tmp, c.final); got != c.want {
			t.Errorf("isRPMTemporary(%q, %q) = %v", c.tmp, c.final, got)
		}
	}
}

// TestCommitWatchGivesUpOnAMovedFolder: a watched folder moved elsewhere in
// the tree makes the paths it knows wrong, so it vouches for nothing.
func TestCommitWatchGivesUpOnAMovedFolder(t *testing.T) {
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tree, "a/b"), 0o755); err != nil {
		t.Fatal(err)
	}
	w := watchCommits(tree)
	if err := os.Rename(filepath.Join(tree, "a/b"), filepath.Join(tree, "c")); err != nil {
		t.Fatal(err)
	}
	if committed, why := w.stop(); committed != nil || why == "" {
		t.Errorf("after a folder moved: %v, %q; want nothing and why", committed, why)
	}
}
