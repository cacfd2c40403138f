package install

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	fscopy "github.com/tonistiigi/fsutil/copy"
	"golang.org/x/sys/unix"
)

// A mirror copies a tree (the kept install) to a folder (the step's
// output) while the installer still changes it, and afterwards brings the
// copy to the tree as it then is, copying again only what changed: the
// copy of an install of 1.2 GB costs seconds of writing, which then run
// beside the installer instead of after it.
//
// A cold install starts from an empty tree: the install's watch tells the
// mirror of each file rpm commits, and the mirror copies it at once (the
// file is still in the page cache). finish copies such a file again when
// the watch saw an event on it after that commit.
//
// What changed is known by each entry's inode stamp (inode, size, mtime,
// ctime) taken before its copy: any write, chmod, chown, rename or link
// moves the ctime, which only the kernel sets. An entry that is new, or
// whose stamp moved, is copied again; what the tree no longer holds is
// removed; folders get their modes, owners and times last. The result is
// what one copy of the final tree makes (copyTree): modes, owners, times,
// extended attributes and hard links.
type mirror struct {
	src, dst string
	cancel   context.CancelFunc
	done     chan struct{}
	// passed is closed once the first pass is done.
	passed chan struct{}
	// copied is the stamp each entry but a folder had before the first
	// pass copied it, by path relative to src; made is what the first
	// pass made in dst (true: a folder). What else dst holds (the step's
	// reports) is left as it is.
	copied map[string]entryStamp
	made   map[string]bool

	// commits are the files rpm committed, from the install's watch,
	// which the mirror copies as they come once its first pass is done;
	// gens is the watch's event number of each such copy, by path
	// relative to src. finish copies again a file with a later event.
	commits chan commit
	gens    map[string]uint64
	watch   *commitWatch
}

type commit struct {
	path string
	gen  uint64
}

// entryStamp is what an entry's inode says of it.
type entryStamp struct {
	ino          uint64
	mode         uint32
	size         int64
	mtime, ctime int64
}

func stampEntry(fi fs.FileInfo) (entryStamp, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return entryStamp{}, false
	}
	return entryStamp{ino: st.Ino, mode: st.Mode, size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}, true
}

// startMirror starts copying src into the folder dst (made if missing).
func startMirror(ctx context.Context, src, dst string) *mirror {
	ctx, cancel := context.WithCancel(ctx)
	m := &mirror{src: src, dst: dst, cancel: cancel, done: make(chan struct{}), passed: make(chan struct{}),
		copied: map[string]entryStamp{}, made: map[string]bool{},
		commits: make(chan commit, 1<<14), gens: map[string]uint64{}}
	go func() {
		defer close(m.done)
		// A failure here only leaves more for finish to copy.
		err := m.firstPass(ctx)
		close(m.passed)
		if err != nil {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-m.commits:
				m.copyCommitted(ctx, c)
			}
		}
	}()
	return m
}

// committed is told by the install's watch that rpm committed path; it
// never blocks (a commit it cannot queue is left to finish).
func (m *mirror) committed(path string, gen uint64) {
	select {
	case m.commits <- commit{path, gen}:
	default:
	}
}

