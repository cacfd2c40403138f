package install

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMirrorEndsAsOneCopyOfTheFinalTree copies a tree, changes it as an
// installer might (a file rewritten with its size and mtime kept, files
// added and removed, a link retargeted, a hard link added, a folder's
// mode, a file turned into a folder and back, extended attributes of a
// file and a folder), and requires the mirror to end as copyTree of the
// final tree does, with the untouched files not copied again.
func TestMirrorEndsAsOneCopyOfTheFinalTree(t *testing.T) {
	src, dst, want := t.TempDir(), filepath.Join(t.TempDir(), "out"), t.TempDir()
	write := func(rel, content string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write("bin/app", "#!/bin/sh\n", 0o755)
	write("lib/libx.so.1", "library", 0o644)
	write("share/data/a.txt", "aaaa", 0o644)
	write("share/data/b.txt", "bbbb", 0o600)
	write("share/data/gone.txt", "gone", 0o644)
	write("share/data/becomes-dir", "file", 0o644)
	write("share/locked/c.txt", "cccc", 0o644)
	write("share/olddir/d.txt", "dddd", 0o644)
	write("share/same.txt", "same content", 0o644)
	must(os.Chmod(filepath.Join(src, "share/locked"), 0o750))
	must(os.Symlink("libx.so.1", filepath.Join(src, "lib/libx.so")))
	must(os.Link(filepath.Join(src, "share/data/a.txt"), filepath.Join(src, "share/data/a-link.txt")))
	// Many files in nested folders, with hard links among them, as an
	// install has.
	for i := range 200 {
		write(fmt.Sprintf("share/many/%02d/f%d", i%7, i), strings.Repeat("x", i*97), 0o644)
	}
	must(os.Link(filepath.Join(src, "share/many/00/f0"), filepath.Join(src, "share/many/06/f0-link")))
	must(os.Link(filepath.Join(src, "share/many/00/f0"), filepath.Join(src, "share/many/03/f0-link")))
	// The first pass takes only entries whose ctime is older than a second.
	time.Sleep(1100 * time.Millisecond)

	// The step's reports, in the output beside the copy.
	must(os.MkdirAll(filepath.Join(dst, "reports"), 0o755))
	must(os.WriteFile(filepath.Join(dst, "reports", "report"), []byte("report"), 0o644))

	m := startMirror(t.Context(), src, dst)
	<-m.passed
	if len(m.copied) < 10 {
		t.Fatalf("the first pass copied %d entries", len(m.copied))
	}
	// A second link keeps the copy's inode from being reused if it were
	// removed and copied again.
	held := filepath.Join(t.TempDir(), "held")
	must(os.Link(filepath.Join(dst, "lib/libx.so.1"), held))
	untouched := inode(t, held)

	// Same size, same mtime, other content.
	same := filepath.Join(src, "share/same.txt")
	fi, _ := os.Stat(same)
	must(os.WriteFile(same, []byte("SAME CONTENT"), 0o644))
	must(os.Chtimes(same, fi.ModTime(), fi.ModTime()))
	write("share/data/new.txt", "new", 0o644)
	write("lib/plugins/p.so", "plugin", 0o755)
	must(os.Remove(filepath.Join(src, "share/data/gone.txt")))
	must(os.Remove(filepath.Join(src, "lib/libx.so")))
	must(os.Symlink("libx.so.2", filepath.Join(src, "lib/libx.so")))
	must(os.Link(filepath.Join(src, "bin/app"), filepath.Join(src, "bin/app-again")))
	for i := range 50 {
		write(fmt.Sprintf("share/many/new/f%d", i), strings.Repeat("y", i*89), 0o644)
	}
	must(os.Link(filepath.Join(src, "share/many/new/f1"), filepath.Join(src, "share/many/new/f1-link")))
	must(os.Chmod(filepath.Join(src, "share/locked"), 0o700))
	must(os.Remove(filepath.Join(src, "share/data/becomes-dir")))
	write("share/data/becomes-dir/inside.txt", "inside", 0o644)
	must(os.RemoveAll(filepath.Join(src, "share/olddir")))
	write("share/olddir", "now a file", 0o644)
	must(unix.Lsetxattr(filepath.Join(src, "share/data/b.txt"), "user.test", []byte("value"), 0))
	must(unix.Lsetxattr(filepath.Join(src, "share/locked"), "user.folder", []byte("value"), 0))

	if err := m.finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	if dt, err := os.ReadFile(filepath.Join(dst, "reports", "report")); string(dt) != "report" {
		t.Errorf("the output's report after the mirror: %q, %v", dt, err)
	}
	must(os.RemoveAll(filepath.Join(dst, "reports")))
	if err := copyTree(t.Context(), src, want); err != nil {
		t.Fatal(err)
	}
	if got, exp := describeTree(t, dst), describeTree(t, want); got != exp {
		t.Errorf("the mirror:\n%s\none copy of the final tree:\n%s", got, exp)
	}
	for p, name := range map[string]string{"share/data/b.txt": "user.test", "share/locked": "user.folder"} {
		v := make([]byte, 16)
		if n, err := unix.Lgetxattr(filepath.Join(dst, p), name, v); err != nil || string(v[:n]) != "value" {
			t.Errorf("the extended attribute added to %s: %q, %v", p, v[:max(n, 0)], err)
		}
	}
	if inode(t, filepath.Join(dst, "lib/libx.so.1")) != untouched {
		t.Error("an untouched file was copied again")
	}
}

// TestMirrorCopiesWhatTheFirstPassLeft: entries changed less than a second
// before the first pass saw them, and all of them when finish stops it
// at once, are copied by finish.
func TestMirrorCopiesWhatTheFirstPassLeft(t *testing.T) {
	src, dst, want := t.TempDir(), filepath.Join(t.TempDir(), "out"), t.TempDir()
	for i := range 50 {
		p := filepath.Join(src, fmt.Sprintf("d%d/f%d", i%5, i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, 1000*i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := startMirror(t.Context(), src, dst)
	if err := m.finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(t.Context(), src, want); err != nil {
		t.Fatal(err)
	}
	if got, exp := describeTree(t, dst), describeTree(t, want); got != exp {
		t.Errorf("the mirror:\n%s\none copy:\n%s", got, exp)
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// describeTree lists every entry below root (not root itself) with its
// type, mode, owner, mtime, content or link target, extended attributes
// and the entries it shares its inode with.
func describeTree(t *testing.T, root string) string {
	t.Helper()
	var b bytes.Buffer
	byIno := map[uint64]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s %v %d:%d mtime=%d", rel, fi.Mode(), st.Uid, st.Gid, st.Mtim.Nano())
		switch {
		case fi.Mode().IsRegular():
			dt, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %q", dt)
			if st.Nlink > 1 {
				if first, ok := byIno[st.Ino]; ok {
					fmt.Fprintf(&b, " linked to %s", first)
				} else {
					byIno[st.Ino] = rel
				}
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			fmt.Fprintf(&b, " -> %s", l)
		}
		if sz, err := unix.Llistxattr(p, nil); err == nil && sz > 0 {
			buf := make([]byte, sz)
			sz, _ = unix.Llistxattr(p, buf)
			for _, n := range splitNul(buf[:sz]) {
				v := make([]byte, 256)
				vsz, _ := unix.Lgetxattr(p, n, v)
				fmt.Fprintf(&b, " %s=%q", n, v[:max(vsz, 0)])
			}
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
