package install

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// commitWatch watches a folder while the installer runs, to learn which
// regular files rpm committed and nothing wrote to since.
//
// rpm writes each regular file of a package under a temporary name (the
// final name and ";" and the transaction id as 8 hex digits), comparing
// what it writes with the digest the package's header records (it fails
// the install with "Digest mismatch" otherwise), and once the whole
// payload is unpacked renames every file to its final name. A file whose
// last event is that rename has the content rpm verified; a write, a
// truncation, a create or a rename of anything else to that name after it
// means the file must be read again. The check then hashes only the files
// this cannot vouch for: the others' digests are rpm's.
//
// It trusts nothing when it cannot follow everything: the kernel's event
// queue overflowed, a watch could not be added, a watched folder was
// moved. A folder created while it runs is watched from when its event is
// read; a file renamed into place before that has no commit event and is
// read again (unseen says which: rpm can fill a small package's new
// folder before the watch's reader runs, the more so on a busy machine).
// What it cannot see: writes through a hard link from outside the watched
// folder or through another mount of it, and writes through a shared
// mapping after the file was closed (inotify reports neither).
type commitWatch struct {
	fd   int
	wake [2]int // a pipe: a byte on it ends the watch
	done chan struct{}
	once sync.Once

	mu sync.Mutex
	// dirs are the watched folders, by watch descriptor.
	dirs map[int32]string
	// committed: for a path that had events, whether its last was rpm's
	// commit.
	committed map[string]bool
	// moves are the renames seen half (moved from), by cookie.
	moves map[uint32]move
	// gen is, for a path that had events, the number of the last (any
	// event, a change of owner or mode too; numbered across paths).
	gen  map[string]uint64
	last uint64
	// onCommit, when set, is told of each commit as it is read, with
	// the path's event number then (it must not block).
	onCommit func(path string, gen uint64)
	// unseen are the files found in a folder watched only after it was
	// created, and not committed since.
	unseen map[string]bool
	// broken says why nothing is trusted ("" while all is followed).
	broken string
}

type move struct {
	wd   int32
	name string
}

const watchMask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_DELETE | unix.IN_ATTRIB |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW

// watchCommits starts watching the tree the check reads, when rpm
// verifies what it writes there.
func (s *step) watchCommits() *commitWatch {
	dir := s.checkedTree().Dir
	if dir == "/" {
		return &commitWatch{broken: "the install is not in a folder of its own"}
	}
	if conf := noFileDigests(s.cfg.InstallRoot); conf != "" {
		return &commitWatch{broken: conf + " sets tsflags=nocrypto: rpm does not compare the files it writes with their digests"}
	}
	// A kept install's mirror copies /app (dir) as rpm commits it, and
	// asks the watch what changed after.
	var m *mirror
	var onCommit func(string, uint64)
	if s.state != nil && s.state.mirror != nil {
		m, onCommit = s.state.mirror, s.state.mirror.committed
	}
	w := watchCommits(dir, onCommit)
	if m != nil {
		m.watch = w
	}
	return w
}

// noFileDigests names the installer configuration file that turns off
// rpm's check of the files it writes (dnf's tsflags=nocrypto, rpm's
// RPMTRANS_FLAG_NOFILEDIGEST), in the build image or in root; "" if none.
func noFileDigests(root string) string {
	patterns := []string{"/etc/dnf/dnf.conf", "/etc/dnf/libdnf5.conf.d/*.conf",
		"/usr/share/dnf5/libdnf.conf.d/*.conf", "/etc/yum.conf"}
	for _, r := range []string{"/", root} {
		if r == "" {
			continue
		}
		for _, pat := range patterns {
			names, _ := filepath.Glob(filepath.Join(r, pat))
			for _, name := range names {
				if dt, err := os.ReadFile(name); err == nil && bytes.Contains(dt, []byte("nocrypto")) {
					return name
				}
			}
		}
	}
	return ""
}

// watchCommits starts watching dir and every folder below it, telling
// onCommit (if not nil) of each commit.
func watchCommits(dir string, onCommit func(string, uint64)) *commitWatch {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return &commitWatch{broken: "inotify: " + err.Error()}
	}
	w := &commitWatch{fd: fd, done: make(chan struct{}), dirs: map[int32]string{},
		committed: map[string]bool{}, moves: map[uint32]move{}, gen: map[string]uint64{}, unseen: map[string]bool{},
		onCommit: onCommit}
	if err := unix.Pipe2(w.wake[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return &commitWatch{broken: "pipe: " + err.Error()}
	}
	w.addTree(dir, false)
	go w.run()
	return w
}

// addTree watches dir and the folders below it. late says dir was
// created (or moved in) while the watch ran: the files already in it had
// events nobody saw.
func (w *commitWatch) addTree(dir string, late bool) {
	wd, err := unix.InotifyAddWatch(w.fd, dir, watchMask)
	if err != nil {
		w.breakWith("cannot watch " + dir + ": " + err.Error())
		return
	}
	w.dirs[int32(wd)] = dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.breakWith("cannot list " + dir + ": " + err.Error())
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			w.addTree(p, late)
		case late && w.gen[p] == 0:
			w.unseen[p] = true
		}
	}
}

