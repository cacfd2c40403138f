package install

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

// TestLinkRootDBLetsRPMReadTheRuntimesDatabase makes a real rpm database
// where Fedora's runtimes keep it and reads it through rpm told to look
// where an EL or Debian build image's rpm does.
func TestLinkRootDBLetsRPMReadTheRuntimesDatabase(t *testing.T) {
	dir := t.TempDir()
	pkg := rpmbuild(t, dir, "in-runtime", "%install\nmkdir -p %{buildroot}/usr/share/x\n%files\n/usr/share/x\n")
	for _, own := range []string{"/var/lib/rpm", "/root/.rpmdb", "/usr/share/rpm"} {
		t.Run(own, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			run(t, "rpm", "--root", root, "--dbpath", "/usr/lib/sysimage/rpm", "--initdb")
			run(t, "rpm", "--root", root, "--dbpath", "/usr/lib/sysimage/rpm", "-i", "--nodeps", "--justdb", pkg)
			// Without the link, rpm finds nothing where it looks.
			if out := output(t, "rpm", "--root", root, "--dbpath", own, "-qa"); strings.TrimSpace(out) != "" {
				t.Fatalf("rpm found packages at %s before the link: %q", own, out)
			}
			// That query left an empty database there: gone, as in a
			// runtime's root. For one, a folder a package made, empty,
			// which gives way to the link.
			if err := os.RemoveAll(filepath.Join(root, own)); err != nil {
				t.Fatal(err)
			}
			if own == "/var/lib/rpm" {
				if err := os.MkdirAll(filepath.Join(root, own), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			linked, err := linkRootDB(root, own)
			if err != nil || linked != "/usr/lib/sysimage/rpm" {
				t.Fatalf("linkRootDB = %q, %v", linked, err)
			}
			if out := output(t, "rpm", "--root", root, "--dbpath", own, "-qa", "--qf", "%{NAME}\n"); strings.TrimSpace(out) != "in-runtime" {
				t.Errorf("rpm through the link lists %q", out)
			}
			// Again: own holds a database now; nothing more is done.
			if linked, err := linkRootDB(root, own); err != nil || linked != "" {
				t.Errorf("second linkRootDB = %q, %v", linked, err)
			}
		})
	}
}

// output runs a command and returns its output (stderr included), failing
// the test if it fails.
func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func TestLinkRootDBLeavesWhatItCannotTake(t *testing.T) {
	// A root with no database (a new runtime's): nothing is done.
	root := t.TempDir()
	if linked, err := linkRootDB(root, "/var/lib/rpm"); err != nil || linked != "" {
		t.Errorf("empty root: %q, %v", linked, err)
	}
	if _, err := os.Lstat(filepath.Join(root, "var")); !os.IsNotExist(err) {
		t.Errorf("empty root: var made (%v)", err)
	}
	// A database elsewhere, and something in the folder rpm looks in:
	// an error that names both, nothing removed.
	for _, p := range []string{"usr/lib/sysimage/rpm/rpmdb.sqlite", "var/lib/rpm/keep"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := linkRootDB(root, "/var/lib/rpm")
	if err == nil || !strings.Contains(err.Error(), "/usr/lib/sysimage/rpm") || !strings.Contains(err.Error(), "/var/lib/rpm") {
		t.Errorf("a folder with a file in it: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/rpm/keep")); err != nil {
		t.Errorf("the folder's file: %v", err)
	}
	if _, err := linkRootDB(root, "var/lib/rpm"); err == nil {
		t.Error("a relative %{_dbpath} was taken")
	}
}

// An imported signing key is a header rpm -qa lists; it is not a package.
func TestPackageListsLeaveOutSigningKeys(t *testing.T) {
	out := []byte("'gpg-pubkey' 0 '3f56eb7b' '6b156f16' '(none)' '(none)'\n'hello' 0 '1.0' '1' 'noarch' 'hello-1.0-1.src.rpm'\n")
	pkgs, err := parsePackages(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].Name != "hello" {
		t.Errorf("packages %+v, want hello alone", pkgs)
	}
}

// Key URLs name the release and architecture as repo files do.
func TestKeyURLVariables(t *testing.T) {
	s := &step{cfg: &buildstep.InstallConfig{ForceArch: "i686"}}
	got := s.keyVars(context.Background(), "41").Replace("file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-$releasever-$basearch ${releasever}/${basearch} $other")
	if want := "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-41-i386 41/i386 $other"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPackagesBesideReadsTheDatabaseAsItWasWhenCalled: the query that runs
// beside the installer reads a copy of the database made before it
// returns, so what the installer then changes does not reach it. The
// database is swapped for one holding another package as soon as
// packagesBeside returns, before rpm can have started; through a link,
// as linkRootDB leaves one, inside a root.
func TestPackagesBesideReadsTheDatabaseAsItWasWhenCalled(t *testing.T) {
	dir := t.TempDir()
	first := rpmbuild(t, dir, "first", "%files\n")
	second := rpmbuild(t, dir, "second", "%files\n")
	root := filepath.Join(t.TempDir(), "root")
	const db = "/usr/lib/sysimage/rpm"
	own, err := ownDBPath(context.Background())
	if err != nil || own == db {
		t.Fatalf("this rpm's database is at %q (%v): the test needs another place", own, err)
	}
	run(t, "rpm", "--root", root, "--dbpath", db, "--initdb")
	run(t, "rpm", "--root", root, "--dbpath", db, "-i", "--nodeps", "--justdb", first)
	later := filepath.Join(t.TempDir(), "later")
	run(t, "rpm", "--root", later, "--dbpath", db, "--initdb")
	run(t, "rpm", "--root", later, "--dbpath", db, "-i", "--nodeps", "--justdb", first, second)
	if linked, err := linkRootDB(root, own); err != nil || linked != db {
		t.Fatalf("linkRootDB = %q, %v", linked, err)
	}
	was, err := dbDigest(filepath.Join(root, db))
	if err != nil {
		t.Fatal(err)
	}
	other, err := dbDigest(filepath.Join(later, db))
	if err != nil || other == was {
		t.Fatalf("two databases of other packages: digests %q and %q (%v)", was, other, err)
	}
	copyDir := filepath.Join(t.TempDir(), "copy")
	wait, id := rpm{root: root}.packagesBeside(context.Background(), own, copyDir)
	if wait == nil {
		t.Fatal("packagesBeside started nothing")
	}
	if id != was {
		t.Errorf("packagesBeside's identity of the database: %q, want its digest %q", id, was)
	}
	if err := os.RemoveAll(filepath.Join(root, db)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(later, db), filepath.Join(root, db)); err != nil {
		t.Fatal(err)
	}
	pkgs, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name)
	}
	if strings.Join(names, " ") != "first" {
		t.Errorf("packages read beside the install: %q, want the database as it was: first", names)
	}
	if _, err := os.Stat(copyDir); !os.IsNotExist(err) {
		t.Errorf("the copy is left behind: %v", err)
	}
	// The database as it is now, read by the same rpm: both.
	if now, err := (rpm{root: root}).packages(context.Background()); err != nil || len(now) != 2 {
		t.Errorf("the database now: %v, %v", now, err)
	}
}

// TestPackagesBesideLeavesWhatItCannotCopy: a database folder holding
// something but regular files (a folder, a link) is left to a query
// before the installer; so is a link out of the root.
func TestPackagesBesideLeavesWhatItCannotCopy(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	const db = "/usr/lib/sysimage/rpm"
	run(t, "rpm", "--root", root, "--dbpath", db, "--initdb")
	if err := os.Mkdir(filepath.Join(root, db, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if wait, _ := (rpm{root: root}).packagesBeside(context.Background(), db, filepath.Join(t.TempDir(), "copy")); wait != nil {
		t.Error("a database with a folder in it was read beside")
	}
	if wait, _ := (rpm{root: root}).packagesBeside(context.Background(), "/no/such/rpm", filepath.Join(t.TempDir(), "copy")); wait != nil {
		t.Error("a database folder that does not exist was read beside")
	}
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "var/lib/rpm")); err != nil {
		t.Fatal(err)
	}
	if wait, _ := (rpm{root: root}).packagesBeside(context.Background(), "/var/lib/rpm", filepath.Join(t.TempDir(), "copy")); wait != nil {
		t.Error("a database behind a link out of the root was read beside")
	}
}
