package filecheck

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

func TestCheckFindsWhatIsNotWhereRPMPutIt(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	outside := filepath.Join(dir, "runtime-share")
	for _, d := range []string{app + "/bin", app + "/lib", outside} {
		os.MkdirAll(d, 0o755)
	}
	write := func(p, s string) string {
		os.WriteFile(p, []byte(s), 0o644)
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	file := func(path, content string, flags uint32) buildstep.PackagedFile {
		sum := sha256.Sum256([]byte(content))
		return buildstep.PackagedFile{Package: "p", Path: path, Mode: 0o100644, Size: int64(len(content)), DigestAlgo: 8, Digest: hex.EncodeToString(sum[:]), Flags: flags}
	}
	write(app+"/bin/ok", "ok")
	write(app+"/bin/edited", "EDITED")
	write(app+"/bin/config", "edited by a scriptlet")
	// A package made /app/share a symlink out of the tree: what the next
	// package installed below it landed outside.
	os.Symlink(outside, app+"/share")
	write(outside+"/data", "data")
	os.Symlink("ok", app+"/bin/link")
	os.Mkdir(app+"/lib/replaced", 0o755)
	// A symlink to a folder inside the tree is fine: rpm follows it.
	os.Symlink("lib", app+"/lib64")
	os.Symlink("/app/lib", app+"/libabs")
	write(app+"/lib/inlib", "in lib")

	files := []buildstep.PackagedFile{
		{Package: "p", Path: "/app/bin", Mode: 0o40755},
		file("/app/bin/ok", "ok", 0),
		file("/app/bin/edited", "edited", 0),
		file("/app/bin/config", "original", buildstep.FileFlagConfig),
		file("/app/bin/gone", "x", 0),
		file("/app/bin/ghost", "x", buildstep.FileFlagGhost),
		{Package: "p", Path: "/app/share", Mode: 0o40755},
		file("/app/share/data", "data", 0),
		{Package: "p", Path: "/app/bin/link", Mode: 0o120777, LinkTo: "elsewhere"},
		file("/app/lib/replaced", "x", 0),
		file("/usr/bin/not-below-the-prefix", "x", 0),
		{Package: "p", Path: "/app/lib64", Mode: 0o120777, LinkTo: "lib"},
		file("/app/lib64/inlib", "in lib", 0),
		file("/app/libabs/inlib", "in lib", 0),
		{Package: "p", Path: "/app/bin/not-installed", Mode: 0o100644, State: 2},
	}
	got := map[string]string{}
	for _, p := range Check(files, Tree{Dir: app, Prefix: "/app"}) {
		got[p.File.Path] = p.What
	}
	want := map[string]string{
		"/app/bin/edited":   "has changed content",
		"/app/bin/gone":     "is missing",
		"/app/share":        "was a folder, is a symlink",
		"/app/share/data":   "is not in the tree: the folder /app/share above it is a symlink to " + outside + ", outside /app",
		"/app/bin/link":     `points to "ok", not "elsewhere"`,
		"/app/lib/replaced": "was a file, is a folder",
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(got) != len(want) {
		t.Errorf("problems at %q, want %d", keys, len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
}

// TestCheckTrustingReadsOnlyWhatChanged: files verified by the last check
// whose inode, size, times are unchanged are not read again; a file
// rewritten since (same size, its mtime set back, as a scriptlet could) is
// read and found, and so is one replaced by another.
func TestCheckTrustingReadsOnlyWhatChanged(t *testing.T) {
	app := t.TempDir()
	file := func(name, content string) buildstep.PackagedFile {
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		return buildstep.PackagedFile{Package: "p", Path: "/app/" + name, Mode: 0o100644, Size: int64(len(content)), DigestAlgo: 8, Digest: hex.EncodeToString(sum[:])}
	}
	files := []buildstep.PackagedFile{file("a", "aaaa"), file("b", "bbbb"), file("c", "cccc"), file("d", "dddd")}
	tree := Tree{Dir: app, Prefix: "/app"}
	start := hashed.Load()
	problems, verified, _ := CheckTrusting(files, tree, Trust{})
	if len(problems) != 0 || len(verified) != 4 || hashed.Load()-start != 4 {
		t.Fatalf("first check: problems %v, %d verified, %d read; want none, 4, 4", problems, len(verified), hashed.Load()-start)
	}

	// Nothing changed: nothing is read.
	start = hashed.Load()
	if problems, verified, _ = CheckTrusting(files, tree, Trust{Verified: verified}); len(problems) != 0 || len(verified) != 4 || hashed.Load() != start {
		t.Fatalf("unchanged: problems %v, %d verified, %d read; want none, 4, 0", problems, len(verified), hashed.Load()-start)
	}

	// b rewritten in place, same size, its mtime set back; c replaced by
	// a new file of other content with c's size and mtime.
	fi, _ := os.Stat(filepath.Join(app, "b"))
	os.WriteFile(filepath.Join(app, "b"), []byte("BBBB"), 0o644)
	os.Chtimes(filepath.Join(app, "b"), fi.ModTime(), fi.ModTime())
	fi, _ = os.Stat(filepath.Join(app, "c"))
	os.WriteFile(filepath.Join(app, "c.new"), []byte("CCCC"), 0o644)
	os.Chtimes(filepath.Join(app, "c.new"), fi.ModTime(), fi.ModTime())
	os.Rename(filepath.Join(app, "c.new"), filepath.Join(app, "c"))
	start = hashed.Load()
	problems, verified, _ = CheckTrusting(files, tree, Trust{Verified: verified})
	got := map[string]string{}
	for _, p := range problems {
		got[p.File.Path] = p.What
	}
	if len(got) != 2 || got["/app/b"] != "has changed content" || got["/app/c"] != "has changed content" {
		t.Errorf("after b and c changed: problems %v", got)
	}
	if n := hashed.Load() - start; n != 2 {
		t.Errorf("read %d files, want 2 (b and c)", n)
	}
	if _, ok := verified["/app/b"]; ok || len(verified) != 2 {
		t.Errorf("verified after the change: %v, want a and d", verified)
	}

	// A trusted digest that is not the one rpm now records is no trust.
	a := verified["/app/a"]
	if a.Path != "/app/a" || a.DigestAlgo != files[0].DigestAlgo || a.Digest != files[0].Digest {
		t.Errorf("verified a: %+v, want its path, rpm's digest and algorithm", a)
	}
	verified["/app/a"] = buildstep.VerifiedFile{Path: a.Path, DigestAlgo: a.DigestAlgo, Stamp: a.Stamp, Digest: "00"}
	start = hashed.Load()
	CheckTrusting(files[:1], tree, Trust{Verified: verified})
	if hashed.Load()-start != 1 {
		t.Error("a file trusted with another digest was not read")
	}
	// Nor with the digest of another algorithm (a state from before the
	// algorithm was kept has none).
	verified["/app/a"] = buildstep.VerifiedFile{Path: a.Path, Stamp: a.Stamp, Digest: a.Digest}
	start = hashed.Load()
	CheckTrusting(files[:1], tree, Trust{Verified: verified})
	if hashed.Load()-start != 1 {
		t.Error("a file trusted with a digest of another algorithm was not read")
	}
}

// TestCheckTakesCommittedFilesAsRPMWroteThem: a file the install's watch
// vouches for is not read, unless it has another hard link (a write through
// that one is not seen) or not the size rpm records.
func TestCheckTakesCommittedFilesAsRPMWroteThem(t *testing.T) {
	app := t.TempDir()
	var files []buildstep.PackagedFile
	for _, name := range []string{"one", "linked", "short"} {
		content := name + "-content"
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		size := int64(len(content))
		if name == "short" {
			size++
		}
		files = append(files, buildstep.PackagedFile{Package: "p", Path: "/app/" + name, Mode: 0o100644, Size: size, DigestAlgo: 8, Digest: hex.EncodeToString(sum[:])})
	}
	if err := os.Link(filepath.Join(app, "linked"), filepath.Join(app, "other-link")); err != nil {
		t.Fatal(err)
	}
	committed := map[string]bool{}
	for _, name := range []string{"one", "linked", "short"} {
		committed[filepath.Join(app, name)] = true
	}
	problems, verified, counts := CheckTrusting(files, Tree{Dir: app, Prefix: "/app"}, Trust{Committed: committed})
	if counts.Trusted != 1 || counts.Read != 1 {
		t.Errorf("trusted %d, read %d; want 1 (one) and 1 (linked)", counts.Trusted, counts.Read)
	}
	if _, ok := verified["/app/one"]; !ok || len(verified) != 2 {
		t.Errorf("verified %v, want one and linked", verified)
	}
	if len(problems) != 1 || problems[0].File.Path != "/app/short" {
		t.Errorf("problems %v, want short's size", problems)
	}
}
