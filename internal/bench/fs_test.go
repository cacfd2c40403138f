//go:build bench

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/packager/childproc"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// BENCH_TMP=host keeps the benchmark on the temporary folder's own file
// system even where benchFS would move it.
const tmpEnv = "BENCH_TMP"

// buildFS says where the benchmark's builds ran, for the report's header.
var buildFS = "the temporary folder's file system"

// benchFS moves the benchmark's temporary folder (buildkitd's state, the
// work folders, the floor's and the host pipeline's trees: everything it
// builds) to a journaled ext4 file system in a loop-mounted image, when the
// temporary folder is on an ext4 without a journal, and returns what
// unmounts and removes it.
//
// Without a journal, ext4 does not hand out again an inode freed recently,
// and finding a free one means reading past each such inode (ext4's
// recently_deleted): for about a minute after a prune deleted tens of
// thousands of files, creating a file costs 400-600 µs instead of about 30
// (measured on this machine, docs/performance.md). Every cold build comes
// right after a prune, so its cost would then depend on how many files it
// creates and how long after the prune, which is this machine's file
// system, not the work a user's machine does: ext4 is journaled by default,
// and xfs and btrfs have no such scan.
func benchFS() (cleanup func(), err error) {
	noop := func() {}
	if os.Getenv(tmpEnv) == "host" {
		buildFS = "the temporary folder's file system (" + tmpEnv + "=host)"
		return noop, nil
	}
	tmp := os.TempDir()
	journalless, err := ext4WithoutJournal(tmp)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: cannot tell whether %s has a journal (%v): the benchmark runs there\n", tmp, err)
		return noop, nil
	}
	if !journalless {
		return noop, nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(tmp, &st); err != nil {
		return noop, err
	}
	// The 1 GB app's builds, their caches and outputs take about 15 GiB
	// at once; the image is sparse and takes only what is written.
	const want = 40 << 30
	free := int64(st.Bavail) * st.Bsize
	if free < want/2 {
		fmt.Fprintf(os.Stderr, "bench: %s is an ext4 without a journal, but it has %d GiB free, too little for a journaled image beside it: the benchmark runs there\n", tmp, free>>30)
		return noop, nil
	}
	size := min(int64(want), free-(4<<30))
	childproc.RemoveAbandoned(fsPrefix, func(dir string) {
		exec.Command("umount", "-l", filepath.Join(dir, "mnt")).Run()
	})
	dir, lock, err := childproc.TempDir(fsPrefix)
	if err != nil {
		return noop, err
	}
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "mnt")
	mounted := false
	cleanup = func() {
		if mounted {
			if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "bench: umount %s: %v: %s; unmounting it lazily\n", mnt, err, out)
				exec.Command("umount", "-l", mnt).Run()
			}
		}
		lock.Close()
		os.RemoveAll(dir)
	}
	fail := func(err error) (func(), error) {
		cleanup()
		return noop, err
	}
	f, err := os.Create(img)
	if err != nil {
		return fail(err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return fail(err)
	}
	// The loop device reads and writes the image with direct I/O: through
	// the page cache once, as a disk is, not twice (the image's file's
	// too). noinit_itable: the kernel would otherwise write the image's
	// inode tables in the background while the benchmark runs (a sparse
	// image reads them as zeros already). The device is detached once
	// mounted, which the kernel defers to the unmount.
	run := func(argv ...string) (string, error) {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("a journaled file system for the benchmark: %s: %v\n%s", strings.Join(argv, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	dev, err := run("losetup", "--find", "--show", "--direct-io=on", img)
	if err != nil {
		return fail(err)
	}
	_, err = run("mkfs.ext4", "-q", "-F", "-L", "ffe-bench", dev)
	if err == nil {
		_, err = run("mount", "-o", "noinit_itable", dev, mnt)
		mounted = err == nil
	}
	if _, derr := run("losetup", "-d", dev); err == nil {
		err = derr
	}
	if err != nil {
		return fail(err)
	}
	newTmp := filepath.Join(mnt, "tmp")
	if err := os.Mkdir(newTmp, 0o1777); err != nil {
		return fail(err)
	}
	if err := os.Chmod(newTmp, 0o1777); err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "bench: %s is an ext4 without a journal, where files created soon after many were deleted cost 10-20 times more; the benchmark builds in %s, a journaled ext4 of %d GiB (a loop device with direct I/O)\n", tmp, newTmp, size>>30)
	buildFS = fmt.Sprintf("journaled ext4 (loop device, direct I/O; %s has no journal)", tmp)
	return cleanup, os.Setenv("TMPDIR", newTmp)
}

const fsPrefix = "ffe-bench-fs-"

// ext4WithoutJournal says whether path is on an ext2 or ext4 file system
// that has no journal: ext4 lists each journal it runs in /proc/fs/jbd2 as
// DEVICE-INODE.
func ext4WithoutJournal(path string) (bool, error) {
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false, err
	}
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil {
		return false, err
	}
	// The mount holding path: the last listed of those with the longest
	// mount point.
	var m *mountinfo.Info
	for _, c := range mounts {
		if m == nil || len(c.Mountpoint) >= len(m.Mountpoint) {
			m = c
		}
	}
	if m == nil || (m.FSType != "ext4" && m.FSType != "ext2") {
		return false, nil
	}
	target, err := os.Readlink(fmt.Sprintf("/sys/dev/block/%d:%d", m.Major, m.Minor))
	if err != nil {
		return false, err
	}
	journals, err := filepath.Glob("/proc/fs/jbd2/" + filepath.Base(target) + "-*")
	if err != nil {
		return false, err
	}
	return len(journals) == 0, nil
}
