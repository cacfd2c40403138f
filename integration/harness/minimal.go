package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The minimal runtime's identity.
const (
	MinimalRuntimeID  = "org.example.MinimalPlatform"
	MinimalRuntimeRef = "runtime/" + MinimalRuntimeID + "/x86_64/" + RuntimeBranch
)

const (
	sidRootfsRecipe      = "debootstrap v1 --variant=minbase --include=dnf5,rpm,busybox,flatpak,ostree sid"
	minimalRuntimeRecipe = "minimal runtime v2 (with rpmkeys)"
)

var (
	minimalRuntimeFixture fixture
)

// MinimalRuntime returns org.example.MinimalPlatform//1, a hybrid runtime
// that holds nothing but dnf5, rpm (and rpmkeys), busybox as /bin/sh (no
// applets), the
// libraries they load and their data (/usr/lib/rpm, /etc/dnf): no python3,
// awk, find, comm or coreutils. Its rpmdb records runtime-provides, as the
// test runtime's does. Builds on it show that the build steps need nothing
// from a runtime but its installer, rpm and a shell.
//
// It is made from Debian sid (dnf5 5.4 and rpm 6.1 are in no release yet);
// sid changes daily, and a failure to fetch it says so.
func MinimalRuntime(t testing.TB) RuntimeImage {
	t.Helper()
	return minimalRuntimeFixture.runtime(t, minimalRuntimeKey, buildMinimalRuntime)
}

func sidRootfsKey() (string, string, error) {
	return "rootfs-sid-dnf5", hashOf([]byte(sidRootfsRecipe)), nil
}

func minimalRuntimeKey() (string, string, error) {
	_, rootHash, _ := sidRootfsKey()
	specs, err := specFiles()
	if err != nil {
		return "", "", err
	}
	return "minimal-runtime", hashOf([]byte(minimalRuntimeRecipe), []byte(rootHash), specs["runtime-provides.spec"], []byte(hybridRecipe())), nil
}

// buildSidRootfs debootstraps a Debian sid minbase with dnf5, rpm and
// busybox (for the minimal runtime) and flatpak and ostree (the newer
// Flatpak), in about a minute.
func buildSidRootfs(ctx context.Context, dir string) error {
	_, err := run(ctx, nil, "", "debootstrap", "--variant=minbase", "--include=dnf5,rpm,busybox,flatpak,ostree",
		"sid", filepath.Join(dir, "root"), debianMirror())
	if err != nil {
		return fmt.Errorf("debootstrap of Debian sid failed; sid changes every day, so a package the fixture needs may be in transition there: %w", err)
	}
	return nil
}

// minimalBinaries are the programs of the minimal runtime: rpm's include
// rpmkeys, which rpm --import runs (as every distribution's rpm package
// has it).
var minimalBinaries = []string{"/usr/bin/dnf5", "/usr/bin/rpm", "/usr/bin/rpmkeys", "/usr/bin/busybox"}

func buildMinimalRuntime(ctx context.Context, dir string) error {
	rootfs, err := buildCached(sidRootfsKey, buildSidRootfs)
	if err != nil {
		return err
	}
	rpms, err := buildCached(rpmsKey, buildRPMs)
	if err != nil {
		return err
	}
	providesRPM, err := findRPM(rpms, "runtime-provides")
	if err != nil {
		return err
	}
	sid := filepath.Join(rootfs, "root")
	work, err := scratch(dir)
	if err != nil {
		return err
	}
	defer removeAll(work)

	// The runtime as a root: usr/ and etc/, with what the three programs
	// load, as the loader of sid resolves it.
	root := filepath.Join(work, "root")
	out, err := run(ctx, nil, "", "chroot", append([]string{sid, "ldd"}, minimalBinaries...)...)
	if err != nil {
		return err
	}
	files := append([]string{}, minimalBinaries...)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			files = append(files, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/") && strings.Contains(f[0], "ld-linux"):
			files = append(files, f[0])
		}
	}
	for _, f := range files {
		// /lib and /lib64 are links to usr/ in sid.
		rel := strings.TrimPrefix(f, "/")
		if !strings.HasPrefix(rel, "usr/") {
			rel = "usr/" + rel
		}
		if _, err := run(ctx, nil, "", "install", "-D", "-m", "0755", filepath.Join(sid, f), filepath.Join(root, rel)); err != nil {
			return err
		}
	}
	for _, d := range []string{"usr/lib/rpm", "usr/share/dnf5", "etc/dnf"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, d)), 0o755); err != nil {
			return err
		}
		if _, err := run(ctx, nil, "", "cp", "-a", filepath.Join(sid, d), filepath.Join(root, d)); err != nil {
			return err
		}
	}
	// Plugins whose libraries the runtime does not have, and aliases of
	// commands their plugins would add.
	for _, p := range []string{"etc/dnf/libdnf5-plugins", "usr/share/dnf5/aliases.d/compatibility-plugins.conf", "usr/share/dnf5/aliases.d/compatibility-reposync.conf"} {
		if err := os.RemoveAll(filepath.Join(root, p)); err != nil {
			return err
		}
	}
	if err := os.Symlink("busybox", filepath.Join(root, "usr/bin/sh")); err != nil {
		return err
	}
	for p, content := range map[string]string{
		"etc/rpm/macros": "%_dbpath /usr/lib/sysimage/rpm\n",
		"etc/passwd":     "root:x:0:0:root:/root:/bin/sh\n",
		"etc/group":      "root:x:0:\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"usr/lib/sysimage/rpm", "etc/yum.repos.d", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	// Chroot links, as in sid, for the runtime's own rpm to record the
	// runtime-provides package with the rpm database version it reads.
	for _, l := range []string{"bin", "lib", "lib64"} {
		if err := os.Symlink("usr/"+l, filepath.Join(root, l)); err != nil {
			return err
		}
	}
	if _, err := run(ctx, nil, "", "cp", providesRPM, filepath.Join(root, "tmp", "provides.rpm")); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "chroot", root, "/usr/bin/rpm", "-i", "--justdb", "--nodeps", "--noscripts", "--notriggers", "/tmp/provides.rpm"); err != nil {
		return err
	}

	// The Flatpak runtime tree: files/ = /usr, files/etc = /etc.
	return exportRoot(ctx, root, work, dir, MinimalRuntimeID)
}
