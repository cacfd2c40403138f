package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/solver/errdefs"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func exampleDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../examples/hello")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBuildInstallRunExampleApp is the product's main story: the example
// flatpak.yaml goes in, an OCI image comes out, and real Flatpak imports,
// installs and runs it.
func TestBuildInstallRunExampleApp(t *testing.T) {
	res, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	desc := readIndex(t, res.oci)
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != "app/org.example.Hello/x86_64/stable" {
		t.Errorf("ref.name annotation = %q", got)
	}

	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	fp.ImportOCI(t, res.oci)
	fp.Install(t, "org.example.Platform")
	fp.Install(t, "org.example.Hello")
	out := fp.Run(t, "org.example.Hello")
	if !strings.Contains(out, "Hello from org.example.Hello") {
		t.Errorf("flatpak run printed %q", out)
	}

	exports := filepath.Join(fp.UserDir, "exports", "share")
	for _, f := range []string{
		"applications/org.example.Hello.desktop",
		"icons/hicolor/64x64/apps/org.example.Hello.png",
	} {
		if _, err := os.Stat(filepath.Join(exports, f)); err != nil {
			t.Errorf("export %s missing after install: %v", f, err)
		}
	}
}

// checkReadsLittle: the install step's check took the files rpm wrote as
// rpm verified them (it watched rpm commit them) and read few, leaving
// aside those rpm wrote into a new folder before the watch saw the folder
// (on a busy machine, a small package's).
func checkReadsLittle(t *testing.T, log string) {
	t.Helper()
	m := regexp.MustCompile(`check: (\d+) packaged files read, (\d+) taken as rpm wrote them`).FindStringSubmatch(log)
	if m == nil {
		t.Error("the build log has no check line")
		return
	}
	read, _ := strconv.Atoi(m[1])
	trusted, _ := strconv.Atoi(m[2])
	unseen := 0
	if m := regexp.MustCompile(`check: (\d+) of the files read were written before the watch saw their new folder`).FindStringSubmatch(log); m != nil {
		unseen, _ = strconv.Atoi(m[1])
	}
	if trusted == 0 || (read-unseen)*3 > trusted {
		t.Errorf("the check read %d files (%d written before the watch saw their folder) and took %d as rpm wrote them: it did not see rpm commit most", read, unseen, trusted)
	}
}

// writeSpec writes a flatpak.yaml into a new build context folder.
func writeSpec(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "flatpak.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// appSpec is a minimal app on the test runtime with the given packages.
func appSpec(packages ...string) string {
	return `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: hello
packages:
  - ` + strings.Join(packages, "\n  - ") + `
repos:
  - name: example
    context: rpms
    path: .
`
}

// sourceLines are the YAML lines BuildKit will show under an error.
func sourceLines(err error) []int32 {
	var lines []int32
	for _, s := range errdefs.Sources(err) {
		for _, r := range s.Ranges {
			lines = append(lines, r.Start.Line)
		}
	}
	return lines
}

func TestBuildRejectsPackageInstallingIntoUsr(t *testing.T) {
	_, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "bad-usr")), file: "flatpak.yaml"})
	if err == nil {
		t.Fatal("a package installing into /usr built")
	}
	msg := err.Error()
	if !strings.Contains(msg, "bad-usr") || !strings.Contains(msg, "/usr/share/bad-usr/file.txt") {
		t.Errorf("error does not name the package and its file: %v", err)
	}
	// bad-usr is the second entry of packages, on line 7.
	if lines := sourceLines(err); !slices.Contains(lines, 7) {
		t.Errorf("error points at lines %v, want 7", lines)
	}
}

func TestBuildNamesMissingPackageAndItsLine(t *testing.T) {
	_, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "helo")), file: "flatpak.yaml"})
	if err == nil {
		t.Fatal("a package that does not exist built")
	}
	if !strings.Contains(err.Error(), `"helo"`) {
		t.Errorf("error does not name the package: %v", err)
	}
	if lines := sourceLines(err); !slices.Contains(lines, 7) {
		t.Errorf("error points at lines %v, want 7", lines)
	}
}

// TestFinishingKeyNamingNothingSaysSoAtItsLine: a rename-icon naming an
// icon the app does not have fails at its line, saying so, whether the
// finishing runs in the install step or in a step of its own (after
// cleanup-commands); failing cleanup-commands fail at theirs. What runs
// again to explain the failure follows the step that failed: the install
// step that finishes too, once (installing and finishing again), the
// finishing step alone, nothing after cleanup-commands.
func TestFinishingKeyNamingNothingSaysSoAtItsLine(t *testing.T) {
	installSteps := regexp.MustCompile(`(?m)^#\d+ [0-9.]+ flatpak-frontend: install step: `)
	again := func(log, what string) int {
		return len(regexp.MustCompile(`(?m)^#\d+ [0-9.]+ `+regexp.QuoteMeta(buildstep.DiagnosisLine+what)+`$`).FindAllString(log, -1))
	}
	for _, tc := range []struct {
		name, extra, want   string
		line                int32
		installed, finished int
	}{
		{"in the install step", "rename-icon: org.example.NoSuchIcon\n",
			"rename-icon: no icon named org.example.NoSuchIcon in /app/share/icons", 11, 1, 1},
		{"after cleanup-commands", "rename-icon: org.example.NoSuchIcon\ncleanup-commands: rm -rf /app/share/doc\n",
			"rename-icon: no icon named org.example.NoSuchIcon in /app/share/icons", 11, 0, 1},
		{"in cleanup-commands", "cleanup-commands: exit 3\n", "exit code: 3", 11, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// appSpec is ten lines.
			res, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello")+tc.extra), file: "flatpak.yaml"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !slices.Contains(sourceLines(err), tc.line) {
				t.Errorf("error at lines %v, want %q at line %d: %v", sourceLines(err), tc.want, tc.line, err)
			}
			if i, f := again(res.log, "installing again"), again(res.log, "finishing again"); i != tc.installed || f != tc.finished {
				t.Errorf("installed again %d times, finished again %d; want %d and %d", i, f, tc.installed, tc.finished)
			}
			// The failed install step is never cached, nor is a diagnosis.
			if n := len(installSteps.FindAllString(res.log, -1)); tc.installed == 1 && n != 2 {
				t.Errorf("the install step ran %d times, want 2", n)
			}
		})
	}
}

