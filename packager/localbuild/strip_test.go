package localbuild

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

// TestStripELFRuns: a Go program as go build makes it (with its debug
// information), stripped, is smaller, has no section headers and still
// runs, and panics with a symbolized trace (Go's tables are loaded).
func TestStripELFRuns(t *testing.T) {
	dir := t.TempDir()
	src := "package main\n\nimport \"os\"\n\nfunc main() {\n\tif len(os.Args) > 1 {\n\t\tpanic(\"asked to\")\n\t}\n\tprintln(\"hello from the stripped binary\")\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644)
	exe := filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-o", exe, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "stripped")
	if err := stripELF(exe, out); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(exe)
	after, _ := os.Stat(out)
	if after.Size() >= before.Size()*9/10 {
		t.Errorf("stripped %d bytes to %d: want at least a tenth less", before.Size(), after.Size())
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatalf("the stripped binary is no ELF: %v", err)
	}
	if len(f.Sections) != 0 {
		t.Errorf("the stripped binary has %d sections", len(f.Sections))
	}
	f.Close()
	got, err := exec.Command(out).CombinedOutput()
	if err != nil || !strings.Contains(string(got), "hello from the stripped binary") {
		t.Fatalf("the stripped binary: %v\n%s", err, got)
	}
	got, _ = exec.Command(out, "panic").CombinedOutput()
	if !strings.Contains(string(got), "main.main") {
		t.Errorf("the stripped binary's panic names no function:\n%s", got)
	}
	// Not an ELF: refused, so the caller sends the file as it is.
	notELF := filepath.Join(t.TempDir(), "script")
	os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755)
	if err := stripELF(notELF, out+".2"); err == nil {
		t.Error("a shell script was stripped")
	}
}

// TestBundleOnceForConcurrentBuilds: builds starting at once each get the
// same whole folder, with the stripped binary in it.
func TestBundleOnceForConcurrentBuilds(t *testing.T) {
	t.Setenv(buildkitd.CacheEnv, t.TempDir())
	exe, sum := testBinary(t)
	dirs := make(chan string, 8)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			d, err := bundle(exe, sum, "")
			dirs <- d
			errs <- err
		}()
	}
	var first string
	for range 8 {
		d, err := <-dirs, <-errs
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = d
		} else if d != first {
			t.Errorf("bundles in %s and %s", first, d)
		}
	}
	if _, err := os.Stat(filepath.Join(first, "complete")); err != nil {
		t.Error("the bundle is not marked complete")
	}
	if fi, err := os.Stat(filepath.Join(first, bundledName)); err != nil || fi.Size() == 0 {
		t.Errorf("the bundle lacks the binary: %v", err)
	}
	left, _ := filepath.Glob(first + ".tmp-*")
	if len(left) > 0 {
		t.Errorf("scratch folders left: %v", left)
	}
}

// TestHelperOfARenamedCopyRunsFromItsBundle: two copies of one binary under
// other names share a bundle (it is found by the digest), and each one's
// helper names the binary the bundle holds.
func TestHelperOfARenamedCopyRunsFromItsBundle(t *testing.T) {
	t.Setenv(buildkitd.CacheEnv, t.TempDir())
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dt, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"first-name", "second-name"} {
		copyExe := filepath.Join(dir, name)
		if err := os.WriteFile(copyExe, dt, 0o755); err != nil {
			t.Fatal(err)
		}
		h, err := NewHelper(copyExe)
		if err != nil {
			t.Fatal(err)
		}
		bin := h.Spec.Args[len(h.Spec.Args)-1]
		f, err := h.FS.Open(bin)
		if err != nil {
			t.Errorf("%s: the helper runs %s, which the folder it sends lacks: %v", name, bin, err)
			continue
		}
		f.Close()
	}
}

