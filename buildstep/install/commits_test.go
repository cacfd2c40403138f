package install

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

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
	pkg := relocatable(t, dir, spec)
	tree := filepath.Join(dir, "tree")
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	run(t, "rpm", "--dbpath", db, "--initdb")

	w := watchCommits(tree, nil)
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
	w := watchCommits(tree, nil)
	if err := os.Rename(filepath.Join(tree, "a/b"), filepath.Join(tree, "c")); err != nil {
		t.Fatal(err)
	}
	if committed, why := w.stop(); committed != nil || why == "" {
		t.Errorf("after a folder moved: %v, %q; want nothing and why", committed, why)
	}
}

// relocatable builds the package "watched" with body (%install, %post,
// %files), relocatable below /app: rpm installs it with --prefix and runs
// its scriptlets on this machine, with no root to chroot into.
func relocatable(t *testing.T, dir, body string) string {
	t.Helper()
	return rpmbuildWith(t, dir, "watched", "Prefix: /app\n", body)
}

// TestMirrorCopiesCommitsAsTheyCome: a mirror started on an empty tree and
// told of rpm's commits by the watch copies the committed files while rpm
// runs, and ends as one copy of the final tree although the scriptlet
// rewrote a committed file at once (same size, its mtime set back, likely
// in the same clock tick as its copy), changed another's mode and the
// package has hard links.
func TestMirrorCopiesCommitsAsTheyCome(t *testing.T) {
	dir := t.TempDir()
	pkg := relocatable(t, dir, `%install
mkdir -p %{buildroot}/app/lib/deep %{buildroot}/app/bin
for f in a b c lib/deep/d bin/tool; do printf '%s\n' "$f-content" > %{buildroot}/app/$f; done
ln %{buildroot}/app/c %{buildroot}/app/c-link
ln -s deep/d %{buildroot}/app/lib/d-link
%post
P=$RPM_INSTALL_PREFIX
printf 'B' | dd of=$P/b conv=notrunc status=none
touch -d @0 $P/b
chmod 700 $P/bin/tool
%files
/app
`)
	tree, out, want := filepath.Join(dir, "tree"), filepath.Join(dir, "out"), t.TempDir()
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	run(t, "rpm", "--dbpath", db, "--initdb")

	m := startMirror(t.Context(), tree, out)
	w := watchCommits(tree, m.committed)
	m.watch = w
	run(t, "rpm", "--dbpath", db, "-i", "--nodeps", "--prefix", tree, pkg)
	committed, why := w.stop()
	if why != "" {
		t.Fatalf("the watch gave up: %s", why)
	}
	// What is still queued would be left to finish: let the mirror get
	// to it, to see that it copies what rpm committed.
	for deadline := time.Now().Add(5 * time.Second); len(m.commits) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if err := m.finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"a", "lib/deep/d"} {
		if _, ok := m.gens[rel]; !ok && committed[filepath.Join(tree, rel)] {
			t.Errorf("%s, committed, was not copied as rpm committed it (copied so: %v)", rel, m.gens)
		}
	}
	if _, ok := m.gens["a"]; !ok {
		t.Errorf("a was not copied as rpm committed it (copied so: %v)", m.gens)
	}
	if err := copyTree(t.Context(), tree, want); err != nil {
		t.Fatal(err)
	}
	if got, exp := describeTree(t, out), describeTree(t, want); got != exp {
		t.Errorf("the mirror:\n%s\none copy of the final tree:\n%s", got, exp)
	}
}

// TestCommitWatchNamesFilesItSawLate: the files already in a folder the
// watch saw only after it came (rpm can fill a small package's new folder
// before the watch's reader runs) are neither committed nor forgotten:
// they are unseen, until an event shows them.
func TestCommitWatchNamesFilesItSawLate(t *testing.T) {
	tree, outside := t.TempDir(), t.TempDir()
	w := watchCommits(tree, nil)
	n := filepath.Join(outside, "n")
	for name, content := range map[string]string{"x": "x\n", "y;6a1b2c3d": "y\n", "deeper/z": "z\n"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(n, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(n, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(n, filepath.Join(tree, "n")); err != nil {
		t.Fatal(err)
	}
	// rpm commits y once the watch follows the folder.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		w.mu.Lock()
		watched := slices.Contains(slices.Collect(maps.Values(w.dirs)), filepath.Join(tree, "n"))
		w.mu.Unlock()
		if watched {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watch did not see the folder come")
		}
	}
	if err := os.Rename(filepath.Join(tree, "n/y;6a1b2c3d"), filepath.Join(tree, "n/y")); err != nil {
		t.Fatal(err)
	}
	committed, unseen, why := w.stopUnseen()
	if why != "" {
		t.Fatal(why)
	}
	if want := map[string]bool{filepath.Join(tree, "n/y"): true}; !maps.Equal(committed, want) {
		t.Errorf("committed %v, want %v", committed, want)
	}
	if want := map[string]bool{filepath.Join(tree, "n/x"): true, filepath.Join(tree, "n/deeper/z"): true}; !maps.Equal(unseen, want) {
		t.Errorf("unseen %v, want %v", unseen, want)
	}
}
