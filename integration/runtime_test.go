package integration

import (
	"archive/tar"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

func runtimeExampleDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../examples/runtime")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// layoutContext is a named context for an OCI layout this test built.
func layoutContext(t *testing.T, dir string) string {
	t.Helper()
	dgst, err := localbuild.LayoutDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return "oci-layout://" + dir + "@" + dgst
}

// buildBaseRuntime builds examples/runtime with the test runtime's dnf.
func buildBaseRuntime(t *testing.T) *buildResult {
	t.Helper()
	return buildRuntimeIn(t, runtimeExampleDir(t))
}

// buildRuntimeIn builds the runtime spec dir/flatpak.yaml with the test
// runtime's dnf (the build image "base").
func buildRuntimeIn(t *testing.T, dir string) *buildResult {
	t.Helper()
	rt := harness.Runtime(t)
	res, err := build(t, buildOpts{
		dir:              dir,
		file:             "flatpak.yaml",
		noRuntimeContext: true,
		contexts:         map[string]string{"base": "oci-layout://" + rt.Dir + "@" + rt.Digest},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// entryNames are the paths of the entries of img's layers.
func entryNames(img *image) []string {
	var names []string
	for _, h := range img.entries {
		names = append(names, strings.TrimSuffix(h.Name, "/"))
	}
	return names
}

// buildAppOnBaseRuntime builds examples/runtime/app.yaml on a runtime that
// buildBaseRuntime made, with the test runtime's dnf.
func buildAppOnBaseRuntime(t *testing.T, runtime *buildResult) *buildResult {
	t.Helper()
	app, err := build(t, buildOpts{
		dir:              runtimeExampleDir(t),
		file:             "app.yaml",
		noRuntimeContext: true,
		contexts: map[string]string{
			"runtime": layoutContext(t, runtime.oci),
			"base":    "oci-layout://" + harness.Runtime(t).Dir + "@" + harness.Runtime(t).Digest,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// TestBuildRuntimeThenAppOnIt is the whole chain with no hand-made image
// but the build image: a runtime built by the frontend installs in Flatpak,
// and an app built on it (with the build image's dnf, since the runtime has
// no package manager) installs and runs on top of it.
func TestBuildRuntimeThenAppOnIt(t *testing.T) {
	runtime := buildBaseRuntime(t)
	desc := readIndex(t, runtime.oci)
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != "runtime/org.example.BasePlatform/x86_64/1" {
		t.Errorf("runtime ref.name = %q", got)
	}
	img := readImage(t, runtime.oci, "")
	if md := img.config.Config.Labels["org.flatpak.metadata"]; !strings.Contains(md, "[Runtime]\nname=org.example.BasePlatform\n") {
		t.Errorf("runtime metadata label = %q", md)
	}
	// files/ of base-runtime, files/ of what no package owns (the rpm
	// database), metadata, the container entries.
	if n := len(img.manifest.Layers); n != 4 {
		t.Errorf("runtime image has %d layers, want 4", n)
	}
	names := entryNames(img)
	for _, want := range []string{"files/bin/busybox", "files/etc/passwd", "files/lib/sysimage/rpm", "metadata", "usr", "etc", "tmp"} {
		if !slices.Contains(names, want) {
			t.Errorf("runtime image has no %s", want)
		}
	}
	for _, bad := range []string{"files/bin/false", "files/etc/yum.repos.d/example.repo"} {
		if slices.Contains(names, bad) {
			t.Errorf("runtime image has %s", bad)
		}
	}

	app := buildAppOnBaseRuntime(t, runtime)

	fp := harness.Flatpak(t)
	fp.ImportOCI(t, runtime.oci)
	fp.ImportOCI(t, app.oci)
	fp.Install(t, "org.example.BasePlatform")
	out := fp.Run(t, "--command=sh", "org.example.BasePlatform//1", "-c", "echo runtime-ok")
	if !strings.Contains(out, "runtime-ok") {
		t.Errorf("flatpak run of the runtime printed %q", out)
	}
	fp.Install(t, "org.example.Hello")
	out = fp.Run(t, "org.example.Hello")
	if !strings.Contains(out, "Hello from org.example.Hello") {
		t.Errorf("flatpak run of the app printed %q", out)
	}
}

// TestRuntimeFinishedInItsInstallStepInstallsAndRuns: a runtime with no
// cleanup-commands, from a repo in a build context, is finished by its
// install step itself (one container less, see llb's finishTogether), and
// comes out as the runtime of a separate finishing step does: Flatpak
// installs and runs it, and an app builds FROM it.
func TestRuntimeFinishedInItsInstallStepInstallsAndRuns(t *testing.T) {
	yaml := `id: org.example.BasePlatform
build-runtime: true
branch: "1"
packages:
  - base-runtime
repos:
  - name: example
    context: rpms
    path: .
`
	runtime := buildRuntimeIn(t, writeSpec(t, yaml))
	if !finishedByInstall(runtime.log) {
		t.Error("the runtime was not finished in its install step (log above)")
	}
	names := entryNames(readImage(t, runtime.oci, ""))
	// No cleanup-commands: busybox's false stays.
	for _, want := range []string{"files/bin/busybox", "files/bin/false", "files/etc/passwd", "files/lib/sysimage/rpm", "metadata", "usr", "etc"} {
		if !slices.Contains(names, want) {
			t.Errorf("runtime image has no %s", want)
		}
	}

	app := buildAppOnBaseRuntime(t, runtime)
	if !finishedByInstall(app.log) {
		t.Error("the app was not finished in its install step (log above)")
	}
	fp := harness.Flatpak(t)
	fp.ImportOCI(t, runtime.oci)
	fp.ImportOCI(t, app.oci)
	fp.Install(t, "org.example.BasePlatform")
	if out := fp.Run(t, "--command=sh", "org.example.BasePlatform//1", "-c", "echo runtime-ok"); !strings.Contains(out, "runtime-ok") {
		t.Errorf("flatpak run of the runtime printed %q", out)
	}
	fp.Install(t, "org.example.Hello")
	if out := fp.Run(t, "org.example.Hello"); !strings.Contains(out, "Hello from org.example.Hello") {
		t.Errorf("flatpak run of the app printed %q", out)
	}
}

// finishedByInstall says whether the build whose plain progress is log
// finished its tree in its install step: the install ran and the content
// id was written, with no configuration made for a finishing step of its
// own (progress groups the steps themselves under the build's name).
func finishedByInstall(log string) bool {
	return strings.Contains(log, "flatpak-frontend: install step: ") && strings.Contains(log, "flatpak-frontend: content id ") &&
		strings.Contains(log, "[internal] configure step install") && !strings.Contains(log, "[internal] configure step finish")
}

// TestRuntimeImageWorksAsContainer builds a Dockerfile FROM the runtime with
// BuildKit's own Dockerfile frontend: the hybrid entries make it a container.
func TestRuntimeImageWorksAsContainer(t *testing.T) {
	runtime := buildBaseRuntime(t)
	dir := t.TempDir()
	dockerfile := `FROM runtime
RUN sh -c 'set -e; test -f /etc/passwd; test -x /usr/bin/busybox; test -d /var/tmp; echo "$(stat -c %a /tmp) $(stat -c %a /var/tmp)" > /result'
`
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	opt := client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: map[string]string{},
		OCIStores:     map[string]content.Store{},
		LocalMounts:   map[string]fsutil.FS{"context": fsys, "dockerfile": fsys},
		Exports:       []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}},
	}
	closer, err := localbuild.AddContext(&opt, "runtime", "oci-layout://"+runtime.oci)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if _, err := harness.Client(t).Solve(context.Background(), nil, opt, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "result"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != "1777 1777" {
		t.Errorf("modes of /tmp and /var/tmp = %q, want 1777 1777", got)
	}
}

// TestHybridRuntimeWithRelativeLinks: a hybrid runtime whose usr links to
// files relatively (usr -> files: the same folder in a container root) is
// taken as the hybrid it is, and an app builds on it (made hybrid again,
// the build failed: a link cannot be made over usr). A runtime with some
// of the container entries but no usr link (the test runtime with its usr
// whited out) gets the ones it lacks, and keeps its own (it failed the
// same way on etc).
func TestHybridRuntimeWithRelativeLinks(t *testing.T) {
	rt := harness.Runtime(t)
	relative := withLayer(t, rt.Dir, []tar.Header{{Name: "usr", Typeflag: tar.TypeSymlink, Linkname: "files", Mode: 0o777}}, nil)
	res, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello")), file: "flatpak.yaml",
		contexts: map[string]string{"runtime": "oci-layout://" + relative}})
	if err != nil {
		t.Fatal(err)
	}
	flatpakImportable(t, res.oci, "app/org.example.Hello/x86_64/stable")

	partial := withLayer(t, rt.Dir, []tar.Header{{Name: ".wh.usr", Typeflag: tar.TypeReg, Mode: 0o644}}, nil)
	res, err = build(t, buildOpts{dir: writeSpec(t, appSpec("hello")), file: "flatpak.yaml",
		contexts: map[string]string{"runtime": "oci-layout://" + partial}})
	if err != nil {
		t.Fatal(err)
	}
	flatpakImportable(t, res.oci, "app/org.example.Hello/x86_64/stable")
}

// taggedRuntimeLayout is the test runtime copied as skopeo copies an image
// into a layout that has another (oci:DIR:f41 names it f41 in index.json).
func taggedRuntimeLayout(t *testing.T) string {
	t.Helper()
	rt := harness.Runtime(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(rt.Dir)); err != nil {
		t.Fatal(err)
	}
	var idx ocispecs.Index
	readJSON(t, filepath.Join(dir, "index.json"), &idx)
	tagged := idx.Manifests[0]
	tagged.Annotations = map[string]string{ocispecs.AnnotationRefName: "f41"}
	other := tagged
	other.Annotations = map[string]string{ocispecs.AnnotationRefName: "other"}
	other.Digest = digest.FromString("no such image")
	idx.Manifests = []ocispecs.Descriptor{other, tagged}
	dt, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), dt, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRuntimeFromATaggedLayout: a runtime in a layout beside another image
// is given as oci-layout://DIR:TAG, as docker buildx takes it.
func TestRuntimeFromATaggedLayout(t *testing.T) {
	dir := taggedRuntimeLayout(t)
	res, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello")), file: "flatpak.yaml",
		contexts: map[string]string{"runtime": "oci-layout://" + dir + ":f41"}})
	if err != nil {
		t.Fatal(err)
	}
	flatpakImportable(t, res.oci, "app/org.example.Hello/x86_64/stable")
}

// TestBuildInstallsATaggedRuntime: build --install imports and installs
// the runtime oci-layout://DIR:TAG names, although the layout holds
// another image (build-import-bundle takes a layout of one).
func TestBuildInstallsATaggedRuntime(t *testing.T) {
	fp := harness.Flatpak(t)
	cmd := buildCmd(t, fp, harness.Addr(), "--install", "--run")
	for i, a := range cmd.Args {
		if strings.HasPrefix(a, "runtime=oci-layout://") {
			cmd.Args[i] = "runtime=oci-layout://" + taggedRuntimeLayout(t) + ":f41"
		}
	}
	stdout, _ := runCmd(t, cmd)
	if !strings.Contains(stdout, "Hello from org.example.Hello") {
		t.Errorf("stdout = %q, want the app's greeting", stdout)
	}
	if list, err := fp.Command("--user", "list", "--runtime", "--columns=application"); err != nil || !strings.Contains(list, harness.RuntimeID) {
		t.Errorf("the runtime is not installed: %v\n%s", err, list)
	}
}

// TestBuildInstallsARuntimeFromAnOCIArchive: build takes the runtime as an
// OCI archive (skopeo's oci-archive:, as docker buildx's --output
// type=oci,dest=FILE writes one too) given as oci-layout://FILE, served to
// the daemon from the archive in place; --install copies the runtime out
// into a folder for Flatpak, installs it and runs the app on it.
func TestBuildInstallsARuntimeFromAnOCIArchive(t *testing.T) {
	rt := harness.Runtime(t)
	archive := filepath.Join(t.TempDir(), "runtime.tar")
	if _, err := runLogged(t, exec.Command("skopeo", "copy", "--quiet", "oci:"+rt.Dir, "oci-archive:"+archive)); err != nil {
		t.Fatal(err)
	}
	fp := harness.Flatpak(t)
	cmd := buildCmd(t, fp, harness.Addr(), "--install", "--run")
	for i, a := range cmd.Args {
		if strings.HasPrefix(a, "runtime=oci-layout://") {
			cmd.Args[i] = "runtime=oci-layout://" + archive
		}
	}
	stdout, _ := runCmd(t, cmd)
	if !strings.Contains(stdout, "Hello from org.example.Hello") {
		t.Errorf("stdout = %q, want the app's greeting", stdout)
	}
	if list, err := fp.Command("--user", "list", "--runtime", "--columns=application"); err != nil || !strings.Contains(list, harness.RuntimeID) {
		t.Errorf("the runtime is not installed: %v\n%s", err, list)
	}
}
