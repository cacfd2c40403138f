package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The GTK test runtime's identity.
const (
	GtkRuntimeID  = "org.example.GtkPlatform"
	GtkRuntimeRef = "runtime/" + GtkRuntimeID + "/x86_64/" + RuntimeBranch
)

// gtkRootfsPackages are what the GTK runtime is debootstrapped with: GHex
// (for its dependencies: GTK 4, libadwaita and what they load; GHex itself
// is taken out again), Mesa's software rendering, fonts, icon themes,
// glib's schema compiler, the AppStream tools, rpm and dnf.
var gtkRootfsPackages = []string{
	"dnf", "rpm", "ghex", "appstream", "appstream-compose", "libglib2.0-bin", "libgl1-mesa-dri",
	"fonts-dejavu-core", "shared-mime-info", "hicolor-icon-theme", "adwaita-icon-theme",
	"gsettings-desktop-schemas", "librsvg2-common", "dbus-x11",
}

// ghexDebs are Debian's binary packages of GHex, repackaged as RPMs.
var ghexDebs = []string{"ghex", "libgtkhex-4-1"}

const gtkRuntimeRecipe = "gtk runtime v1"

var (
	gtkRuntimeFixture fixture
)

func gtkRootfsRecipe() string {
	return "debootstrap v1 --variant=minbase trixie " + strings.Join(gtkRootfsPackages, ",") + "; debs " + strings.Join(ghexDebs, ",")
}

// GtkRuntime returns org.example.GtkPlatform//1, a hybrid runtime made the
// way Fedora makes its runtimes, from Debian trixie: GTK 4.18, libadwaita
// 1.7, Mesa's software renderer, fonts, icon themes, glib-compile-schemas,
// appstreamcli compose, dnf 4.23 and rpm 4.20. Its rpmdb (in
// /usr/lib/sysimage/rpm) records each Debian package of the root as an
// RPM of the same name and version that lists its files and provides its
// shared libraries' sonames as rpm's elfdeps names them (see
// debianrpmdb.go), so dnf resolves an app's automatic soname Requires
// against it as against a Fedora runtime. Like Fedora's, it holds a
// flatpak-runtime-config package (testdata/gtk-runtime): /app/lib and
// /app/lib64 in ld.so.conf.d, and file triggers that run ldconfig,
// glib-compile-schemas and fc-cache on what apps install under /app.
func GtkRuntime(t testing.TB) RuntimeImage {
	t.Helper()
	return gtkRuntimeFixture.runtime(t, gtkRuntimeKey, buildGtkRuntime)
}

func gtkRootfsKey() (string, string, error) {
	return "rootfs-trixie-gtk", hashOf([]byte(gtkRootfsRecipe())), nil
}

func gtkRuntimeKey() (string, string, error) {
	_, rootHash, _ := gtkRootfsKey()
	dir, err := testdataDir()
	if err != nil {
		return "", "", err
	}
	spec, err := os.ReadFile(filepath.Join(dir, "gtk-runtime", "flatpak-runtime-config.spec"))
	if err != nil {
		return "", "", err
	}
	return "gtk-runtime", hashOf([]byte(gtkRuntimeRecipe), []byte(rootHash), spec, []byte(hybridRecipe()), []byte(dnfConf)), nil
}

// buildGtkRootfs debootstraps the GTK runtime's root from Debian trixie
// and keeps GHex's own packages as .deb files beside it (debs/), taking
// them out of the root: the runtime holds what GHex needs, not GHex.
func buildGtkRootfs(ctx context.Context, dir string) error {
	root := filepath.Join(dir, "root")
	if _, err := run(ctx, nil, "", "debootstrap", "--variant=minbase", "--include="+strings.Join(gtkRootfsPackages, ","),
		"trixie", root, debianMirror()); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "chroot", root, "sh", "-c", "mkdir -p /tmp/debs && cd /tmp/debs && apt-get download "+strings.Join(ghexDebs, " ")); err != nil {
		return fmt.Errorf("download GHex's packages: %w", err)
	}
	if err := os.Rename(filepath.Join(root, "tmp", "debs"), filepath.Join(dir, "debs")); err != nil {
		return err
	}
	_, err := run(ctx, nil, "", "chroot", root, "dpkg", "--purge", "ghex", "libgtkhex-4-1")
	return err
}