// copyCommitted copies a file rpm committed, with the folders above it;
// a file with other links is left to finish, which keeps them linked.
func (m *mirror) copyCommitted(ctx context.Context, c commit) {
	rel, err := filepath.Rel(m.src, c.path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "../") {
		return
	}
	fi, err := os.Lstat(c.path)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	st, ok := stampEntry(fi)
	if !ok || fi.Sys().(*syscall.Stat_t).Nlink > 1 {
		return
	}
	var parents []string
	for dir := filepath.Dir(rel); dir != "." && !m.made[dir]; dir = filepath.Dir(dir) {
		parents = append(parents, dir)
	}
	for _, dir := range slices.Backward(parents) {
		if err := os.Mkdir(filepath.Join(m.dst, dir), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return
		}
		m.made[dir] = true
	}
	delete(m.copied, rel)
	delete(m.gens, rel)
	if err := os.Remove(filepath.Join(m.dst, rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return
	}
	m.made[rel] = false
	if err := copyEntry(ctx, m.src, m.dst, rel, fi, map[uint64]string{}); err != nil {
		return
	}
	m.copied[rel] = st
	m.gens[rel] = c.gen
}

// firstPass copies what it finds, noting each entry's stamp before its
// copy; an entry that changes or goes while it runs is left to finish.
func (m *mirror) firstPass(ctx context.Context) error {
	if err := os.MkdirAll(m.dst, 0o755); err != nil {
		return err
	}
	links := map[uint64]string{}
	return filepath.WalkDir(m.src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(m.src, p)
		if err != nil || rel == "." {
			return err
		}
		if d.IsDir() {
			if err := os.Mkdir(filepath.Join(m.dst, rel), 0o755); err != nil {
				return err
			}
			m.made[rel] = true
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := stampEntry(fi)
		// An entry changed in the last second is left to finish: its
		// next change could fall in the same tick of a coarse clock and
		// leave its ctime as it is.
		if !ok || time.Now().UnixNano()-st.ctime < int64(time.Second) {
			return nil
		}
		m.made[rel] = false
		if err := copyEntry(ctx, m.src, m.dst, rel, fi, links); err != nil {
			return nil
		}
		m.copied[rel] = st
		return nil
	})
}

// stop stops the first pass and waits for it.
func (m *mirror) stop() {
	m.cancel()
	<-m.done
}

// finish stops the first pass and brings dst to what src holds now.
func (m *mirror) finish(ctx context.Context) error {
	m.stop()
	if err := os.MkdirAll(m.dst, 0o755); err != nil {
		return err
	}
	type entry struct {
		rel string
		fi  fs.FileInfo
	}
	var dirs, changed []entry
	// isDir is what src holds, by path: a folder or not.
	isDir := map[string]bool{}
	links := map[uint64]string{}
	err := filepath.WalkDir(m.src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(m.src, p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		isDir[rel] = d.IsDir()
		if rel == "." {
			// The output's own folder keeps its metadata, as in copyTree.
			return nil
		}
		if d.IsDir() {
			dirs = append(dirs, entry{rel, fi})
			return nil
		}
		st, ok := stampEntry(fi)
		if was, copied := m.copied[rel]; ok && copied && was == st && m.unchangedSinceCommit(rel) {
			if dfi, err := os.Lstat(filepath.Join(m.dst, rel)); err == nil && dfi.Mode().Type() == fi.Mode().Type() {
				// Kept: later links to its inode link to it.
				if fi.Mode().IsRegular() {
					if s := fi.Sys().(*syscall.Stat_t); s.Nlink > 1 {
						links[s.Ino] = filepath.Join(m.dst, rel)
					}
				}
				return nil
			}
		}
		changed = append(changed, entry{rel, fi})
		return nil
	})
	if err != nil {
		return err
	}
	// What the first pass made that src no longer holds, or holds as
	// another type.
	for _, rel := range slices.Sorted(maps.Keys(m.made)) {
		if dir, ok := isDir[rel]; !ok || dir != m.made[rel] {
			if err := os.RemoveAll(filepath.Join(m.dst, rel)); err != nil {
				return err
			}
		}
	}
	for _, e := range dirs {
		if err := os.Mkdir(filepath.Join(m.dst, e.rel), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	for _, e := range changed {
		if err := os.Remove(filepath.Join(m.dst, e.rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := copyEntry(ctx, m.src, m.dst, e.rel, e.fi, links); err != nil {
			return err
		}
	}
	// Folders last, the deepest first: adding to a folder moves its mtime.
	slices.Reverse(dirs)
	for _, e := range dirs {
		if err := copyDirInfo(filepath.Join(m.src, e.rel), filepath.Join(m.dst, e.rel), e.fi); err != nil {
			return err
		}
	}
	return nil
}

// unchangedSinceCommit says whether the watch saw no event on rel after
// the commit its copy was made for; true for what the first pass copied.
func (m *mirror) unchangedSinceCommit(rel string) bool {
	want, ok := m.gens[rel]
	if !ok {
		return true
	}
	got, ok := m.watch.genOf(filepath.Join(m.src, rel))
	return ok && got == want
}

// copyEntry copies the entry rel of srcRoot, not a folder, to dstRoot as
// copyTree does; a regular file with more than one link is linked to the
// copy of its inode made before (links, by source inode).
func copyEntry(ctx context.Context, srcRoot, dstRoot, rel string, fi fs.FileInfo, links map[uint64]string) error {
	dst := filepath.Join(dstRoot, rel)
	st, _ := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().IsRegular() && st != nil && st.Nlink > 1 {
		if first, ok := links[st.Ino]; ok {
			return os.Link(first, dst)
		}
	}
	if err := fscopy.Copy(ctx, srcRoot, rel, dstRoot, rel, fscopy.AllowXAttrErrors); err != nil {
		return err
	}
	if fi.Mode().IsRegular() && st != nil && st.Nlink > 1 {
		links[st.Ino] = dst
	}
	return nil
}

// copyDirInfo gives the folder dst src's mode, owner, extended attributes
// and times.
func copyDirInfo(src, dst string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("no inode data for " + src)
	}
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if err := unix.Chmod(dst, st.Mode&07777); err != nil {
		return err
	}
	if err := copyXattrs(src, dst); err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(st.Atim.Nano()), unix.NsecToTimespec(st.Mtim.Nano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// copyXattrs copies src's extended attributes to dst; those dst's file
// system refuses are left out, as copyTree leaves them.
func copyXattrs(src, dst string) error {
	sz, err := unix.Llistxattr(src, nil)
	if err != nil || sz == 0 {
		return nil
	}
	buf := make([]byte, sz)
	if sz, err = unix.Llistxattr(src, buf); err != nil {
		return nil
	}
	for _, name := range splitNul(buf[:sz]) {
		vsz, err := unix.Lgetxattr(src, name, nil)
		if err != nil {
			continue
		}
		v := make([]byte, vsz)
		if vsz, err = unix.Lgetxattr(src, name, v); err != nil {
			continue
		}
		_ = unix.Lsetxattr(dst, name, v[:vsz], 0)
	}
	return nil
}

// splitNul splits a NUL-separated list (of extended attribute names).
func splitNul(b []byte) []string {
	return slices.DeleteFunc(strings.Split(string(b), "\x00"), func(s string) bool { return s == "" })
}