func (w *commitWatch) breakWith(why string) {
	if w.broken == "" {
		w.broken = why
	}
}

// run reads events until stop, then the events left in the queue.
func (w *commitWatch) run() {
	defer close(w.done)
	buf := make([]byte, 64*1024)
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}, {Fd: int32(w.wake[0]), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
			w.mu.Lock()
			w.breakWith("poll: " + err.Error())
			w.mu.Unlock()
			return
		}
		stopping := fds[1].Revents != 0
		// Everything queued, also after stop: the installer has exited,
		// so its events are all in the queue.
		for {
			n, err := unix.Read(w.fd, buf)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || n <= 0 {
				if err != nil && !errors.Is(err, unix.EAGAIN) {
					w.mu.Lock()
					w.breakWith("read: " + err.Error())
					w.mu.Unlock()
					return
				}
				break
			}
			w.mu.Lock()
			w.handle(buf[:n])
			w.mu.Unlock()
		}
		if stopping {
			return
		}
	}
}

// handle takes the events in buf.
func (w *commitWatch) handle(buf []byte) {
	for off := 0; off+unix.SizeofInotifyEvent <= len(buf); {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
		off += unix.SizeofInotifyEvent + int(ev.Len)
		name := string(bytes.TrimRight(nameBytes, "\x00"))
		mask := ev.Mask
		if mask&unix.IN_Q_OVERFLOW != 0 {
			w.breakWith("the event queue overflowed")
			continue
		}
		if mask&unix.IN_IGNORED != 0 {
			delete(w.dirs, ev.Wd)
			continue
		}
		dir, ok := w.dirs[ev.Wd]
		if !ok {
			continue
		}
		if mask&(unix.IN_MOVE_SELF|unix.IN_UNMOUNT) != 0 {
			// Paths below a moved folder are no longer what they were.
			w.breakWith(dir + " was moved or unmounted")
			continue
		}
		if name == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if mask&unix.IN_ISDIR != 0 {
			switch {
			case mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0:
				w.addTree(p, true)
			case mask&unix.IN_MOVED_FROM != 0:
				w.breakWith(p + " was moved")
			}
			continue
		}
		w.last++
		w.gen[p] = w.last
		delete(w.unseen, p)
		switch {
		case mask&unix.IN_MOVED_FROM != 0:
			w.moves[ev.Cookie] = move{ev.Wd, name}
			w.committed[p] = false
		case mask&unix.IN_MOVED_TO != 0:
			from, ok := w.moves[ev.Cookie]
			delete(w.moves, ev.Cookie)
			w.committed[p] = ok && from.wd == ev.Wd && isRPMTemporary(from.name, name)
			if w.committed[p] && w.onCommit != nil {
				w.onCommit(p, w.last)
			}
		case mask&(unix.IN_CREATE|unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_DELETE) != 0:
			// Created, written, truncated, closed after writing, deleted.
			w.committed[p] = false
		}
		// A change of mode, owner, times or extended attributes leaves
		// the content as it was.
	}
}

// isRPMTemporary says whether tmp is the name rpm writes final under
// before committing it: final, ";" and 8 hex digits.
func isRPMTemporary(tmp, final string) bool {
	suffix, ok := strings.CutPrefix(tmp, final+";")
	if !ok || len(suffix) != 8 {
		return false
	}
	for _, c := range suffix {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// genOf is the number of p's last event, once the watch has stopped;
// false when the watch could not follow everything.
func (w *commitWatch) genOf(p string) (uint64, bool) {
	if w == nil {
		return 0, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken != "" {
		return 0, false
	}
	return w.gen[p], true
}

// stop ends the watch once the events queued so far are read, and returns
// the files rpm committed that nothing touched after, by path; nil and why
// when nothing can be trusted.
// A watch that never started only says why; stop may be called again.
func (w *commitWatch) stop() (map[string]bool, string) {
	committed, _, why := w.stopUnseen()
	return committed, why
}

// stopUnseen is stop, also returning the files the watch found in a
// folder it saw late and that had no event after.
func (w *commitWatch) stopUnseen() (committed, unseen map[string]bool, why string) {
	if w == nil {
		return nil, nil, ""
	}
	if w.done != nil {
		w.once.Do(func() {
			unix.Write(w.wake[1], []byte{0})
			<-w.done
			unix.Close(w.fd)
			unix.Close(w.wake[0])
			unix.Close(w.wake[1])
		})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken != "" {
		return nil, nil, w.broken
	}
	out := map[string]bool{}
	for p, ok := range w.committed {
		if ok {
			out[p] = true
		}
	}
	return out, maps.Clone(w.unseen), ""
}
