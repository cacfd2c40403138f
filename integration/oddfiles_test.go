package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
)

// oddFilesSpec packages what real RPMs hold and shell-script fixtures do
// not: hard links (one into a read-only folder), a read-only folder, a
// private file, a name with spaces and non-ASCII letters, a name of 200
// bytes and a path past tar's 100-byte name field, an empty folder,
// relative, absolute and dangling symlinks, and the files rpm treats
// apart: %doc, %license, %config(noreplace), %lang, a %ghost that the
// package's %post writes (rpm records it but its payload has none), and
// %caps (a file capability, which Flatpak never stores).
const oddFilesSpec = `# As flatpak-rpm-macros set them for Fedora's Flatpak builds.
%define _docdir /app/share/doc
%define _defaultlicensedir /app/share/licenses
%global _docdir_fmt %%{NAME}
Name:           odd-files
Version:        1.0
Release:        1
Summary:        Files of every odd kind
License:        MIT
BuildArch:      noarch
AutoReqProv:    no

%description
Files of every odd kind, and a command that reads them.

%install
d=%{buildroot}/app/share/odd
long=LONGNAME
deep=$d/deep/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/cccccccccccccccccccccccccccccc
mkdir -p %{buildroot}/app/bin $d/ro $d/empty $deep
printf 'linked content\n' > $d/a
ln $d/a $d/b
ln $d/a $d/ro/c
printf 'read-only folder\n' > $d/ro/file
printf 'spaced\n' > "$d/with space é.txt"
printf 'private\n' > $d/private
printf 'long name\n' > $d/$long
printf 'deep\n' > $deep/file
ln -s a $d/rel-link
ln -s /app/share/odd/a $d/abs-link
ln -s does-not-exist $d/dangling
mkdir -p %{buildroot}/app/etc %{buildroot}/app/share/locale/de/LC_MESSAGES
printf 'config\n' > %{buildroot}/app/etc/odd.conf
printf 'german\n' > %{buildroot}/app/share/locale/de/LC_MESSAGES/odd.mo
printf 'readme\n' > README
printf 'license\n' > COPYING
cat > %{buildroot}/app/bin/odd <<'EOF'
#!/bin/sh
d=/app/share/odd
cat $d/b $d/ro/c $d/ro/file "$d/with space é.txt" $d/private $d/n*n $d/deep/*/*/*/file $d/rel-link $d/abs-link
cat /app/share/doc/odd-files/README /app/share/licenses/odd-files/COPYING /app/etc/odd.conf /app/share/locale/de/LC_MESSAGES/odd.mo $d/ghost.cache
EOF
chmod 755 %{buildroot}/app/bin/odd

%post
echo 'written by %%post' > /app/share/odd/ghost.cache

%files
%caps(cap_net_raw=ep) /app/bin/odd
%dir /app/share/odd
/app/share/odd/a
/app/share/odd/b
%attr(0555,root,root) %dir /app/share/odd/ro
/app/share/odd/ro/c
%attr(0444,root,root) /app/share/odd/ro/file
"/app/share/odd/with space é.txt"
%attr(0600,root,root) /app/share/odd/private
/app/share/odd/LONGNAME
/app/share/odd/deep
%dir /app/share/odd/empty
/app/share/odd/rel-link
/app/share/odd/abs-link
/app/share/odd/dangling
%ghost /app/share/odd/ghost.cache
%config(noreplace) /app/etc/odd.conf
%lang(de) /app/share/locale/de/LC_MESSAGES/odd.mo
%doc README
%license COPYING
`

// TestOddPackagedFilesReachTheInstalledApp builds an app of a package
// whose files are of every odd kind real RPMs have, and checks them where
// Flatpak installed it, and through the app it runs.
func TestOddPackagedFilesReachTheInstalledApp(t *testing.T) {
	repo := t.TempDir()
	buildSpecRPM(t, repo, strings.ReplaceAll(oddFilesSpec, "LONGNAME", strings.Repeat("n", 200)))
	createRepo(t, repo)
	yaml := `id: org.example.Odd
runtime-name: org.example.Platform
runtime-version: "1"
command: odd
packages:
  - odd-files
repos:
  - name: odd
    context: odd
    path: .
`
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: map[string]string{"odd": repo}})
	if err != nil {
		t.Fatal(err)
	}
	flatpakImportable(t, res.oci, "app/org.example.Odd/x86_64/stable")

	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	fp.ImportOCI(t, res.oci)
	fp.Install(t, harness.RuntimeID)
	fp.Install(t, "org.example.Odd")
	want := "linked content\nlinked content\nread-only folder\nspaced\nprivate\nlong name\ndeep\nlinked content\nlinked content\n" +
		"readme\nlicense\nconfig\ngerman\nwritten by %post\n"
	if out := fp.Run(t, "org.example.Odd"); out != want {
		t.Errorf("flatpak run printed %q, want %q", out, want)
	}

	loc, err := fp.Command("info", "--show-location", "org.example.Odd")
	if err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(strings.TrimSpace(loc), "files/share/odd")
	links := map[string]string{"rel-link": "a", "abs-link": "/app/share/odd/a", "dangling": "does-not-exist"}
	for name, target := range links {
		if got, err := os.Readlink(filepath.Join(odd, name)); err != nil || got != target {
			t.Errorf("installed %s: points to %q (%v), want %q", name, got, err, target)
		}
	}
	if fi, err := os.Stat(filepath.Join(odd, "empty")); err != nil || !fi.IsDir() {
		t.Errorf("installed empty folder: %v", err)
	}
	// The image holds modes as Flatpak stores them: a folder 0755 and a
	// file 0644 whatever rpm gave them, so the app can read them all.
	unpacked := t.TempDir()
	readImage(t, res.oci, unpacked)
	for name, want := range map[string]os.FileMode{"ro": 0o755, "ro/file": 0o644, "private": 0o644} {
		if fi, err := os.Lstat(filepath.Join(unpacked, "files/share/odd", name)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("the image's %s: %v, want mode %04o", name, err, want)
		}
	}
	img := readImage(t, res.oci, "")
	for _, h := range img.entries {
		for k := range h.PAXRecords {
			if strings.HasPrefix(k, "SCHILY.xattr.") {
				t.Errorf("the image's %s has the extended attribute %s", h.Name, strings.TrimPrefix(k, "SCHILY.xattr."))
			}
		}
	}
	a, errA := os.Stat(filepath.Join(odd, "a"))
	b, errB := os.Stat(filepath.Join(odd, "b"))
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		t.Errorf("installed hard links a and b are not one file: %v %v", errA, errB)
	}
}
