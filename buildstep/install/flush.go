package install

import (
	"os"

	"golang.org/x/sys/unix"
)

// flushEarly starts writing out, in the background, what the file systems
// holding dirs have not written to disk yet, and returns at once.
//
// rpm (4.17 and later) ends each transaction with a syncfs of every file
// system it wrote to. Under BuildKit those are the overlay mounts of the
// step's snapshots, whose syncfs writes out everything unwritten on the
// file system beneath them: the transaction's own files, but also what the
// daemon wrote just before the step (the helper binary it received, the
// layers it unpacked), tens of megabytes that rpm would wait for at the end
// of the install. Started here, that writing runs while rpm is queried and
// the installer starts up (its resolving and downloading), so rpm's own
// syncfs finds little left. A failure only leaves the writing to rpm.
func flushEarly(dirs ...string) {
	go func() {
		seen := map[uint64]bool{}
		for _, d := range dirs {
			if d == "" {
				continue
			}
			f, err := os.Open(d)
			if err != nil {
				continue
			}
			var st unix.Stat_t
			if err := unix.Fstat(int(f.Fd()), &st); err == nil && !seen[st.Dev] {
				seen[st.Dev] = true
				_ = unix.Syncfs(int(f.Fd()))
			}
			f.Close()
		}
	}()
}