func buildGtkRuntime(ctx context.Context, dir string) error {
	rootfs, err := buildCached(gtkRootfsKey, buildGtkRootfs)
	if err != nil {
		return err
	}
	work, err := scratch(dir)
	if err != nil {
		return err
	}
	defer removeAll(work)
	root := filepath.Join(work, "root")
	if _, err := run(ctx, nil, "", "cp", "-a", filepath.Join(rootfs, "root"), root); err != nil {
		return err
	}
	// Documentation and translations are most of the size; nothing here
	// reads them.
	for _, d := range []string{"usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists"} {
		if err := os.RemoveAll(filepath.Join(root, d)); err != nil {
			return err
		}
	}
	// Python byte code that stays valid whatever the mtimes (see
	// buildRuntime): dnf's modules are not compiled again on every run.
	if _, err := run(ctx, nil, "", "chroot", root, "sh", "-c", "python3 -m compileall -q -f --invalidation-mode unchecked-hash /usr/lib/python3 /usr/lib/python3.*"); err != nil {
		return err
	}

	// The rpmdb: the Debian packages recorded, then the runtime's
	// configuration package installed for real.
	pkgs, err := installedDebianPackages(root)
	if err != nil {
		return err
	}
	if err := findProvides(ctx, root, pkgs, map[string][]string{
		// glibc provides these in Fedora; the loader's hash style and
		// the shells' classic paths.
		"libc6": {"rtld(GNU_HASH)"},
	}); err != nil {
		return err
	}
	specDir := filepath.Join(work, "spec")
	if err := os.MkdirAll(specDir, 0o755); err != nil {
		return err
	}
	specPath := filepath.Join(specDir, "debian-packages.spec")
	if err := os.WriteFile(specPath, []byte(debianPackagesSpec("The Debian packages of "+GtkRuntimeID, pkgs)), 0o644); err != nil {
		return err
	}
	td, err := testdataDir()
	if err != nil {
		return err
	}
	top := filepath.Join(work, "rpmbuild")
	for _, spec := range []string{specPath, filepath.Join(td, "gtk-runtime", "flatpak-runtime-config.spec")} {
		if _, err := run(ctx, nil, "", "rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top, spec); err != nil {
			return err
		}
	}
	rpms, err := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if err != nil {
		return err
	}
	inRoot := filepath.Join(root, "tmp", "rpms")
	if err := os.MkdirAll(inRoot, 0o755); err != nil {
		return err
	}
	var recorded []string
	config := ""
	for _, r := range rpms {
		if _, err := run(ctx, nil, "", "cp", r, inRoot); err != nil {
			return err
		}
		if strings.HasPrefix(filepath.Base(r), "flatpak-runtime-config-") {
			config = "/tmp/rpms/" + filepath.Base(r)
		} else {
			recorded = append(recorded, "/tmp/rpms/"+filepath.Base(r))
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "etc", "rpm"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "rpm", "macros"), []byte("%_dbpath /usr/lib/sysimage/rpm\n"), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, "usr", "lib", "sysimage", "rpm"), 0o755); err != nil {
		return err
	}
	// The root's own rpm writes its database, in the format it reads.
	if _, err := run(ctx, nil, "", "chroot", root, "rpm", "--initdb"); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "chroot", append([]string{root, "rpm", "-i", "--justdb", "--nodeps", "--noscripts", "--notriggers", "--ignoresize"}, recorded...)...); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "chroot", root, "rpm", "-i", "--nodeps", "--noscripts", "--notriggers", config); err != nil {
		return err
	}
	if err := os.RemoveAll(inRoot); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "chroot", root, "ldconfig"); err != nil {
		return err
	}

	// dnf: offline, repos only from the command line or the spec.
	if err := offlineDnf(root); err != nil {
		return err
	}

	return exportRoot(ctx, root, work, dir, GtkRuntimeID)
}
