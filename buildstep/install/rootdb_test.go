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
