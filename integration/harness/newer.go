package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// enterScript runs a command in ROOT as its root directory, in a mount
// namespace of its own, with the host's /proc, /dev, /sys, /tmp and the
// harness's cache at the same places: enough for flatpak, and for bwrap,
// which a chroot would not allow a user namespace (pivot_root does).
const enterScript = `#!/bin/sh
# enter ROOT CACHE COMMAND...: run COMMAND with ROOT as /.
set -e
root=$1 cache=$2
shift 2
exec unshare --mount --propagation private -- sh -ec '
root=$1 cache=$2
shift 2
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount --rbind /tmp "$root/tmp"
mkdir -p "$root$cache"
mount --rbind "$cache" "$root$cache"
mount -t tmpfs tmpfs "$root/run"
cd "$root"
mkdir -p .host
pivot_root . .host
umount -l /.host
cd /
exec "$@"
' enter "$root" "$cache" "$@"
`

// NewerFlatpak returns a Flatpak installation like [Flatpak]'s whose
// flatpak and ostree are Debian sid's (flatpak 1.18), run in the sid root
// (through a private overlay of it, so the cached root stays as it is):
// images are checked against the rules a newer Flatpak enforces, such as
// 1.17.1's for OCI remotes. Its folders live in the test's temporary
// folder, which is the same path inside the root, as is the harness's
// cache; other files a test hands it must be copied there first.
//
// Sid changes daily: when it cannot be fetched, the error says so.
func NewerFlatpak(t testing.TB) *FlatpakEnv {
	t.Helper()
	mustBeSetUp(t)
	rootfs, err := buildCached(sidRootfsKey, buildSidRootfs)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	merged := filepath.Join(base, "root")
	upper, work := filepath.Join(base, "overlay", "upper"), filepath.Join(base, "overlay", "work")
	for _, d := range []string{merged, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + filepath.Join(rootfs, "root") + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mount the sid root's overlay: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", merged, err)
		}
	})
	script := filepath.Join(base, "enter")
	if err := os.WriteFile(script, []byte(enterScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return newFlatpakEnv(t, filepath.Join(base, "flatpak"), []string{script, merged, state.cacheDir})
}

// Version is what `flatpak --version` prints, e.g. "Flatpak 1.18.4".
func (f *FlatpakEnv) Version(t testing.TB) string {
	t.Helper()
	out, err := f.Command("--version")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}