// The helper binary's digest is kept under its path and inode stamp: read
// once, taken from the cache while the file is the same, read again once
// it changed (in place, same size and mtime: its ctime moved).
func TestExeDigestIsKeptUntilTheFileChanges(t *testing.T) {
	t.Setenv(buildkitd.CacheEnv, t.TempDir())
	exe := filepath.Join(t.TempDir(), "flatpak-frontend")
	if err := os.WriteFile(exe, []byte("version one"), 0o755); err != nil {
		t.Fatal(err)
	}
	want, _ := fileDigest(exe)
	if got, err := exeDigest(exe); err != nil || got != want {
		t.Fatalf("exeDigest %q, %v; want %q", got, err, want)
	}
	memos, _ := filepath.Glob(filepath.Join(os.Getenv(buildkitd.CacheEnv), "helper", "sum-*"))
	if len(memos) != 1 {
		t.Fatalf("memos %v, want one", memos)
	}
	// What the cache says is what is used while the stamp holds.
	kept := strings.Repeat("ab", 32)
	if err := os.WriteFile(memos[0], []byte(kept), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := exeDigest(exe); got != kept {
		t.Fatalf("exeDigest %q, want the kept %q", got, kept)
	}
	fi, _ := os.Stat(exe)
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(exe, []byte("version two"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(exe, fi.ModTime(), fi.ModTime())
	want, _ = fileDigest(exe)
	if got, _ := exeDigest(exe); got != want {
		t.Errorf("after the binary changed: %q, want %q", got, want)
	}
}

// TestNewBundleRemovesTheUnusedOnes: a new binary's bundle removes the old
// bundles but the three last used and any used within the hour (a build
// may be sending it), the folders of builds stopped while bundling, and
// old digest memos; reusing a bundle marks it used.
func TestNewBundleRemovesTheUnusedOnes(t *testing.T) {
	t.Setenv(buildkitd.CacheEnv, t.TempDir())
	dir := filepath.Join(os.Getenv(buildkitd.CacheEnv), "helper")
	now := time.Now()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	bundleAt := func(name string, used time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(p, "lib"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{bundledName, "complete"} {
			if err := os.WriteFile(filepath.Join(p, f), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(filepath.Join(p, "complete"), used, used); err != nil {
			t.Fatal(err)
		}
	}
	fileAt := func(name string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	left := func() []string {
		var names []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	// The three last used stay, however old.
	bundleAt("a-bundle", ago(2*time.Hour))
	bundleAt("b-bundle", ago(5*24*time.Hour))
	bundleAt("c-bundle", ago(3*time.Hour))
	bundleAt("d-bundle", ago(4*time.Hour))
	bundleAt("e-bundle", ago(10*time.Minute))
	fileAt("g-bundle.tmp-1/"+bundledName, ago(2*time.Hour))
	if err := os.Chtimes(filepath.Join(dir, "g-bundle.tmp-1"), ago(2*time.Hour), ago(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	fileAt("h-bundle.tmp-2/"+bundledName, ago(time.Minute))
	// A bundle whose removal stopped after its mark went.
	fileAt("j-bundle/"+bundledName, ago(2*time.Hour))
	if err := os.Chtimes(filepath.Join(dir, "j-bundle"), ago(2*time.Hour), ago(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	fileAt("sum-old", ago(40*24*time.Hour))
	fileAt("sum-new", ago(24*time.Hour))
	pruneBundles(dir, now)
	if got, want := left(), []string{"a-bundle", "c-bundle", "e-bundle", "h-bundle.tmp-2", "sum-new"}; !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}

	// Any used within the hour stays too.
	bundleAt("f-bundle", ago(20*time.Minute))
	bundleAt("i-bundle", ago(50*time.Minute))
	// A bundle marked used an hour ago is marked again when used.
	exe, sum := testBinary(t)
	reused := sum[:16] + "-bundle"
	bundleAt(reused, ago(time.Hour))
	if d, err := bundle(exe, sum, ""); err != nil || filepath.Base(d) != reused {
		t.Fatalf("bundle: %s, %v; want the existing %s", d, err, reused)
	}
	if fi, err := os.Stat(filepath.Join(dir, reused, "complete")); err != nil || now.Sub(fi.ModTime()) > time.Minute {
		t.Fatalf("a reused bundle's use is not marked: %v", err)
	}

	pruneBundles(dir, now)
	want := []string{"e-bundle", "f-bundle", "h-bundle.tmp-2", "i-bundle", reused, "sum-new"}
	slices.Sort(want)
	if got := left(); !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
}

// TestBundleReplacesOneLeftHalfRemoved: a bundle folder without its mark
// (a removal stopped half way) is made again, not refused for ever.
func TestBundleReplacesOneLeftHalfRemoved(t *testing.T) {
	t.Setenv(buildkitd.CacheEnv, t.TempDir())
	exe, sum := testBinary(t)
	stale := filepath.Join(os.Getenv(buildkitd.CacheEnv), "helper", sum[:16]+"-bundle")
	if err := os.MkdirAll(filepath.Join(stale, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, bundledName), []byte("half"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := bundle(exe, sum, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "complete")); err != nil {
		t.Fatalf("the bundle is not marked complete: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(d, bundledName)); err != nil || fi.Size() < 1000 {
		t.Fatalf("the bundle holds the half-removed binary: %v", err)
	}
}

// testBinary is this test binary and its digest.
func testBinary(t *testing.T) (exe, sum string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if sum, err = fileDigest(exe); err != nil {
		t.Fatal(err)
	}
	return exe, sum
}
