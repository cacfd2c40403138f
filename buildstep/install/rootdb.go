package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// dbPaths are where distributions keep the rpm database: Fedora since 36
// (and its runtimes, whose /var is not in the image), older Fedora and EL,
// rpm-ostree.
var dbPaths = []string{"/usr/lib/sysimage/rpm", "/var/lib/rpm", "/usr/share/rpm"}

// hasDB reports whether dir holds an rpm database (sqlite, ndb or bdb).
func hasDB(dir string) bool {
	for _, f := range []string{"rpmdb.sqlite", "Packages.db", "Packages"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// linkRootDB makes the install root's rpm database the one the build
// image's rpm opens: own is that rpm's %{_dbpath}, which it takes inside
// the root too. A runtime made elsewhere may keep its database where own
// does not point (a Fedora runtime's /usr/lib/sysimage/rpm against an EL
// build image's /var/lib/rpm); there the installer would see an empty
// database and resolve the app's dependencies as if the runtime had
// nothing. own becomes a link to the runtime's database, as Fedora links
// /var/lib/rpm. It returns the database linked to, "" when nothing was
// done (own holds one, or the root has none: a new runtime's root).
func linkRootDB(root, own string) (string, error) {
	if !filepath.IsAbs(own) {
		return "", fmt.Errorf("rpm's %%{_dbpath} %q is not an absolute path", own)
	}
	own = filepath.Clean(own)
	at := filepath.Join(root, own)
	if hasDB(at) {
		return "", nil
	}
	for _, p := range dbPaths {
		if p == own || !hasDB(filepath.Join(root, p)) {
			continue
		}
		// An empty folder (made by a package, or by rpm looking) gives
		// way to the link; anything else there stays, and rpm says what
		// it finds.
		if err := os.Remove(at); err != nil && !os.IsNotExist(err) {
			return "", fmt.Errorf("the runtime's rpm database is in %s, but %s, where the build image's rpm looks, is not empty: %w", p, own, err)
		}
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			return "", err
		}
		rel, err := filepath.Rel(filepath.Dir(own), p)
		if err != nil {
			return "", err
		}
		if err := os.Symlink(rel, at); err != nil {
			return "", err
		}
		return p, nil
	}
	return "", nil
}

// ownDBPath is the step's rpm's %{_dbpath} (the build image's, which
// --root does not change).
func ownDBPath(ctx context.Context) (string, error) {
	out, err := rpm{}.query(ctx, "--eval", "%{_dbpath}")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
