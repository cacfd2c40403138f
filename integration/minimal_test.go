package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
)

// TestBuildOnARuntimeWithOnlyItsInstallerRPMAndAShell builds the example
// app on a runtime that holds dnf5, rpm and busybox as /bin/sh and nothing
// else (no python3, awk, find, comm or coreutils): the build steps run the
// frontend's own binary, so they need nothing more from the runtime.
func TestBuildOnARuntimeWithOnlyItsInstallerRPMAndAShell(t *testing.T) {
	rt := harness.MinimalRuntime(t)
	tree := t.TempDir()
	readImage(t, rt.Dir, tree)
	for _, tool := range []string{"python3", "awk", "mawk", "gawk", "find", "comm", "sort", "cp", "sha256sum", "bash", "dnf"} {
		if _, err := os.Lstat(filepath.Join(tree, "files/bin", tool)); err == nil {
			t.Fatalf("the minimal runtime has %s", tool)
		}
	}
	for _, need := range []string{"dnf5", "rpm", "sh"} {
		if _, err := os.Lstat(filepath.Join(tree, "files/bin", need)); err != nil {
			t.Fatalf("the minimal runtime lacks %s: %v", need, err)
		}
	}

	yaml := strings.Replace(appSpec("hello", "hello-extra"), "runtime-name: org.example.Platform", "runtime-name: "+harness.MinimalRuntimeID, 1)
	res, err := build(t, buildOpts{
		dir: writeSpec(t, yaml), file: "flatpak.yaml", noRuntimeContext: true,
		contexts: map[string]string{"runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.log, "dnf5") {
		t.Error("the build log does not show dnf5 installing")
	}
	dir := t.TempDir()
	img := readImage(t, res.oci, dir)
	for _, f := range []string{"files/bin/hello", "files/share/hello/extra.txt", "export/share/applications/org.example.Hello.desktop", "metadata"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the image lacks %s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "metadata"))
	if !strings.Contains(string(md), "runtime="+harness.MinimalRuntimeID+"/x86_64/1") {
		t.Errorf("metadata:\n%s", md)
	}
	rpms := img.config.Config.Labels[manifest.Label]
	for _, want := range []string{" hello 1.0-1.noarch", " hello-extra 1.0-1.noarch", " runtime-provides 1-1.noarch"} {
		if !strings.Contains(rpms, want) {
			t.Errorf("the rpms label lacks %q:\n%s", want, rpms)
		}
	}
}

// TestRebuildWithDnf5UpdatesTheLastInstall: on the minimal runtime (dnf5,
// rpm 6.1, which reads the fresh resolve's macros from ~/.config/rpm), a
// new version of a package in the repo updates the app's last install
// instead of starting over, and the image has the new version.
func TestRebuildWithDnf5UpdatesTheLastInstall(t *testing.T) {
	rt := harness.MinimalRuntime(t)
	id := fmt.Sprintf("org.example.Hello.Dnf5Update%d", time.Now().UnixNano())
	yaml := strings.NewReplacer("runtime-name: org.example.Platform", "runtime-name: "+harness.MinimalRuntimeID,
		"id: org.example.Hello\n", "id: "+id+"\n").Replace(appSpec("hello"))
	dir := writeSpec(t, yaml)
	rebuild := func(greeting string) (*buildResult, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "oci")
		res, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml", out: out, noRuntimeContext: true,
			contexts: map[string]string{"rpms": greetingRepo(t, greeting), "runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest}})
		if err != nil {
			t.Fatal(err)
		}
		tree := t.TempDir()
		readImage(t, out, tree)
		return res, tree
	}
	res, _ := rebuild("1.0")
	checkReadsLittle(t, res.log)
	res, tree := rebuild("2.0")
	if !strings.Contains(res.log, "updating this app's last install") || strings.Contains(res.log, "starting over") {
		t.Errorf("hello-data 2.0 did not update the last install:\n%s", res.log)
	}
	checkReadsLittle(t, res.log)
	if got := string(mustRead(t, filepath.Join(tree, "files/share/hello/greeting.txt"))); got != "Greetings from hello-data 2.0\n" {
		t.Errorf("greeting after the update: %q", got)
	}
}

// TestBuildImageWhoseRPMLooksElsewhereSeesTheRuntimesPackages: a build
// image whose rpm keeps its database in /var/lib/rpm (EL's place; the
// minimal sid runtime with its %_dbpath set so) installs onto the test
// runtime, whose database is in /usr/lib/sysimage/rpm (Fedora's): the
// app's dependencies are still satisfied by the runtime's packages.
// Without the link the step makes, dnf5 saw an empty database there and
// could not resolve /bin/sh.
func TestBuildImageWhoseRPMLooksElsewhereSeesTheRuntimesPackages(t *testing.T) {
	base := withFiles(t, harness.MinimalRuntime(t).Dir, map[string]string{"files/etc/rpm/macros": "%_dbpath /var/lib/rpm\n"})
	res, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello")+"installer: dnf5\n"), file: "flatpak.yaml",
		contexts: map[string]string{"base": "oci-layout://" + base}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.log, "the runtime's rpm database is in /usr/lib/sysimage/rpm, the build image's rpm looks in /var/lib/rpm: linked there") {
		t.Errorf("the build log does not say where the database was found:\n%s", res.log)
	}
	if !strings.Contains(res.log, "dnf5") {
		t.Error("the build log does not show dnf5 installing")
	}
	dir := t.TempDir()
	img := readImage(t, res.oci, dir)
	if _, err := os.Stat(filepath.Join(dir, "files/bin/hello")); err != nil {
		t.Errorf("the image lacks hello: %v", err)
	}
	rpms := img.config.Config.Labels[manifest.Label]
	for _, want := range []string{" hello 1.0-1.noarch", " runtime-provides 1-1.noarch"} {
		if !strings.Contains(rpms, want) {
			t.Errorf("the rpms label lacks %q:\n%s", want, rpms)
		}
	}
}

