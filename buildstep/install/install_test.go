package install

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/filecheck"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/repodata"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmfile"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

func TestSplitRecordsReadsShescapedOutput(t *testing.T) {
	out := "'odd' 'odd-1.0-1.src.rpm' '/app/share/it'\\''s' 33188 2 8 'ab' 0 0 ''\n" +
		"'odd' (none) '/app/new\nline' 16877 0 (none) '' 0 0 ''\n"
	got, err := splitRecords([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"odd", "odd-1.0-1.src.rpm", "/app/share/it's", "33188", "2", "8", "ab", "0", "0", ""},
		{"odd", "(none)", "/app/new\nline", "16877", "0", "(none)", "", "0", "0", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	f, err := parseFile(got[1])
	if err != nil {
		t.Fatal(err)
	}
	if f.SourceRPM != "" || f.DigestAlgo != 1 || f.Mode != 0o40755 || f.Path != "/app/new\nline" {
		t.Errorf("parsed %+v", f)
	}
	if _, err := splitRecords([]byte("'open quote\n")); err == nil {
		t.Error("an unterminated quote parsed")
	}
}

// TestRPMQueriesOfARealDatabase builds a package with odd file names with
// rpmbuild, installs it into a scratch root with rpm, and reads it back
// through the step's queries.
func TestRPMQueriesOfARealDatabase(t *testing.T) {
	dir := t.TempDir()
	spec := `%install
mkdir -p %{buildroot}/app/share
printf 'b\n' > "%{buildroot}/app/share/it's here"
ln -s "it's here" %{buildroot}/app/share/link
%files
/app/share
`
	pkg := rpmbuild(t, dir, "odd", spec)
	root := filepath.Join(dir, "root")
	run(t, "rpm", "--root", root, "--initdb")
	run(t, "rpm", "--root", root, "-i", "--nodeps", pkg)

	r := rpm{root: root}
	pkgs, err := r.packages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0] != (buildstep.Package{NEVRA: rpmver.NEVRA{Name: "odd", Epoch: 0, Version: "1.0", Release: "1", Arch: "noarch"}, SourceRPM: "odd-1.0-1.src.rpm"}) {
		t.Errorf("packages = %+v", pkgs)
	}
	withDigests, digests, err := r.packagesAndDigests(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := exec.Command("rpm", "--root", root, "-q", "--qf", "%{SHA256HEADER} %{SHA1HEADER}", "odd").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(withDigests, pkgs) || len(digests) != 1 || digests[pkgs[0].NEVRA] != string(hdr) || len(hdr) != 64+1+40 {
		t.Errorf("packagesAndDigests = %+v, %q; want %+v, %q", withDigests, digests, pkgs, hdr)
	}
	files, err := r.files(t.Context(), []string{"odd"})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]buildstep.PackagedFile{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	if f := byPath["/app/share/it's here"]; f.Size != 2 || f.DigestAlgo != 8 || len(f.Digest) != 64 || f.Mode&0o170000 != 0o100000 {
		t.Errorf("file: %+v", f)
	}
	if f := byPath["/app/share/link"]; f.LinkTo != "it's here" {
		t.Errorf("link: %+v", f)
	}
	if _, err := r.files(t.Context(), []string{"not-installed"}); err == nil {
		t.Error("a query of a package that is not installed passed")
	}
}

func TestInstallerCommands(t *testing.T) {
	cfg := &buildstep.InstallConfig{Installer: Dnf5, Packages: []string{"ghex"}, InstallRoot: "/sysroot"}
	got := command(cfg, buildstep.ReposDir, "", "", nil, cfg.Packages)
	want := []string{"dnf5", "-y", "--refresh", "--installroot=/sysroot", "--setopt=cachedir=/var/cache/libdnf5", "--setopt=system_cachedir=/var/cache/libdnf5",
		"--setopt=timeout=15", "--setopt=install_weak_deps=False", "--setopt=keepcache=True", "--setopt=reposdir=" + buildstep.ReposDir, "install", "ghex"}
	if !slices.Equal(got, want) {
		t.Errorf("dnf5:\n%q\nwant\n%q", got, want)
	}
	cfg = &buildstep.InstallConfig{Installer: Dnf, Mode: buildstep.ModeDownload}
	got = command(cfg, "/r", "", "", nil, []string{"a"})
	if !slices.Contains(got, "--downloadonly") || !slices.Contains(got, "--downloaddir="+buildstep.DownloadDir) || got[len(got)-1] != "a" {
		t.Errorf("dnf download: %q", got)
	}
	cfg = &buildstep.InstallConfig{Installer: Microdnf, InstallRoot: "/sysroot"}
	got = command(cfg, "", "42", "/etc/dnf/dnf.conf", nil, []string{"a"})
	for _, w := range []string{"--config=/etc/dnf/dnf.conf", "--noplugins", "--setopt=cachedir=/var/cache/yum", "--releasever=42", "--setopt=keepcache=1"} {
		if !slices.Contains(got, w) {
			t.Errorf("microdnf lacks %s: %q", w, got)
		}
	}
	cfg = &buildstep.InstallConfig{Installer: Dnf5, InstallRoot: "/sysroot", ForceArch: "aarch64"}
	got = command(cfg, "", "", "", nil, []string{"a"})
	for _, w := range []string{"--forcearch=aarch64", "--setopt=tsflags=noscripts,notriggers"} {
		if !slices.Contains(got, w) {
			t.Errorf("a foreign-arch install lacks %s: %q", w, got)
		}
	}
	cfg = &buildstep.InstallConfig{Installer: Dnf, Mode: buildstep.ModeInstallDownloaded}
	got = command(cfg, "/r", "", "", nil, []string{"/run/x.rpm"})
	if slices.Contains(got, "--refresh") || slices.Contains(got, "--setopt=reposdir=/r") {
		t.Errorf("an install of downloaded files reads repos: %q", got)
	}
}

func TestReadFailureOfEachInstaller(t *testing.T) {
	logs := map[string]string{
		"dnf": `No match for argument: helo
Error: Unable to find a match: helo
`,
		"dnf deps": `Error: 
 Problem: conflicting requests
  - nothing provides libgtk-4.so.1()(64bit) needed by ghex-46.1-1.x86_64
  - nothing provides (libfoo if bar) needed by ghex-46.1-1.x86_64
`,
		"dnf5": `Failed to resolve the transaction:
No match for argument: helo
Problem: conflicting requests
  - nothing provides libgtk-4.so.1()(64bit) needed by ghex-46.1-1.x86_64 from test
`,
		"microdnf": `error: No package matches 'helo'
`,
	}
	want := map[string][2]string{
		"dnf":      {"helo", ""},
		"dnf deps": {"", "libgtk-4.so.1()(64bit)|ghex-46.1-1.x86_64,(libfoo if bar)|ghex-46.1-1.x86_64"},
		"dnf5":     {"helo", "libgtk-4.so.1()(64bit)|ghex-46.1-1.x86_64"},
		"microdnf": {"helo", ""},
	}
	for name, log := range logs {
		f := readFailure([]byte(log))
		missing := f.Missing
		var u []string
		for _, x := range f.Unresolved {
			u = append(u, x.Capability+"|"+x.NeededBy)
		}
		if got := [2]string{strings.Join(missing, ","), strings.Join(u, ",")}; got != want[name] {
			t.Errorf("%s: got %q, want %q", name, got, want[name])
		}
	}
}

// TestFailedScriptletsAsRPMReportsThem: rpm installs a package whose %post
// exits 3 and whose %posttrans is killed (the root's shell is the static
// busybox the tools install), exits 0, and reports both; and a scriptlet
// whose interpreter is missing.
func TestFailedScriptletsAsRPMReportsThem(t *testing.T) {
	dir := t.TempDir()
	spec := `%install
mkdir -p %{buildroot}/app/share
echo a > %{buildroot}/app/share/a.txt
%post
exit 3
%posttrans
kill -9 $$
%postun -p /no/such/interpreter
%files
/app/share
`
	pkg := rpmbuild(t, dir, "fails", spec)
	root := filepath.Join(dir, "root")
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal("no busybox (the tools install busybox-static):", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", busybox, filepath.Join(root, "bin", "sh"))
	run(t, "rpm", "--root", root, "--initdb")
	out, err := exec.Command("rpm", "--root", root, "-i", "--nodeps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -i: %v\n%s", err, out)
	}
	erased, err := exec.Command("rpm", "--root", root, "-e", "fails").CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -e: %v\n%s", err, erased)
	}
	out = append(out, erased...)
	// Each once, what dnf adds between them ignored.
	log := append(slices.Clone(out), "Error in POSTIN scriptlet in rpm package fails\n"...)
	log = append(log, out...)
	// dnf5's way of printing rpm's line.
	log = append(log, ">>> [RPM] %triggerin(other-2-1.x86_64) scriptlet failed, exit status 1\n"...)
	want := []string{"fails-1.0-1.noarch's %post (exit status 3)", "fails-1.0-1.noarch's %posttrans (signal 9)", "fails-1.0-1.noarch's %postun (exit status 127)", "other-2-1.x86_64's %triggerin (exit status 1)"}
	if got := failedScriptlets(log); !slices.Equal(got, want) {
		t.Errorf("failedScriptlets = %q, want %q; rpm printed:\n%s", got, want, out)
	}
	if got := failedScriptlets([]byte("Installing: fails\nComplete!\n")); got != nil {
		t.Errorf("failedScriptlets of a clean install = %q", got)
	}
}

func TestMarkAdded(t *testing.T) {
	a := buildstep.Package{NEVRA: rpmver.NEVRA{Name: "a", Epoch: 0, Version: "1", Release: "1", Arch: "noarch"}}
	b := buildstep.Package{NEVRA: rpmver.NEVRA{Name: "b", Epoch: 0, Version: "1", Release: "1", Arch: "noarch"}}
	b2 := b
	b2.Version = "2"
	got := markAdded([]buildstep.Package{b, a}, []buildstep.Package{b2, a})
	if len(got) != 2 || got[0].Name != "a" || got[0].Added || !got[1].Added || got[1].Version != "2" {
		t.Errorf("got %+v", got)
	}
}

func TestUpdatePlan(t *testing.T) {
	nevra := func(name, v string) rpmver.NEVRA {
		return rpmver.NEVRA{Name: name, Version: v, Release: "1", Arch: "x86_64"}
	}
	set := func(ps ...rpmver.NEVRA) map[string]rpmver.NEVRA {
		m := map[string]rpmver.NEVRA{}
		for _, p := range ps {
			m[p.Name+"."+p.Arch] = p
		}
		return m
	}
	kept := set(nevra("a", "1"), nevra("b", "1"), nevra("dropped", "1"))
	install, erase, ok := plan(set(nevra("a", "1"), nevra("b", "2"), nevra("new", "1")), kept)
	if !ok || !slices.Equal(install, []string{"b-2-1.x86_64", "new-1-1.x86_64"}) || !slices.Equal(erase, []string{"dropped-1-1.x86_64"}) {
		t.Errorf("plan = %q, %q, %v", install, erase, ok)
	}
	if _, _, ok := plan(set(nevra("a", "0.9")), kept); ok {
		t.Error("a downgrade was planned")
	}
	if install, erase, ok := plan(kept, kept); !ok || install != nil || erase != nil {
		t.Errorf("nothing changed: %q, %q, %v", install, erase, ok)
	}
}

// The verified report gives the stamps of the files in the step's output
// (the kept install's copy), not of the kept install the check read; files
// the check did not verify are not in it.
func TestWriteVerifiedStampsTheOutput(t *testing.T) {
	kept, out, reports := t.TempDir(), t.TempDir(), t.TempDir()
	for _, dir := range []string{kept, out} {
		os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
		os.WriteFile(filepath.Join(dir, "bin/app"), []byte("app"), 0o755)
		os.WriteFile(filepath.Join(dir, "bin/conf"), []byte("conf"), 0o644)
	}
	s := &step{
		cfg:   &buildstep.InstallConfig{Prefix: "/app", AppOut: out, Out: reports},
		state: &state{keep: true, appTarget: kept},
		report: buildstep.InstallReport{Files: []buildstep.PackagedFile{
			{Package: "app", Path: "/app/bin/app", DigestAlgo: buildstep.DigestSHA256, Digest: "aa"},
			{Package: "app-extra", Path: "/app/bin/app", DigestAlgo: buildstep.DigestSHA256, Digest: "aa"},
			{Package: "app", Path: "/app/bin/conf", Flags: buildstep.FileFlagConfig},
		}},
		verified: filecheck.Verified{"/app/bin/app": {Path: "/app/bin/app", DigestAlgo: buildstep.DigestSHA256, Digest: "aa"}},
	}
	if err := s.writeVerified(); err != nil {
		t.Fatal(err)
	}
	dt, err := os.ReadFile(filepath.Join(reports, buildstep.VerifiedReportFile))
	if err != nil {
		t.Fatal(err)
	}
	files, err := buildstep.ParseVerified(dt)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Lstat(filepath.Join(out, "bin/app"))
	want, _ := buildstep.StampOf(fi)
	if len(files) != 1 || files[0].Path != "/app/bin/app" || files[0].Digest != "aa" || files[0].Stamp != want {
		t.Errorf("verified report %+v, want /app/bin/app once with the output's stamp %+v", files, want)
	}
}

// TestResolveReadsNoPayload: rpm, run in the fresh resolve's environment,
// records a package whose payload is damaged into a database alone
// (--justdb) without reading the payload, and refuses it otherwise.
func TestResolveReadsNoPayload(t *testing.T) {
	dir := t.TempDir()
	spec := `%install
mkdir -p %{buildroot}/app/share
head -c 200000 /dev/urandom > %{buildroot}/app/share/data
%files
/app/share/data
`
	pkg := rpmbuild(t, dir, "big", spec, "--define", "_binary_payload w0.gzdio")
	dt, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	// A byte in the middle of the payload (the headers are a few KB).
	dt[len(dt)-50000] ^= 0xff
	if err := os.WriteFile(pkg, dt, 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := resolveEnv(filepath.Join(dir, "home"))
	if err != nil {
		t.Fatal(err)
	}
	justdb := func(env []string) error {
		root := filepath.Join(t.TempDir(), "root")
		run(t, "rpm", "--root", root, "--initdb")
		cmd := exec.Command("rpm", "--root", root, "-i", "--justdb", "--nodeps", pkg)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := justdb(nil); err == nil {
		t.Fatal("rpm recorded a package with a damaged payload: the test shows nothing")
	}
	if err := justdb(env); err != nil {
		t.Errorf("in the resolve's environment: %v", err)
	}
}

// rpmbuild builds in dir the noarch package name-1.0-1 whose spec ends
// with body (its %install and %files; extra: rpmbuild's options) and
// returns its path.
func rpmbuild(t *testing.T, dir, name, body string, extra ...string) string {
	t.Helper()
	return rpmbuildWith(t, dir, name, "", body, extra...)
}

// rpmbuildWith is rpmbuild with more tags in the spec's preamble (each
// line ending in a newline).
func rpmbuildWith(t *testing.T, dir, name, preamble, body string, extra ...string) string {
	t.Helper()
	specPath := filepath.Join(dir, name+".spec")
	spec := fmt.Sprintf("Name: %s\nVersion: 1.0\nRelease: 1\nSummary: %[1]s\nLicense: MIT\nBuildArch: noarch\n%[2]s%%description\n%[1]s\n%[3]s", name, preamble, body)
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "rpmbuild", append(append([]string{"-bb", "--define", "_topdir " + dir}, extra...), specPath)...)
	return filepath.Join(dir, "RPMS", "noarch", name+"-1.0-1.noarch.rpm")
}

// run runs a command, failing the test if it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

func TestIsBuildIDLink(t *testing.T) {
	for _, tc := range []struct {
		path string
		mode uint32
		want bool
	}{
		{"/usr/lib/.build-id", 0o040755, true},
		{"/usr/lib/.build-id/81", 0o040755, true},
		{"/usr/lib/.build-id/81/eb5ed73b26af22e039a3b548c663ec2b6dc0e0", 0o120777, true},
		{"/usr/lib/.build-id/81/eb5ed73b26af22e039a3b548c663ec2b6dc0e0", 0o100644, false}, // a file: not rpm's
		{"/usr/lib/.build-idx", 0o040755, false},
		{"/usr/lib/debug/.build-id/81", 0o040755, false},
		{"/usr/bin/tool", 0o120777, false},
	} {
		if got := isBuildIDLink(buildstep.PackagedFile{Path: tc.path, Mode: tc.mode}); got != tc.want {
			t.Errorf("isBuildIDLink(%s, %o) = %v, want %v", tc.path, tc.mode, got, tc.want)
		}
	}
}

// TestReadFailureFindsFileConflicts: rpm's transaction problems, as dnf
// and dnf5 print them, between two new packages and with an installed one.
func TestReadFailureFindsFileConflicts(t *testing.T) {
	log := `Running transaction test
Error: Transaction test error:
  file /app/share/same.txt conflicts between attempted installs of conflict-a-1.0-1.noarch and conflict-b-1.0-1.noarch
  file /app/share/with space.txt conflicts between attempted installs of conflict-a-1.0-1.noarch and conflict-b-1.0-1.noarch
Transaction failed: Rpm transaction failed.
  - file /usr/share/x from install of app-tool-2-1.x86_64 conflicts with file from package glib2-2.80-1.fc41.x86_64
  file /app/share/same.txt conflicts between attempted installs of conflict-a-1.0-1.noarch and conflict-b-1.0-1.noarch
`
	got := readFailure([]byte(log)).Conflicts
	want := []buildstep.Conflict{
		{Path: "/app/share/same.txt", Package: "conflict-a-1.0-1.noarch", Other: "conflict-b-1.0-1.noarch"},
		{Path: "/app/share/with space.txt", Package: "conflict-a-1.0-1.noarch", Other: "conflict-b-1.0-1.noarch"},
		{Path: "/usr/share/x", Package: "app-tool-2-1.x86_64", Other: "glib2-2.80-1.fc41.x86_64", Installed: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("conflicts %+v, want %+v", got, want)
	}
	r := buildstep.InstallReport{Failure: &buildstep.Failure{Status: 1, Conflicts: want, Message: "m"}}
	back, err := buildstep.ParseInstallReport(r.Encode())
	if err != nil || !slices.Equal(back.Failure.Conflicts, want) {
		t.Errorf("read back %+v, %v", back.Failure, err)
	}
}

func TestUpdatedPackages(t *testing.T) {
	p := func(name, version string, added bool) buildstep.Package {
		return buildstep.Package{NEVRA: rpmver.NEVRA{Name: name, Version: version, Release: "1", Arch: "x86_64"}, Added: added}
	}
	before := []buildstep.Package{p("glib2", "2.80", false), p("bash", "5.2", false)}
	after := []buildstep.Package{p("glib2", "2.82", true), p("bash", "5.2", false), p("app", "1", true)}
	got := updatedPackages(before, after)
	if want := []buildstep.Update{{From: "glib2-2.80-1.x86_64", To: "glib2-2.82-1.x86_64"}}; !slices.Equal(got, want) {
		t.Errorf("updated %+v, want %+v", got, want)
	}
}

// TestReadFailureFindsExcludedNames: what dnf and dnf5 print for a name
// the repos have only among excluded packages.
func TestReadFailureFindsExcludedNames(t *testing.T) {
	for name, log := range map[string]string{
		"dnf":  "All matches were filtered out by exclude filtering for argument: hello\nError: Unable to find a match: hello\n",
		"dnf5": "Failed to resolve the transaction:\nArgument 'hello' matches only excluded packages.\n",
	} {
		f := readFailure([]byte(log))
		if len(f.Missing) != 0 || !slices.Equal(f.Excluded, []string{"hello"}) {
			t.Errorf("%s: missing %q, excluded %q", name, f.Missing, f.Excluded)
		}
	}
}

// TestReadFailureFindsRefusedSignatures: what dnf and dnf5 print for a
// package with no signature, one signed with a key the repo's gpgkey does
// not hold, and dnf5's key import without GnuPG (their real output).
func TestReadFailureFindsRefusedSignatures(t *testing.T) {
	log := `Package hello-1.0-1.noarch.rpm is not signed
Package hello-data-1.0-1.noarch.rpm is not signed
Error: GPG check FAILED
Import of key(s) didn't help, wrong key(s)?
Public key for hello-1.0-1.noarch.rpm is not installed. Failing package is: hello-1.0-1.noarch
 GPG Keys are configured as: http://127.0.0.1:42437/keys/RPM-GPG-KEY-example
Transaction failed: Signature verification failed.
OpenPGP check for package "hello-1.0-1.noarch" (/var/cache/libdnf5/r-eb91ff7216857867/packages/hello-1.0-1.noarch.rpm) from repo "r" has failed: The package is not signed.
OpenPGP check for package "odd-2-1.x86_64" (/var/cache/libdnf5/r-1/packages/odd-2-1.x86_64.rpm) from repo "r" has failed: Some other reason.
Failed to import OpenPGP keys into temporary keyring: gpgme_engine_check_version() error: Invalid crypto engine
`
	got := readFailure([]byte(log)).Unverified
	want := []buildstep.Unverified{
		{Package: "hello-1.0-1.noarch", Reason: buildstep.UnverifiedUnsigned},
		{Package: "hello-data-1.0-1.noarch", Reason: buildstep.UnverifiedUnsigned},
		{Package: "hello-1.0-1.noarch", Reason: buildstep.UnverifiedNoKey},
		{Package: "hello-1.0-1.noarch", Repo: "r", Reason: buildstep.UnverifiedUnsigned},
		{Package: "odd-2-1.x86_64", Repo: "r", Reason: "Some other reason"},
		{Reason: buildstep.UnverifiedNoGnuPG},
	}
	if !slices.Equal(got, want) {
		t.Errorf("unverified %+v,\nwant %+v", got, want)
	}
	keys := []string{"gpgkey http://h/k of repo r: 404 Not Found"}
	r := buildstep.InstallReport{Failure: &buildstep.Failure{Status: 1, Unverified: want, Keys: keys, Message: "m"}}
	back, err := buildstep.ParseInstallReport(r.Encode())
	if err != nil || !slices.Equal(back.Failure.Unverified, want) || !slices.Equal(back.Failure.Keys, keys) {
		t.Errorf("read back %+v, %v", back, err)
	}
}

// TestReadFailureFindsVariablesLeftInURLs: a repo URL fetched with
// $releasever in it (the installer found no release version) is reported
// by the variable's name, once; a URL with its variables filled in is not.
func TestReadFailureFindsVariablesLeftInURLs(t *testing.T) {
	log := `Unable to detect release version (use '--releasever' to specify release version)
Errors during downloading metadata for repository 'versioned':
  - Status code: 404 for http://127.0.0.1:45781/$releasever/repodata/repomd.xml (IP: 127.0.0.1)
  - Curl error (6): Couldn't resolve host name for https://mirrors.example.org/metalink?repo=fedora-${releasever_major}&arch=x86_64 [Could not resolve host]
Error: Failed to download metadata for repo 'versioned': Cannot download repomd.xml: All mirrors were tried
  - Status code: 404 for https://example.org/41/$releasever/repodata/repomd.xml
  - Status code: 404 for https://example.org/41/x86_64/repodata/repomd.xml
`
	f := readFailure([]byte(log))
	if want := []string{"releasever", "releasever_major"}; !slices.Equal(f.Unset, want) {
		t.Errorf("unset %q, want %q", f.Unset, want)
	}
	r := buildstep.InstallReport{Failure: &buildstep.Failure{Status: 1, Unset: f.Unset, Message: "m"}}
	back, err := buildstep.ParseInstallReport(r.Encode())
	if err != nil || !slices.Equal(back.Failure.Unset, f.Unset) {
		t.Errorf("read back %+v, %v", back, err)
	}
}

func TestReadFailureNamesReposWhoseMetadataWasNotRead(t *testing.T) {
	log := `Errors during downloading metadata for repository 'local':
  - Curl error (37): Couldn't read a file:// file for file:///run/x/repodata/repomd.xml
Error: Failed to download metadata for repo 'local': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried
Updating and loading repositories:
>>> Status code: 404 for https://example.org/f41/repodata/repomd.xml (IP: 192.0.2.1)
>>> Librepo error: Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were triedFailed to download metadata (baseurl: "https://example.org/f41") for repository "fedora"
>>> Usable URL not found
Failed to download metadata (metalink: "https://mirrors.example.org/metalink") for repository "updates"
error: cannot update repo 'micro': Cannot download repomd.xml: Status code: 404
>>> Downloading successful, but checksum doesn't match.
>>> No more mirrors to try - All mirrors were already tried without success
Failed to download metadata (baseurl: "file:///run/flatpak-frontend/context/0/") for repository "dnf54": Cannot download, all mirrors were already tried without success
Error: Failed to download metadata for repo 'local': again
`
	got := readFailure([]byte(log)).Unread
	want := []buildstep.UnreadRepo{
		{Repo: "local", Why: "Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried"},
		{Repo: "fedora", Why: "Librepo error: Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried (Status code: 404 for https://example.org/f41/repodata/repomd.xml (IP: 192.0.2.1))"},
		{Repo: "updates", Why: "Status code: 404 for https://example.org/f41/repodata/repomd.xml (IP: 192.0.2.1)"},
		{Repo: "micro", Why: "Cannot download repomd.xml: Status code: 404"},
		{Repo: "dnf54", Why: "Cannot download, all mirrors were already tried without success (Downloading successful, but checksum doesn't match.)"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("unread repos\n%+v\nwant\n%+v", got, want)
	}
}

func TestUnreadRepoFoldersSaysWhatAFolderLacks(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	rpms := filepath.Join(dir, "rpms")
	for _, f := range []string{"repo/repodata/repomd.xml", "rpms/x86_64/a-1-1.x86_64.rpm", "rpms/noarch/b-1-1.noarch.rpm", "rpms/notes.txt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := unreadRepoFolders([]buildstep.Repo{
		{ID: "ok", Dir: repo},
		{ID: "rpms", Dir: rpms},
		{ID: "gone", Dir: filepath.Join(dir, "gone")},
		{ID: "vars", Dir: filepath.Join(dir, "$basearch")},
		{ID: "remote"},
	})
	want := []buildstep.UnreadRepo{
		{Repo: "rpms", Why: buildstep.RepoNoMetadata, RPMs: 2},
		{Repo: "gone", Why: buildstep.RepoNoFolder},
	}
	if !slices.Equal(got, want) {
		t.Errorf("unread repo folders %+v, want %+v", got, want)
	}
}

// TestWithBaseURL: the .repo file of a repo indexBareRepos made reads the
// folder it made; its other keys stay.
func TestWithBaseURL(t *testing.T) {
	in := "[example]\nname=example\nbaseurl=file:///ctx/0/\nenabled=1\ngpgcheck=0\n"
	want := "[example]\nname=example\nbaseurl=file:///tmp/made-repos/example/\nenabled=1\ngpgcheck=0\n"
	if got := string(withBaseURL([]byte(in), "/tmp/made-repos/example")); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestStaleNotice: a repo folder whose repodata/ does not list some of its
// RPMs (added or rebuilt since createrepo_c ran), or lists files that are
// gone, gets a notice that names them; one that matches, none. Source
// packages are not compared.
func TestStaleNotice(t *testing.T) {
	dir := t.TempDir()
	pkg := func(name, loc string) repodata.Indexed {
		return repodata.Indexed{Location: loc, SHA256: "00", Package: &rpmfile.Package{NEVRA: rpmver.NEVRA{Name: name, Version: "1", Release: "1", Arch: "noarch"}}}
	}
	if err := repodata.Write(dir, []repodata.Indexed{pkg("a", "a-1-1.noarch.rpm"), pkg("b", "sub/b-1-1.noarch.rpm")}); err != nil {
		t.Fatal(err)
	}
	touch := func(rel string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	touch("a-1-1.noarch.rpm")
	touch("sub/b-1-1.noarch.rpm")
	touch("a-1-1.src.rpm")
	r := buildstep.Repo{ID: "local", Dir: dir}
	if n := staleNotice(r); n != "" {
		t.Errorf("a repo that matches its folder: %s", n)
	}
	touch("a-2-1.noarch.rpm")
	os.Remove(filepath.Join(dir, "sub/b-1-1.noarch.rpm"))
	want := "repos: repo local: its repodata/ does not list 1 .rpm file in its folder (a-2-1.noarch.rpm), which the installer therefore does not see, and lists 1 package file the folder does not have (sub/b-1-1.noarch.rpm): run createrepo_c on the folder again (or remove its repodata/: the build then indexes the RPMs itself)"
	if n := staleNotice(r); n != want {
		t.Errorf("notice\n%s\nwant\n%s", n, want)
	}
}
