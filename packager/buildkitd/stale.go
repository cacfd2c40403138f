package buildkitd

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flatpak-frontend/flatpak-frontend/packager/childproc"
	"github.com/moby/sys/mountinfo"
)

// A process that is killed outright (a test binary hitting its timeout)
// cannot run Stop. Pdeathsig still kills its daemon, but its temporary
// folders stay, possibly with overlay mounts in them: [CleanupStale]
// removes them once their owner is gone (see childproc.TempDir).

const (
	daemonDirPrefix   = "buildkitd-"
	sockDirRecordName = ".sockdir"
)

// CleanupStale removes temporary daemon folders left behind by processes
// that died without stopping them, unmounting what is still mounted there.
// Folders of live processes are left alone. It returns the folders it
// removed.
func CleanupStale() []string {
	removed := childproc.RemoveAbandoned(daemonDirPrefix, func(dir string) {
		if dt, err := os.ReadFile(filepath.Join(dir, sockDirRecordName)); err == nil {
			if sd := strings.TrimSpace(string(dt)); strings.HasPrefix(filepath.Base(sd), "bkd-") {
				os.RemoveAll(sd)
			}
		}
		unmountUnder(dir)
	})
	return append(removed, unmountOrphans()...)
}

// unmountOrphans unmounts containerd's temporary mounts
// (TMPDIR/containerd-mount*) of snapshots in daemon folders that no longer
// exist, and removes their mount points.
func unmountOrphans() []string {
	infos, err := mountinfo.GetMounts(nil)
	if err != nil {
		return nil
	}
	tmp := os.TempDir()
	if d, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = d
	}
	var removed []string
	for _, m := range infos {
		mp := m.Mountpoint
		if filepath.Dir(mp) != tmp || !isTempMount(mp) {
			continue
		}
		// The daemon folder the mount's snapshot lies in: the bind
		// mount's root, or an overlay's layer folders.
		src := m.Root
		if m.FSType == "overlay" {
			if _, after, ok := strings.Cut(m.VFSOptions, "lowerdir="); ok {
				src = strings.SplitN(strings.SplitN(after, ",", 2)[0], ":", 2)[0]
			}
		}
		owner, ok := daemonFolder(src, tmp)
		if !ok {
			continue
		}
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

// daemonFolder is the daemon folder (a Start temporary one, or a test's
// buildkitd state in TMPDIR) that path lies in.
func daemonFolder(path, tmp string) (string, bool) {
	rel, ok := strings.CutPrefix(path, tmp+"/")
	if !ok {
		return "", false
	}
	parts := strings.Split(rel, "/")
	if strings.HasPrefix(parts[0], daemonDirPrefix) {
		return tmp + "/" + parts[0], true
	}
	// TMPDIR/TestName123/001/buildkitd/state/...: a test's own daemon.
	for i, p := range parts {
		if p == "state" && i > 0 {
			return tmp + "/" + strings.Join(parts[:i], "/"), true
		}
	}
	return "", false
}
