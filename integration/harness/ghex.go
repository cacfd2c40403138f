package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const ghexRecipe = "ghex rpms v1"

var ghexFixture fixture

// GHexRepo returns an RPM repository (createrepo_c) holding GHex as Fedora
// lays it out for Flatpak: ghex and ghex-libs, relocated to /app, made with
// rpmbuild from Debian trixie's binary packages of GHex
// (testdata/ghex/ghex.spec). Their Requires are what rpm's dependency
// generators found in the ELF files: the sonames of GTK 4, libadwaita,
// glib and glibc, which the GTK runtime provides, and ghex-libs' own.
func GHexRepo(t testing.TB) string {
	t.Helper()
	return filepath.Join(ghexFixture.get(t, ghexKey, buildGHexRepo), "repo")
}

func ghexKey() (string, string, error) {
	_, rootHash, _ := gtkRootfsKey()
	dir, err := testdataDir()
	if err != nil {
		return "", "", err
	}
	spec, err := os.ReadFile(filepath.Join(dir, "ghex", "ghex.spec"))
	if err != nil {
		return "", "", err
	}
	return "ghex-rpms", hashOf([]byte(ghexRecipe), []byte(rootHash), spec), nil
}

// buildGHexRepo unpacks the .debs into a build root of their own (never
// the runtime) and runs rpmbuild on them.
func buildGHexRepo(ctx context.Context, dir string) error {
	rootfs, err := buildCached(gtkRootfsKey, buildGtkRootfs)
	if err != nil {
		return err
	}
	work, err := scratch(dir)
	if err != nil {
		return err
	}
	defer removeAll(work)
	debroot := filepath.Join(work, "debroot")
	if err := os.MkdirAll(debroot, 0o755); err != nil {
		return err
	}
	debs, err := filepath.Glob(filepath.Join(rootfs, "debs", "*.deb"))
	if err != nil {
		return err
	}
	if len(debs) != len(ghexDebs) {
		return fmt.Errorf("%s holds %d packages, want %s", filepath.Join(rootfs, "debs"), len(debs), strings.Join(ghexDebs, ", "))
	}
	version := ""
	for _, d := range debs {
		if _, err := run(ctx, nil, "", "dpkg-deb", "-x", d, debroot); err != nil {
			return err
		}
		if strings.HasPrefix(filepath.Base(d), "ghex_") {
			if version, err = run(ctx, nil, "", "dpkg-deb", "-f", d, "Version"); err != nil {
				return err
			}
		}
	}
	_, v, r := rpmVersion(strings.TrimSpace(version))
	td, err := testdataDir()
	if err != nil {
		return err
	}
	top := filepath.Join(work, "rpmbuild")
	if _, err := run(ctx, nil, "", "rpmbuild", "-bb", "--quiet",
		"--define", "_topdir "+top, "--define", "debroot "+debroot,
		"--define", "ghex_version "+v, "--define", "ghex_release "+r,
		filepath.Join(td, "ghex", "ghex.spec")); err != nil {
		return err
	}
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return err
	}
	rpms, err := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if err != nil {
		return err
	}
	for _, p := range rpms {
		if err := moveFile(p, filepath.Join(repo, filepath.Base(p))); err != nil {
			return err
		}
	}
	_, err = run(ctx, nil, "", "createrepo_c", "--quiet", repo)
	return err
}
