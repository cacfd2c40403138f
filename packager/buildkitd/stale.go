package buildkitd

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A process that is killed outright (a test binary hitting its timeout)
// cannot run Stop. Pdeathsig still kills its daemon and registry, but their
// temporary folders stay, possibly with overlay mounts in them. Each
// temporary folder this package makes is therefore flocked for as long as
// its owner lives; [CleanupStale] removes the ones whose lock is free.

const (
	daemonDirPrefix   = "buildkitd-"
	registryDirPrefix = "registry-"
	liveLockName      = ".owner.lock"
	sockDirRecordName = ".sockdir"

	staleAge = 2 * time.Minute
)

// holdLiveLock locks dir/.owner.lock for the life of this process (or until
// the returned file is closed).
func holdLiveLock(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, liveLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CleanupStale removes temporary daemon and registry folders left behind
// by processes that died without stopping them, unmounting what is still
// mounted there. Folders of live processes are left alone. It returns the
// folders it removed.
func CleanupStale() []string {
	var removed []string
	for _, prefix := range []string{daemonDirPrefix, registryDirPrefix} {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
		for _, dir := range dirs {
			// A folder another process has just made may not be locked
			// yet: leave young folders alone.
			if fi, err := os.Stat(dir); err != nil || time.Since(fi.ModTime()) < staleAge {
				continue
			}
			lock, err := holdLiveLock(dir)
			if err != nil {
				continue // alive, or not one of ours
			}
			if dt, err := os.ReadFile(filepath.Join(dir, sockDirRecordName)); err == nil {
				if sd := strings.TrimSpace(string(dt)); strings.HasPrefix(filepath.Base(sd), "bkd-") {
					os.RemoveAll(sd)
				}
			}
			unmountUnder(dir)
			lock.Close()
			if os.RemoveAll(dir) == nil {
				removed = append(removed, dir)
			}
		}
	}
	return append(removed, unmountOrphans()...)
}

// unmountOrphans unmounts containerd's temporary mounts
// (TMPDIR/containerd-mount*) of snapshots in daemon folders that no longer
// exist, and removes their mount points.
func unmountOrphans() []string {
	dt, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	tmp := os.TempDir()
	if d, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = d
	}
	var removed []string
	for _, line := range strings.Split(string(dt), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		root, mp := unescapeMountPath(fields[3]), unescapeMountPath(fields[4])
		if filepath.Dir(mp) != tmp || !strings.HasPrefix(filepath.Base(mp), "containerd-mount") {
			continue
		}
		rel, ok := strings.CutPrefix(root, tmp+"/"+daemonDirPrefix)
		if !ok {
			continue
		}
		owner := tmp + "/" + daemonDirPrefix + strings.SplitN(rel, "/", 2)[0]
		if _, err := os.Stat(owner); !os.IsNotExist(err) {
			continue // the daemon's folder is still there: maybe alive
		}
		if syscall.Unmount(mp, syscall.MNT_DETACH) == nil {
			os.Remove(mp)
			removed = append(removed, mp)
		}
	}
	return removed
}