// TestRebuildOnARuntimeWhoseRPMDatabaseIsNotCopiedKeepsTheInstall: where
// the runtime's rpm database cannot be copied aside for the read beside
// the installer (here a folder in it; a database of more than 64 MiB, as a
// big runtime's can be, is the same case), the install step reads the
// runtime's packages before the installer. The first build still keeps its
// install, with the runtime's packages in its fingerprint, and the next
// added package goes on top of it.
func TestRebuildOnARuntimeWhoseRPMDatabaseIsNotCopiedKeepsTheInstall(t *testing.T) {
	rt := harness.Runtime(t)
	base := withFiles(t, rt.Dir, map[string]string{"files/lib/sysimage/rpm/old/README": "a folder in the rpm database's folder\n"})
	app := newOwnApp(t, "Db")
	if res := app.build(t, base, "hello"); strings.Contains(res.log, onTop) {
		t.Fatal("the first build of the app installed on top of something")
	}
	res := app.build(t, base, "hello", "hello-extra")
	if !strings.Contains(res.log, onTop) {
		t.Fatalf("adding hello-extra after the first build installed everything again:\n%s", res.log)
	}
	dir := t.TempDir()
	readImage(t, res.oci, dir)
	for _, f := range []string{"files/bin/hello", "files/share/hello/extra.txt"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the image lacks %s: %v", f, err)
		}
	}
}

// TestRebuildOnARuntimeWithOtherPackagesStartsOver: the app's kept install
// was made on the runtime's packages, and serves a later build only on the
// same ones. A runtime image that changed elsewhere (a file added) still
// has them: the next added package goes on top. A runtime whose rpm
// database records one more package does not: the build installs from
// nothing, and says why.
func TestRebuildOnARuntimeWithOtherPackagesStartsOver(t *testing.T) {
	rt := harness.Runtime(t)
	tree := t.TempDir()
	readImage(t, rt.Dir, tree)
	const dbDir = "files/lib/sysimage/rpm"
	db := filepath.Join(t.TempDir(), "rpm")
	if out, err := exec.Command("cp", "-a", filepath.Join(tree, dbDir), db).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if out, err := exec.Command("rpm", "--dbpath", db, "-i", "--justdb", "--nodeps", harness.RPMFile(t, "base-extra")).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i --justdb: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(db)
	if err != nil {
		t.Fatal(err)
	}
	dbFiles := map[string]string{}
	for _, e := range entries {
		dbFiles[dbDir+"/"+e.Name()] = string(mustRead(t, filepath.Join(db, e.Name())))
	}
	samePackages := withFiles(t, rt.Dir, map[string]string{"files/share/unrelated.txt": "not a package's\n"})
	otherPackages := withFiles(t, rt.Dir, dbFiles)

	app := newOwnApp(t, "Rt")
	const changed = "installing from nothing, not on this app's last install: the runtime, the installer or the repos' definitions changed"
	if res := app.build(t, rt.Dir, "hello"); strings.Contains(res.log, onTop) {
		t.Fatal("the first build of the app installed on top of something")
	}
	if res := app.build(t, samePackages, "hello", "hello-data"); !strings.Contains(res.log, onTop) {
		t.Fatalf("on a runtime image with the same packages, adding hello-data installed everything again:\n%s", res.log)
	}
	res := app.build(t, otherPackages, "hello", "hello-data", "hello-extra")
	if strings.Contains(res.log, onTop) || !strings.Contains(res.log, changed) {
		t.Fatalf("on a runtime with one more package, the build did not start over saying why (%q):\n%s", changed, res.log)
	}
	dir := t.TempDir()
	readImage(t, res.oci, dir)
	for _, f := range []string{"files/bin/hello", "files/share/hello/extra.txt"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the image lacks %s: %v", f, err)
		}
	}
}

// ownApp is an app with an id and a repo of its own (hello, hello-data and
// hello-extra), so that no other test's install is its last (see
// TestRebuildAddingAPackageKeepsTheOtherLayers).
type ownApp struct{ id, repo string }

func newOwnApp(t *testing.T, tag string) ownApp {
	t.Helper()
	a := ownApp{id: fmt.Sprintf("org.example.Hello.%s%d", tag, time.Now().UnixNano()), repo: t.TempDir()}
	writeRepo(t, a.repo, "hello", "hello-data", "hello-extra")
	return a
}

// build builds the app's packages on the runtime in the OCI layout runtime.
func (a ownApp) build(t *testing.T, runtime string, packages ...string) *buildResult {
	t.Helper()
	spec := strings.Replace(appSpec(packages...), "id: org.example.Hello\n", "id: "+a.id+"\n", 1)
	res, err := build(t, buildOpts{dir: writeSpec(t, spec), file: "flatpak.yaml",
		contexts: map[string]string{"runtime": "oci-layout://" + runtime, "rpms": a.repo}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