func TestBuildWithSourceDateEpochIsReproducible(t *testing.T) {
	dir := exampleDir(t)
	args := map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
	a, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml", args: args})
	if err != nil {
		t.Fatal(err)
	}
	b, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml", args: args, attrs: map[string]string{"no-cache": ""}})
	if err != nil {
		t.Fatal(err)
	}
	if a.digest == "" || a.digest != b.digest {
		t.Errorf("digests differ: %s then, with no cache, %s", a.digest, b.digest)
	}
	img := readImage(t, a.oci, "")
	for _, h := range img.entries {
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s owned by %d:%d", h.Name, h.Uid, h.Gid)
		}
		if !h.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s has mtime %v", h.Name, h.ModTime)
		}
		if m := h.Mode &^ 0o777; m != 0 {
			t.Errorf("%s has special mode bits %o", h.Name, h.Mode)
		}
	}
}

// TestImageMatchesFlatpakBuildBundle compares the image with what Flatpak's
// own tools make of the same tree: the metadata must be byte-identical to
// build-finish's and the labels those build-bundle --oci writes.
func TestImageMatchesFlatpakBuildBundle(t *testing.T) {
	res, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	ours := readImage(t, res.oci, tree)

	// The classic pipeline on the same files.
	s, err := spec.Parse("flatpak.yaml", mustRead(t, filepath.Join(exampleDir(t), "flatpak.yaml")), spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app, bundle := classicBundle(t, filepath.Join(tree, "files"), s.FinishArgs)
	if want, got := mustRead(t, filepath.Join(app, "metadata")), mustRead(t, filepath.Join(tree, "metadata")); !bytes.Equal(want, got) {
		t.Errorf("metadata differs from build-finish's:\n--- build-finish\n%s\n--- ours\n%s", want, got)
	}
	theirs := readImage(t, bundle, "")

	// Values that depend on the commit, time or compression.
	differ := map[string]bool{
		"org.flatpak.commit":                           true,
		"org.flatpak.timestamp":                        true,
		"org.flatpak.download-size":                    true,
		"org.flatpak.commit-metadata.xa.download-size": true,
		"org.flatpak.body":                             true,
	}
	for k, want := range theirs.config.Config.Labels {
		got, ok := ours.config.Config.Labels[k]
		switch {
		case k == "org.flatpak.commit":
			// Import computes its own commit id (see reference/flatpak-oci.md).
		case !ok:
			t.Errorf("label %s missing (build-bundle: %q)", k, want)
		case !differ[k] && got != want:
			t.Errorf("label %s = %q, build-bundle wrote %q", k, got, want)
		}
	}
	ol := ours.config.Config.Labels
	if !strings.Contains(ol["org.freedesktop.appstream.appdata"], "<id>org.example.Hello</id>") {
		t.Errorf("appstream appdata label = %.100q", ol["org.freedesktop.appstream.appdata"])
	}
	if !strings.HasPrefix(ol["org.freedesktop.appstream.icon-64"], "data:image/png;base64,") {
		t.Errorf("appstream icon-64 label = %.60q", ol["org.freedesktop.appstream.icon-64"])
	}
	// The layer holds what build-bundle's does: files/, export/, metadata.
	var theirNames, ourNames []string
	for _, h := range theirs.entries {
		theirNames = append(theirNames, strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/"))
	}
	for _, h := range ours.entries {
		ourNames = append(ourNames, strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/"))
	}
	for _, n := range theirNames {
		if n != "" && n != "." && !slices.Contains(ourNames, n) {
			t.Errorf("build-bundle's image has %s, ours does not", n)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// classicBundle runs the classic pipeline on an app's files: build-finish
// with finishArgs (command hello), build-export and build-bundle --oci. It
// returns the finished app folder and the bundle's OCI layout.
func classicBundle(t *testing.T, files string, finishArgs []string) (app, bundle string) {
	t.Helper()
	work := t.TempDir()
	app = filepath.Join(work, "app")
	if err := os.MkdirAll(filepath.Join(app, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(files, filepath.Join(app, "files")); err != nil {
		t.Fatal(err)
	}
	initial := "[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n"
	if err := os.WriteFile(filepath.Join(app, "metadata"), []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	flatpak := func(args ...string) {
		t.Helper()
		out, err := exec.Command("flatpak", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("flatpak %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	flatpak(append([]string{"build-finish", "--command=hello"}, append(finishArgs, app)...)...)
	repo := filepath.Join(work, "repo")
	flatpak("build-export", repo, app, "stable")
	bundle = filepath.Join(work, "bundle")
	flatpak("build-bundle", "--oci", repo, bundle, "org.example.Hello", "stable")
	return app, bundle
}

// TestRebuildAddingAPackageKeepsTheOtherLayers: each source package's files
// are a layer of their own, so a rebuild that adds a package into the same
// OCI layout keeps the other layers' blobs, writes one more, drops what
// only the old image used, and Flatpak runs the result. The added package
// is installed on top of the app's last install (kept from the first build
// on); a rebuild without one of its packages, or after the repo changed,
// updates it to what a fresh install picks.
func TestRebuildAddingAPackageKeepsTheOtherLayers(t *testing.T) {
	// An app id of its own: no other test's install is this app's last.
	id := fmt.Sprintf("org.example.Hello.Run%d", time.Now().UnixNano())
	spec := func(packages ...string) string {
		return strings.Replace(appSpec(packages...), "id: org.example.Hello\n", "id: "+id+"\n", 1)
	}
	// A repo of its own: with the harness's, another test's install of the
	// same packages would be a cache hit (a cache mount is no part of a
	// step's key), and this app would have no last install.
	out := filepath.Join(t.TempDir(), "oci")
	repo := t.TempDir()
	makeRepo := func() { writeRepo(t, repo, "hello", "hello-data", "hello-extra") }
	makeRepo()
	rebuild := func(packages ...string) *buildResult {
		t.Helper()
		res, err := build(t, buildOpts{dir: writeSpec(t, spec(packages...)), file: "flatpak.yaml", out: out, contexts: map[string]string{"rpms": repo}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := rebuild("hello")
	if strings.Contains(res.log, onTop) {
		t.Fatal("the first build of the app installed on top of something")
	}
	// The first build's install is kept: the next added package goes on
	// top of it.
	if res = rebuild("hello", "hello-extra"); !strings.Contains(res.log, onTop) {
		t.Fatal("adding hello-extra after the first build installed everything again")
	}
	makeRepo()
	if res = rebuild("hello"); strings.Contains(res.log, onTop) {
		t.Fatal("a build after the repo changed installed on top of the last install")
	}
	before := readImage(t, out, "")
	// hello and hello-data, then metadata and export/.
	if n := len(before.manifest.Layers); n != 3 {
		t.Fatalf("%d layers, want 3 (one per source package, one for metadata)", n)
	}
	oldManifest := readIndex(t, out)

	res = rebuild("hello", "hello-extra")
	if !strings.Contains(res.log, onTop) {
		t.Error("adding hello-extra installed everything again")
	}
	after := readImage(t, out, "")
	if n := len(after.manifest.Layers); n != 4 {
		t.Fatalf("%d layers after adding hello-extra, want 4", n)
	}
	checkContentID(t, out, res.log)
	// All but the last: metadata and export/ with the content id, which
	// changes with anything in the image.
	kept := before.manifest.Layers[:len(before.manifest.Layers)-1]
	for _, l := range kept {
		if !slices.ContainsFunc(after.manifest.Layers, func(d ocispecs.Descriptor) bool { return d.Digest == l.Digest }) {
			t.Errorf("layer %s of the first build is not in the rebuild: it was made again", l.Digest)
		}
	}
	if last := before.manifest.Layers[len(kept)]; slices.ContainsFunc(after.manifest.Layers, func(d ocispecs.Descriptor) bool { return d.Digest == last.Digest }) {
		t.Errorf("the last layer %s is the same after a package was added: it does not identify the image's content", last.Digest)
	}
	if _, err := os.Stat(blobPath(out, oldManifest)); err == nil {
		t.Error("the replaced image's manifest is still in the layout")
	}
	label := imageLabel(t, out, manifest.Label)
	for _, p := range []string{"hello ", "hello-data ", "hello-extra "} {
		if !strings.Contains(label, "\na "+p) {
			t.Errorf("the rpms label does not list %s as bundled:\n%s", p, label)
		}
	}

	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	fp.ImportOCI(t, out)
	fp.Install(t, "org.example.Platform")
	fp.Install(t, id)
	for file, want := range map[string]string{
		"/app/share/hello/extra.txt":    "Extra content from hello-extra",
		"/app/share/hello/greeting.txt": "Greetings from hello-data",
	} {
		if got := fp.Run(t, "--command=cat", id, file); !strings.Contains(got, want) {
			t.Errorf("%s in the installed app: %q, want %q", file, got, want)
		}
	}

	// Without hello (and so hello-data), nothing of them stays: the last
	// install is updated to what a fresh install of hello-extra picks,
	// erasing them.
	if res = rebuild("hello-extra"); strings.Contains(res.log, onTop) ||
		!strings.Contains(res.log, "package hello is no longer asked for: updating this app's last install") ||
		!strings.Contains(res.log, "rpm -e [hello-data-1.0-1.noarch hello-1.0-1.noarch]") {
		t.Errorf("a rebuild without hello did not update the last install by erasing hello and hello-data:\n%s", res.log)
	}
	var names []string
	for _, h := range readImage(t, out, "").entries {
		names = append(names, h.Name)
	}
	if slices.Contains(names, "files/bin/hello") || slices.Contains(names, "files/share/hello/greeting.txt") || !slices.Contains(names, "files/share/hello/extra.txt") {
		t.Errorf("after dropping hello the image holds %q", names)
	}

	// Packages added again, and the repo changed meanwhile: not an install
	// on top, but an update to what a fresh install picks (see
	// TestRebuildAfterTheReposChangedUpdatesTheLastInstall).
	makeRepo()
	if res = rebuild("hello", "hello-extra"); strings.Contains(res.log, onTop) || !strings.Contains(res.log, "updating this app's last install") {
		t.Error("a rebuild after the repo changed did not update the last install")
	}
}

// TestRebuildChangingAFinishingKeyReusesTheLastInstall: the finishing runs
// in the install step (no cleanup-commands, a repo in a build context), so
// a change of a finishing key alone runs that step again: it goes on top of
// the last install, installing nothing, and the image has the change.
func TestRebuildChangingAFinishingKeyReusesTheLastInstall(t *testing.T) {
	out := filepath.Join(t.TempDir(), "oci")
	repo := t.TempDir()
	writeRepo(t, repo, "hello", "hello-data")
	rebuild := func(extra string) *buildResult {
		t.Helper()
		res, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello")+extra), file: "flatpak.yaml", out: out, contexts: map[string]string{"rpms": repo}})
		if err != nil {
			t.Fatal(err)
		}
		if !finishedByInstall(res.log) {
			t.Fatal("the app was not finished in its install step (log above)")
		}
		return res
	}
	rebuild("")
	res := rebuild("desktop-file-name-suffix: \" (Nightly)\"\n")
	if !strings.Contains(res.log, onTop) {
		t.Error("a changed finishing key installed everything again")
	}
	checkContentID(t, out, res.log)
	dir := t.TempDir()
	readImage(t, out, dir)
	for _, p := range []string{"files/share/applications/org.example.Hello.desktop", "export/share/applications/org.example.Hello.desktop"} {
		dt := mustRead(t, filepath.Join(dir, p))
		if !regexp.MustCompile(`(?m)^Name=.* \(Nightly\)$`).Match(dt) {
			t.Errorf("%s has no suffixed Name:\n%s", p, dt)
		}
	}
}

// writeRepo makes dir an RPM repo of the named test packages.
func writeRepo(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, name := range names {
		rpm := harness.RPMFile(t, name)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(rpm)), mustRead(t, rpm), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	createRepo(t, dir)
}

// onTop is what an app's install step logs when it installs on top of the
// app's last install.
const onTop = "installing on top of this app's last install"

// createRepo writes dir's repodata for the RPMs in it.
func createRepo(t *testing.T, dir string) {
	t.Helper()
	// A revision of its own: repodata made twice in one second is the same.
	rev := strconv.FormatInt(time.Now().UnixNano(), 10)
	if out, err := exec.Command("createrepo_c", "--no-database", "--revision", rev, dir).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
}

// TestChangedContextRepoIsReadAgain: a repo given as a build context is
// mounted at the same path in every build, so dnf's cache (a cache mount
// kept between builds) must not stand in for its repodata. A package added
// to the repo since the last build is found.
func TestChangedContextRepoIsReadAgain(t *testing.T) {
	repo := t.TempDir()
	writeRepo(t, repo, "hello", "hello-data")
	if _, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello")), file: "flatpak.yaml", contexts: map[string]string{"rpms": repo}}); err != nil {
		t.Fatal(err)
	}
	writeRepo(t, repo, "hello-extra")
	if _, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "hello-extra")), file: "flatpak.yaml", contexts: map[string]string{"rpms": repo}}); err != nil {
		t.Fatalf("a package added to the repo was not found: %v", err)
	}
}

// TestRemoteRepoIsReadAgain: the installers keep a remote repo's metadata
// in a cache mount between builds, and would trust it for up to two days
// (dnf's metadata_expire); a package published since the last build is
// found all the same.
func TestRemoteRepoIsReadAgain(t *testing.T) {
	repo := t.TempDir()
	writeRepo(t, repo, "hello", "hello-data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(repo))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	// A repo id of its own: no other build cached its metadata.
	id := "remote-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	spec := func(packages ...string) string {
		return `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: hello
packages: [` + strings.Join(packages, ", ") + `]
repos:
  - name: ` + id + `
    baseurl: http://` + ln.Addr().String() + `/
`
	}
	if _, err := build(t, buildOpts{dir: writeSpec(t, spec("hello")), file: "flatpak.yaml"}); err != nil {
		t.Fatal(err)
	}
	writeRepo(t, repo, "hello-extra")
	if _, err := build(t, buildOpts{dir: writeSpec(t, spec("hello", "hello-extra")), file: "flatpak.yaml"}); err != nil {
		t.Fatalf("a package published since the last build was not found: %v", err)
	}
}

// TestMetalinkAndMirrorlistRepos: repos given as Fedora's repo files give
// theirs, by a metalink (which dnf checks the repo's repomd.xml against)
// or a mirror list, both served beside the repo.
func TestMetalinkAndMirrorlistRepos(t *testing.T) {
	repo := t.TempDir()
	writeRepo(t, repo, "hello", "hello-data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/"
	repomd := mustRead(t, filepath.Join(repo, "repodata", "repomd.xml"))
	sum := sha256.Sum256(repomd)
	metalink := `<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" type="dynamic">
 <files>
  <file name="repomd.xml">
   <size>` + strconv.Itoa(len(repomd)) + `</size>
   <verification><hash type="sha256">` + hex.EncodeToString(sum[:]) + `</hash></verification>
   <resources maxconnections="1">
    <url protocol="http" type="http" location="XX" preference="100">` + base + `repodata/repomd.xml</url>
   </resources>
  </file>
 </files>
</metalink>
`
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(repo)))
	mux.HandleFunc("/metalink", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, metalink) })
	mux.HandleFunc("/mirrors", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "# mirrors\n%s\n", base) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, key := range []string{"metalink", "mirrorlist"} {
		t.Run(key, func(t *testing.T) {
			url := base + "metalink"
			if key == "mirrorlist" {
				url = base + "mirrors"
			}
			yaml := `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: hello
packages: [hello]
repos:
  - name: ` + key + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + `
    ` + key + `: ` + url + `
`
			res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml"})
			if err != nil {
				t.Fatal(err)
			}
			flatpakImportable(t, res.oci, "app/org.example.Hello/x86_64/stable")
		})
	}
}

// TestNamedContextSendsOnlyTheRepoPath: a repo in a folder of a larger
// named build context is sent alone, as from the main context.
func TestNamedContextSendsOnlyTheRepoPath(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRepo(t, repo, "hello", "hello-data")
	// Beside the repo: what the build must not wait for.
	if err := os.WriteFile(filepath.Join(dir, "unrelated.bin"), bytes.Repeat([]byte("x"), 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(strings.Replace(appSpec("hello"), "context: rpms", "context: pkgs", 1), "path: .", "path: repo", 1)
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: map[string]string{"pkgs": dir}})
	if err != nil {
		t.Fatal(err)
	}
	// The plain progress says how much each transfer sent.
	sizes := regexp.MustCompile(`transferring pkgs: ([0-9.]+)([kMG]?B)`).FindAllStringSubmatch(res.log, -1)
	if len(sizes) == 0 {
		t.Fatalf("no transfer of pkgs in the log")
	}
	for _, m := range sizes {
		n, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "MB" && n >= 1 || m[2] == "GB" {
			t.Errorf("the transfer of the context sent %s%s: more than its repo", m[1], m[2])
		}
	}
}

// TestBuildFromAFolderOfRPMsWithoutRepodata: a repo path that holds only
// RPMs, in folders as rpmbuild leaves them (createrepo_c never ran on
// them, a source package beside them), is indexed by the install step:
// dnf and dnf5 install from it, Flatpak runs the app, and an RPM added to
// the folder changes the repo: it is indexed too, and (dnf) the last
// install is updated with it.
func TestBuildFromAFolderOfRPMsWithoutRepodata(t *testing.T) {
	for _, installer := range []string{"dnf", "dnf5"} {
		t.Run(installer, func(t *testing.T) {
			dir := t.TempDir()
			put := func(names ...string) {
				for _, name := range names {
					rpm := harness.RPMFile(t, name)
					arch := filepath.Ext(strings.TrimSuffix(rpm, ".rpm"))[1:]
					dst := filepath.Join(dir, "RPMS", arch, filepath.Base(rpm))
					if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(dst, mustRead(t, rpm), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			put("hello", "hello-data")
			if err := os.MkdirAll(filepath.Join(dir, "SRPMS"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "SRPMS", "hello-1.0-1.src.rpm"), []byte("a source package is not read"), 0o644); err != nil {
				t.Fatal(err)
			}
			spec := func(packages ...string) string {
				yaml := strings.Replace(appSpec(packages...), "context: rpms", "context: bare", 1)
				if installer == "dnf5" {
					yaml += "installer: dnf5\n"
				}
				return yaml
			}
			contexts := map[string]string{"bare": dir}
			if installer == "dnf5" {
				contexts["base"] = "oci-layout://" + harness.MinimalRuntime(t).Dir
			}
			res, err := build(t, buildOpts{dir: writeSpec(t, spec("hello")), file: "flatpak.yaml", contexts: contexts})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.log, "repo example: its folder has no repodata/: indexed its 2 packages") {
				t.Errorf("the log does not say the folder was indexed")
			}
			if installer == "dnf" {
				installAndRunHello(t, res.oci)
			} else {
				flatpakImportable(t, res.oci, "app/org.example.Hello/x86_64/stable")
			}
			put("hello-extra")
			res, err = build(t, buildOpts{dir: writeSpec(t, spec("hello", "hello-extra")), file: "flatpak.yaml", contexts: contexts})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.log, "indexed its 3 packages") {
				t.Errorf("the RPM added to the folder was not indexed")
			}
			// A build image installing into the runtime (dnf5 here) keeps
			// no install to update.
			if installer == "dnf" && !strings.Contains(res.log, "the repos changed: updating this app's last install") {
				t.Errorf("the RPM added to the folder did not update the last install")
			}
		})
	}
}

// TestBuildFromAFolderOfRPMv6Packages: a package in rpm 6's v6 format,
// alone in its folder, is indexed and installed by dnf5 and rpm 6.1 (the
// build image of Debian sid).
func TestBuildFromAFolderOfRPMv6Packages(t *testing.T) {
	yaml := `id: org.example.HelloSix
runtime-name: org.example.Platform
runtime-version: "1"
command: hello6
packages: [hello6]
installer: dnf5
repos:
  - name: six
    context: six
    path: .
`
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: map[string]string{
		"six":  harness.RPMv6(t),
		"base": "oci-layout://" + harness.MinimalRuntime(t).Dir,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.log, "repo six: its folder has no repodata/: indexed its 1 package as") {
		t.Errorf("the log does not say the folder was indexed")
	}
	flatpakImportable(t, res.oci, "app/org.example.HelloSix/x86_64/stable")
}

// TestPythonBytecodeStaysValidInFlatpak: a Flatpak install dates every file
// 1970-01-01, so byte code that records its source's build-time mtime would
// be stale there and Python would compile the module on every start. The
// build sets the recorded mtime of valid .pyc files to 0, as
// flatpak-builder does; the check runs in the installed app, the way
// Python itself compares them.
func TestPythonBytecodeStaysValidInFlatpak(t *testing.T) {
	res, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "hello-python")), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	fp.ImportOCI(t, res.oci)
	fp.Install(t, "org.example.Platform")
	fp.Install(t, "org.example.Hello")
	const check = `
import glob, os, struct
pyc = glob.glob("/app/lib/hello/__pycache__/hello_greet.*.pyc")[0]
st = os.stat("/app/lib/hello/hello_greet.py")
flags, mtime, size = struct.unpack("<III", open(pyc, "rb").read(16)[4:16])
print("valid" if flags == 0 and mtime == int(st.st_mtime) and size == st.st_size else "stale", mtime, int(st.st_mtime))
`
	if out := fp.Run(t, "--command=python3", "org.example.Hello", "-c", check); !strings.HasPrefix(out, "valid") {
		t.Errorf("the installed app's byte code is %s", out)
	}
}

// TestRebuildAfterTheReposChangedUpdatesTheLastInstall: when only the
// repos' contents changed, the app's last install is brought to what a
// fresh install picks (resolved into the rpm database alone): a newer
// package is installed over the old, a dependency the fresh resolve no
// longer picks is erased, and the image is the one a build from nothing
// makes. A package going down in version starts over.
func TestRebuildAfterTheReposChangedUpdatesTheLastInstall(t *testing.T) {
	id := fmt.Sprintf("org.example.Hello.Update%d", time.Now().UnixNano())
	dir := writeSpec(t, strings.Replace(appSpec("hello", "hello-extra"), "id: org.example.Hello\n", "id: "+id+"\n", 1))
	const updating = "updating this app's last install to what a fresh install would pick"
	const startingOver = "starting over"
	extra := string(mustRead(t, "testdata/rpms/hello-extra.spec"))
	// hello-extra 1.0 needs hello-dep; 2.0 does not.
	extraNeedsDep := strings.Replace(extra, "AutoReqProv:    no\n", "AutoReqProv:    no\nRequires:       hello-dep\n", 1)
	extra2 := strings.Replace(extra, "Version:        1.0", "Version:        2.0", 1)
	dep := strings.NewReplacer("Name:           hello-extra", "Name:           hello-dep", "extra.txt", "dep.txt").Replace(extra)
	// Each RPM built once: a package built again, even of the same
	// version, is another package (see the end).
	built := func(spec string) string {
		d := t.TempDir()
		buildSpecRPM(t, d, spec)
		return d
	}
	extraNeedsDep, extra2, depRPMs := built(extraNeedsDep), built(extra2), built(dep)
	greetings := map[string]string{}
	repo := func(greeting string, rpms ...string) string {
		if greetings[greeting] == "" {
			greetings[greeting] = greetingRepo(t, greeting)
		}
		r := t.TempDir()
		for _, from := range append([]string{greetings[greeting]}, rpms...) {
			files, _ := filepath.Glob(filepath.Join(from, "*.rpm"))
			for _, f := range files {
				if err := os.WriteFile(filepath.Join(r, filepath.Base(f)), mustRead(t, f), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		writeRepo(t, r)
		return r
	}
	rebuild := func(repo string, attrs map[string]string) (*buildResult, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "oci")
		res, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml", out: out, attrs: attrs, contexts: map[string]string{"rpms": repo}})
		if err != nil {
			t.Fatal(err)
		}
		tree := t.TempDir()
		readImage(t, out, tree)
		return res, tree
	}

	res, _ := rebuild(repo("1.0", extraNeedsDep, depRPMs), nil)
	if strings.Contains(res.log, updating) {
		t.Fatal("the first build updated something")
	}
	// hello-data 2.0: only it is installed again.
	v2 := repo("2.0", extraNeedsDep, depRPMs)
	res, updated := rebuild(v2, nil)
	if !strings.Contains(res.log, updating) || strings.Contains(res.log, startingOver) {
		t.Fatalf("the build after hello-data 2.0 did not update the last install:\n%s", res.log)
	}
	if !strings.Contains(res.log, " install hello-data-2.0-1.noarch\n") {
		t.Errorf("the update did not install hello-data 2.0 alone:\n%s", res.log)
	}
	if got := string(mustRead(t, filepath.Join(updated, "files/share/hello/greeting.txt"))); got != "Greetings from hello-data 2.0\n" {
		t.Errorf("greeting after the update: %q", got)
	}

	// hello-extra 2.0 needs no hello-dep: the fresh resolve drops it, so
	// the update erases it.
	res, dropped := rebuild(repo("2.0", extra2, depRPMs), nil)
	if !strings.Contains(res.log, updating) || strings.Contains(res.log, startingOver) || !strings.Contains(res.log, "rpm -e [hello-dep-1.0-1.noarch]") {
		t.Fatalf("hello-extra 2.0 did not update the last install by erasing hello-dep:\n%s", res.log)
	}
	if _, err := os.Stat(filepath.Join(dropped, "files/share/hello/dep.txt")); !os.IsNotExist(err) {
		t.Errorf("hello-dep's file is still in the image: %v", err)
	}
	if label := imageLabel(t, res.oci, manifest.Label); strings.Contains(label, "hello-dep") || !strings.Contains(label, "\na hello-extra 2.0-1.noarch") {
		t.Errorf("rpms label after the update:\n%s", label)
	}

	// hello-extra 2.0 built again, same version: another package, start
	// over.
	res, _ = rebuild(repo("2.0", built(strings.Replace(extra, "Version:        1.0", "Version:        2.0", 1)), depRPMs), nil)
	if !strings.Contains(res.log, "is another build than the kept one: starting over") {
		t.Errorf("a rebuilt hello-extra 2.0 did not start over:\n%s", res.log)
	}

	// hello-data 1.5 is older than the kept 2.0: start over.
	res, older := rebuild(repo("1.5", extra2, depRPMs), nil)
	if !strings.Contains(res.log, startingOver) {
		t.Errorf("an update to an older hello-data did not start over:\n%s", res.log)
	}
	if got := string(mustRead(t, filepath.Join(older, "files/share/hello/greeting.txt"))); got != "Greetings from hello-data 1.5\n" {
		t.Errorf("greeting after starting over: %q", got)
	}

	// Last: --no-cache also empties BuildKit's cache mounts, the kept
	// install with them.
	_, fresh := rebuild(v2, map[string]string{"no-cache": ""})
	if a, b := treeDigest(t, updated), treeDigest(t, fresh); !maps.Equal(a, b) {
		t.Errorf("the updated image differs from a build from nothing:\nupdated %v\nfresh   %v", a, b)
	}
}

// buildSpecRPM builds an RPM from spec text into dir.
func buildSpecRPM(t *testing.T, dir, spec string) {
	t.Helper()
	top := t.TempDir()
	if err := os.WriteFile(filepath.Join(top, "x.spec"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top, "--define", "_rpmdir "+dir,
		"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm", filepath.Join(top, "x.spec")).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
}

// treeDigest is what an unpacked image holds: each path's type, mode and
// contents (or link target).
func treeDigest(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		v := fi.Mode().String()
		switch {
		case fi.Mode().IsRegular():
			sum := sha256.Sum256(mustRead(t, p))
			v += " " + hex.EncodeToString(sum[:8])
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			v += " -> " + target
		}
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCommandFlatpakCannotStartIsAWarning: a command that is in neither
// /app/bin nor the runtime's /usr/bin, one with a space, and a relative
// path each get a warning at the command line; a command of the app's, an
// absolute one under /app and one of the runtime's get none.
func TestCommandFlatpakCannotStartIsAWarning(t *testing.T) {
	for _, tc := range []struct{ command, warning string }{
		{"helo", "command: helo is neither in /app/bin (no package installed it) nor in the runtime's /usr/bin"},
		{"'hello --loud'", "command: flatpak runs hello --loud as one program"},
		{"bin/hello", "command: bin/hello is a relative path"},
		{"/app/bin/nothere", "command: no package installed /app/bin/nothere"},
		{"hello", ""},
		{"/app/bin/hello", ""},
		{"sh", ""},
	} {
		t.Run(tc.command, func(t *testing.T) {
			yaml := strings.Replace(appSpec("hello"), "command: hello\n", "command: "+tc.command+"\n", 1)
			res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml"})
			if err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(res.log, "warning found") && strings.Contains(res.log, "command: ")
			switch {
			case tc.warning == "" && warned:
				t.Errorf("a warning for command %s:\n%s", tc.command, lastLines(res.log, 8))
			case tc.warning != "" && (!strings.Contains(res.log, tc.warning) || !strings.Contains(res.log, "(flatpak.yaml:4)")):
				t.Errorf("no warning %q at flatpak.yaml:4:\n%s", tc.warning, lastLines(res.log, 8))
			}
		})
	}
}

// TestPackageTheRuntimeHasIsAWarning: a package the spec names that the
// runtime has already is left there by the installer; the packager is told,
// at its line, that nothing of it goes to /app. One the runtime lacks gets
// no such warning.
func TestPackageTheRuntimeHasIsAWarning(t *testing.T) {
	res, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "runtime-provides")), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	want := "packages: runtime-provides is in the runtime already (runtime-provides-1-1.noarch): the installer leaves it there"
	if !strings.Contains(res.log, want) || !strings.Contains(res.log, "(flatpak.yaml:7)") {
		t.Errorf("no warning %q at flatpak.yaml:7:\n%s", want, lastLines(res.log, 10))
	}
	if strings.Contains(res.log, "packages: hello is in the runtime") {
		t.Errorf("a warning for hello, which the runtime lacks:\n%s", lastLines(res.log, 10))
	}
}

// TestFileConflictNamesBothPackages: two packages that install one file
// with different contents fail the install (rpm's transaction test); the
// error names the file and both packages, at the line of the one listed,
// with dnf and with dnf5.
func TestFileConflictNamesBothPackages(t *testing.T) {
	repo := t.TempDir()
	for _, n := range []string{"conflict-a", "conflict-b"} {
		buildSpecRPM(t, repo, `Name: `+n+`
Version: 1.0
Release: 1
Summary: One file another package installs differently
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
One file another package installs differently.
%install
mkdir -p %{buildroot}/app/share
echo `+n+` > %{buildroot}/app/share/same.txt
%files
/app/share/same.txt
`)
	}
	createRepo(t, repo)
	for _, tc := range []struct{ name, extra string }{{"dnf", ""}, {"dnf5", "installer: dnf5\n"}} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "id: org.example.Conflict\nruntime-name: org.example.Platform\nruntime-version: \"1\"\ncommand: sh\n" + tc.extra +
				"packages:\n  - conflict-a\n  - conflict-b\nrepos:\n  - name: local\n    context: local\n    path: .\n"
			contexts := map[string]string{"local": repo}
			// The lines of conflict-a and conflict-b.
			lines := []int32{6, 7}
			if tc.extra != "" {
				contexts["base"] = "oci-layout://" + harness.MinimalRuntime(t).Dir
				lines = []int32{7, 8}
			}
			_, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: contexts})
			if err == nil {
				t.Fatal("two packages that install one file differently installed")
			}
			msg := err.Error()
			// The installers order the two differently.
			named := strings.Contains(msg, "packages conflict-a-1.0-1.noarch and conflict-b-1.0-1.noarch both install /app/share/same.txt, with different contents") ||
				strings.Contains(msg, "packages conflict-b-1.0-1.noarch and conflict-a-1.0-1.noarch both install /app/share/same.txt, with different contents")
			at := sourceLines(err)
			if !named || !(slices.Contains(at, lines[0]) || slices.Contains(at, lines[1])) {
				t.Errorf("error at lines %v, want both packages and the file named at line %v:\n%v", at, lines, err)
			}
		})
	}
}

// TestNeedingANewerRuntimePackageSaysSo: an app package that requires a
// newer version of one of the runtime's packages, which a repo has: the
// installer would update the runtime's package (its files outside /app).
// The error says that the app needs a newer runtime, naming both versions,
// not that the package should be allowed outside /app.
func TestNeedingANewerRuntimePackageSaysSo(t *testing.T) {
	repo := t.TempDir()
	buildSpecRPM(t, repo, `Name: runtime-provides
Version: 2
Release: 1
Summary: A newer version of the runtime's package
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
A newer version of the runtime's package.
%install
mkdir -p %{buildroot}/usr/share/runtime-provides
echo 2 > %{buildroot}/usr/share/runtime-provides/version
%files
/usr/share/runtime-provides/version
`)
	buildSpecRPM(t, repo, `Name: needs-newer
Version: 1
Release: 1
Summary: Needs the newer version
License: MIT
BuildArch: noarch
AutoReqProv: no
Requires: runtime-provides >= 2
%description
Needs the newer version of the runtime's package.
%install
mkdir -p %{buildroot}/app/share
echo x > %{buildroot}/app/share/needs-newer
%files
/app/share/needs-newer
`)
	createRepo(t, repo)
	yaml := "id: org.example.Newer\nruntime-name: org.example.Platform\nruntime-version: \"1\"\ncommand: sh\npackages:\n  - needs-newer\nrepos:\n  - name: local\n    context: local\n    path: .\n"
	_, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: map[string]string{"local": repo}})
	if err == nil {
		t.Fatal("the install updated a runtime package")
	}
	want := "the install would update the runtime's runtime-provides-1-1.noarch to runtime-provides-2-1.noarch, which the app's packages need"
	if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "allow-outside-app") {
		t.Errorf("error %q, want %q", msg, want)
	}
}

// TestExcludedPackageSaysWhichRepoLeavesItOut: a listed package that a
// repo's excludepkgs leaves out is said so, with the repo's name, at its
// line, with dnf and dnf5 (it was "not found").
func TestExcludedPackageSaysWhichRepoLeavesItOut(t *testing.T) {
	for _, tc := range []struct{ name, extra string }{{"dnf", ""}, {"dnf5", "installer: dnf5\n"}} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "id: org.example.Hello\nruntime-name: org.example.Platform\nruntime-version: \"1\"\ncommand: hello\n" + tc.extra +
				"packages:\n  - hello\nrepos:\n  - name: example\n    context: rpms\n    path: .\n    excludepkgs: [hello]\n"
			contexts := map[string]string{}
			line := int32(6)
			if tc.extra != "" {
				contexts["base"] = "oci-layout://" + harness.MinimalRuntime(t).Dir
				line = 7
			}
			_, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: contexts})
			want := `package "hello" is in the repositories, but the excludepkgs or includepkgs of repo example leave it out`
			if err == nil || !strings.Contains(err.Error(), want) || !slices.Contains(sourceLines(err), line) {
				t.Errorf("error at lines %v, want %q at line %d: %v", sourceLines(err), want, line, err)
			}
		})
	}
}
