package integration

// The ways users run the frontend, each with the real client: buildctl
// through gateway.v0, buildctl through the Dockerfile frontend's `# syntax=`
// forwarding (and its BUILDKIT_SYNTAX and named-context overrides), and the
// docker CLI with the buildx plugin built from source, all against the
// harness's buildkitd. The frontend image is built the way a user builds it,
// with `make image`.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/internal/buildx"
	ocilayout "github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
	"github.com/flatpak-frontend/flatpak-frontend/packager/verify"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	// exampleSyntax is the first line of examples/hello/flatpak.yaml: the
	// image `make image` pushes to a registry on localhost:5000.
	exampleSyntax = "# syntax=localhost:5000/flatpak-frontend:latest"
	// exampleFrontendName is that image as a build context name: BuildKit
	// drops the :latest tag when it looks the name up.
	exampleFrontendName = "localhost:5000/flatpak-frontend"
	helloRef            = "app/org.example.Hello/x86_64/stable"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var frontendImg struct {
	once sync.Once
	ref  string // in the harness registry
	oci  string // an OCI layout of the same image
	err  error
}

// frontendImage builds the frontend image once per process with the
// Makefile, as a user does: `make image` pushes it to the harness registry,
// `make image-oci` writes it as an OCI layout. Both run against the
// harness's daemon (BUILDKIT_HOST).
func frontendImage(t *testing.T) (ref, ociDir string) {
	t.Helper()
	reg := harness.Registry(t)
	frontendImg.once.Do(func() {
		tmp, err := os.MkdirTemp("", "frontend-image-")
		if err != nil {
			frontendImg.err = err
			return
		}
		ref := reg + "/flatpak-frontend:test"
		oci := filepath.Join(tmp, "oci")
		for _, target := range []string{"image", "image-oci"} {
			cmd := exec.Command("make", "-C", repoRoot(t), target,
				"REGISTRY="+reg, "IMAGE="+ref, "IMAGE_DIR="+filepath.Join(tmp, "bin"), "IMAGE_OCI="+oci)
			cmd.Env = append(cleanEnv("MAKEFLAGS", "MAKELEVEL", "MFLAGS"), "BUILDKIT_HOST="+harness.Addr())
			out, err := cmd.CombinedOutput()
			t.Logf("make %s:\n%s", target, out)
			if err != nil {
				frontendImg.err = err
				return
			}
		}
		frontendImg.ref, frontendImg.oci = ref, oci
	})
	if frontendImg.err != nil {
		t.Fatalf("building the frontend image with make: %v", frontendImg.err)
	}
	return frontendImg.ref, frontendImg.oci
}

func cleanEnv(drop ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			keep = keep && k != d
		}
		if keep {
			env = append(env, kv)
		}
	}
	return env
}

// runLogged runs cmd and returns its combined output, logged to t.
func runLogged(t *testing.T, cmd *exec.Cmd) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("$ %s\n%s", strings.Join(cmd.Args, " "), out.String())
	return out.String(), err
}

// buildctl runs the pinned buildctl against the harness's daemon.
func buildctl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	_, bin, err := buildkitd.Ensure(context.Background(), harness.CacheDir())
	if err != nil {
		t.Fatal(err)
	}
	return runLogged(t, exec.Command(bin, append([]string{"--addr", harness.Addr()}, args...)...))
}

// exampleInputs are the buildctl flags that give the example its runtime
// (from the harness registry) and its RPM repository.
func exampleInputs(t *testing.T) []string {
	return []string{
		"--opt", "context:runtime=docker-image://" + harness.Runtime(t).Push(t),
		"--local", "rpms=" + harness.RPMRepo(t),
		"--opt", "context:rpms=local:rpms",
	}
}

// flatpakImportable checks what flatpak build-import-bundle --oci needs of
// an OCI layout, runs verify on it, and imports it. index.json must name
// exactly one entry (org.opencontainers.image.ref.name, whatever its value:
// buildctl and buildx write "latest" there), that entry must be an image
// manifest, not an index, and the image's org.flatpak.ref label must be ref.
func flatpakImportable(t *testing.T, dir, ref string) {
	t.Helper()
	idx, err := ocilayout.ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	var named []ocispecs.Descriptor
	for _, m := range idx.Manifests {
		if m.Annotations[ocispecs.AnnotationRefName] != "" {
			named = append(named, m)
		}
	}
	if len(named) != 1 || named[0].MediaType != ocispecs.MediaTypeImageManifest {
		t.Fatalf("%s/index.json must name exactly one image manifest for Flatpak; it lists %+v", dir, idx.Manifests)
	}
	var mf ocispecs.Manifest
	if err := ocilayout.ReadBlob(dir, named[0].Digest, &mf); err != nil {
		t.Fatal(err)
	}
	var img ocispecs.Image
	if err := ocilayout.ReadBlob(dir, mf.Config.Digest, &img); err != nil {
		t.Fatal(err)
	}
	if got := img.Config.Labels[labels.Ref]; got != ref {
		t.Fatalf("%s: label %s = %q, want %q", dir, labels.Ref, got, ref)
	}
	// What docs/usage.md says to run before publishing.
	rep, err := verify.Check(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Errorf("flatpak-frontend verify %s: %s", dir, p)
	}
	harness.Flatpak(t).ImportOCI(t, dir)
}

// installAndRunHello imports the test runtime and the app layout into a
// throwaway Flatpak installation, installs both and runs the app.
func installAndRunHello(t *testing.T, appOCI string) {
	t.Helper()
	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	fp.ImportOCI(t, appOCI)
	fp.Install(t, harness.RuntimeID)
	fp.Install(t, "org.example.Hello")
	if out := fp.Run(t, "org.example.Hello"); !strings.Contains(out, harness.HelloOutput) {
		t.Errorf("flatpak run printed %q, want %q", out, harness.HelloOutput)
	}
}

func TestExampleNamesTheImageMakeImagePushes(t *testing.T) {
	dt, err := os.ReadFile(filepath.Join(exampleDir(t), "flatpak.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(dt), "\n"); first != exampleSyntax {
		t.Fatalf("examples/hello/flatpak.yaml starts %q; the docs and these tests expect %q", first, exampleSyntax)
	}
	mk, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"REGISTRY ?= localhost:5000", "IMAGE ?= $(REGISTRY)/flatpak-frontend:latest"} {
		if !strings.Contains(string(mk), "\n"+line+"\n") {
			t.Errorf("Makefile lacks %q: make image no longer pushes the image the example names", line)
		}
	}
}

// TestBuildctlGatewayPushesTheExampleAndFlatpakRunsIt: buildctl runs the
// frontend image directly (gateway.v0) and pushes the app, with a provenance
// attestation, to a registry; skopeo copies it into an OCI layout named with
// the Flatpak ref, which Flatpak imports, installs and runs.
func TestBuildctlGatewayPushesTheExampleAndFlatpakRunsIt(t *testing.T) {
	img, _ := frontendImage(t)
	ex := exampleDir(t)
	app := harness.Registry(t) + "/example/hello:stable"
	args := append([]string{"build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + img,
		"--local", "context=" + ex, "--local", "dockerfile=" + ex},
		exampleInputs(t)...)
	// An attestation makes the pushed image an index; skopeo picks the
	// app's manifest out of it.
	args = append(args, "--opt", "attest:provenance=mode=max", "--output", "type=image,name="+app+",push=true")
	if _, err := buildctl(t, args...); err != nil {
		t.Fatal(err)
	}
	oci := filepath.Join(t.TempDir(), "hello")
	if _, err := runLogged(t, exec.Command("skopeo", "copy", "--quiet", "--src-tls-verify=false",
		"docker://"+app, "oci:"+oci+":"+helloRef)); err != nil {
		t.Fatal(err)
	}
	installAndRunHello(t, oci)
}

// buildctlDockerfile builds the flatpak.yaml in dir through the Dockerfile
// frontend into an OCI layout, and returns its folder.
func buildctlDockerfile(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	oci := filepath.Join(t.TempDir(), "oci")
	args := append([]string{"build", "--progress=plain", "--frontend", "dockerfile.v0",
		"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=flatpak.yaml"},
		exampleInputs(t)...)
	args = append(args, extra...)
	args = append(args, "--output", "type=oci,dest="+oci+",tar=false")
	if _, err := buildctl(t, args...); err != nil {
		t.Fatal(err)
	}
	return oci
}

// TestBuildctlDockerfileFrontendForwardsToTheSyntaxImage: with `# syntax=`
// naming our image, BuildKit's own Dockerfile frontend hands the build to
// it, and the result imports into Flatpak.
func TestBuildctlDockerfileFrontendForwardsToTheSyntaxImage(t *testing.T) {
	img, _ := frontendImage(t)
	dt, err := os.ReadFile(filepath.Join(exampleDir(t), "flatpak.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(dt), exampleSyntax, "# syntax="+img, 1)
	flatpakImportable(t, buildctlDockerfile(t, writeSpec(t, src)), helloRef)
}

// TestBuildctlFrontendImageOverrides: the example, unchanged, names an
// image that is not there; BuildKit's two ways to choose another frontend
// image both build it.
func TestBuildctlFrontendImageOverrides(t *testing.T) {
	img, ociDir := frontendImage(t)
	ex := exampleDir(t)
	dgst, err := ocilayout.ReadIndex(ociDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(dgst.Manifests) != 1 {
		t.Fatalf("make image-oci wrote %d images, want 1", len(dgst.Manifests))
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		// BUILDKIT_SYNTAX wins over the file's `# syntax=` line.
		{"BUILDKIT_SYNTAX", []string{"--opt", "build-arg:BUILDKIT_SYNTAX=" + img}},
		// A build context named like the syntax image replaces it.
		{"context from a registry", []string{"--opt", "context:" + exampleFrontendName + "=docker-image://" + img}},
		{"context from an OCI layout", []string{"--oci-layout", "frontend=" + ociDir,
			"--opt", "context:" + exampleFrontendName + "=oci-layout://frontend@" + dgst.Manifests[0].Digest.String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flatpakImportable(t, buildctlDockerfile(t, ex, tc.args...), helloRef)
		})
	}
}

// dockerEnv is the docker CLI with the buildx plugin in a private
// DOCKER_CONFIG, and a remote builder on the harness's daemon as default.
type dockerEnv struct {
	config string
}

var buildxBin struct {
	once sync.Once
	path string
	err  error
}

func dockerBuildx(t *testing.T) *dockerEnv {
	t.Helper()
	buildxBin.once.Do(func() {
		buildxBin.path, buildxBin.err = buildx.Ensure(context.Background(), harness.CacheDir())
	})
	if buildxBin.err != nil {
		t.Fatal(buildxBin.err)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("the docker CLI is needed to test docker buildx: %v", err)
	}
	d := &dockerEnv{config: t.TempDir()}
	if err := buildx.Install(d.config, buildxBin.path); err != nil {
		t.Fatal(err)
	}
	if out, err := d.run(t, "", "buildx", "create", "--name", "harness", "--driver", "remote", "--use", harness.Addr()); err != nil {
		t.Fatalf("docker buildx create: %v\n%s", err, out)
	}
	return d
}

// run runs `docker ARGS...` in dir (the checkout when empty).
func (d *dockerEnv) run(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = repoRoot(t)
	}
	cmd.Env = append(cleanEnv("DOCKER_CONFIG", "BUILDX_BUILDER", "BUILDX_NO_DEFAULT_ATTESTATIONS", "DOCKER_HOST", "DOCKER_CONTEXT"),
		"DOCKER_CONFIG="+d.config, "BUILDX_CONFIG="+filepath.Join(d.config, "buildx"))
	return runLogged(t, cmd)
}

// frontendContext is the --build-context that stands in for the image the
// example's `# syntax=` line names, as docs/usage.md does without a registry.
func frontendContext(t *testing.T) []string {
	_, oci := frontendImage(t)
	return []string{"--build-context", exampleFrontendName + "=oci-layout://" + oci}
}

// docCommands returns the `docker buildx build` commands in the ```sh
// blocks of a Markdown file of the checkout, each split into its words
// (lines ending in \ joined).
func docCommands(t *testing.T, file string) [][]string {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join(repoRoot(t), file))
	if err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	inBlock, cont := false, ""
	for _, line := range strings.Split(string(dt), "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock = line == "```sh"
			cont = ""
			continue
		case !inBlock:
			continue
		}
		line = cont + strings.TrimSpace(line)
		if strings.HasSuffix(line, "\\") {
			cont = strings.TrimSuffix(line, "\\")
			continue
		}
		cont = ""
		if strings.HasPrefix(line, "docker buildx build ") {
			cmds = append(cmds, strings.Fields(line))
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("%s has no docker buildx build command", file)
	}
	return cmds
}

// localize points a documented command at what the harness has instead of
// what make image-oci and make fixtures write into the checkout, and its
// outputs into work. It fails t if the command uses anything else of the
// shell.
func localize(t *testing.T, words []string, work string) (args []string, dest string) {
	t.Helper()
	_, frontendOCI := frontendImage(t)
	r := strings.NewReplacer(
		"$PWD/bin/frontend-image", frontendOCI,
		"$PWD/.cache/example/runtime", harness.Runtime(t).Dir,
		".cache/example/rpms", harness.RPMRepo(t),
		"$PWD/", work+"/",
		"dest=", "dest="+work+"/",
	)
	for _, w := range words[1:] {
		w = r.Replace(w)
		if strings.ContainsAny(w, "$'\"`*?") {
			t.Fatalf("documented command %q: the test cannot run %q", strings.Join(words, " "), w)
		}
		if _, d, ok := strings.Cut(w, "dest="); ok {
			dest, _, _ = strings.Cut(d, ",")
		}
		args = append(args, w)
	}
	return args, dest
}

// TestDockerBuildxBuildsTheExampleThatFlatpakInstallsAndRuns runs the
// docker buildx build of the quick start in docs/usage.md, as written: the
// example with the runtime and the RPMs as build contexts, to an OCI layout
// that Flatpak imports, installs and runs as it is. Buildx asks for its
// default provenance attestation (mode=min, inline-only), which BuildKit
// leaves out of a single-platform OCI export, so the layout stays one image
// manifest.
func TestDockerBuildxBuildsTheExampleThatFlatpakInstallsAndRuns(t *testing.T) {
	d := dockerBuildx(t)
	args, oci := localize(t, docCommands(t, "docs/usage.md")[0], t.TempDir())
	if out, err := d.run(t, "", args...); err != nil {
		t.Fatalf("docker buildx build: %v\n%s", err, out)
	}
	flatpakImportable(t, oci, helloRef)
	installAndRunHello(t, oci)
}

// TestExamplesBuildWithTheirReadmeCommands runs every command of
// examples/README.md, in order, and installs and runs what they build.
func TestExamplesBuildWithTheirReadmeCommands(t *testing.T) {
	d := dockerBuildx(t)
	work := t.TempDir()
	refs := map[string]string{
		"hello.oci":        helloRef,
		"viewer.oci":       "app/org.example.Viewer/x86_64/stable",
		"fedora.oci":       "app/org.example.Hello/x86_64/fedora",
		"base-runtime.oci": "runtime/org.example.BasePlatform/x86_64/1",
		"base-app.oci":     helloRef,
	}
	cmds := docCommands(t, "examples/README.md")
	if len(cmds) != len(refs) {
		t.Fatalf("examples/README.md has %d commands, the test knows %d outputs", len(cmds), len(refs))
	}
	built := map[string]string{}
	for _, c := range cmds {
		args, dest := localize(t, c, work)
		name := filepath.Base(dest)
		ref, ok := refs[name]
		if !ok {
			t.Fatalf("examples/README.md builds %s, which the test does not know", name)
		}
		if out, err := d.run(t, "", args...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
		flatpakImportable(t, dest, ref)
		built[name] = dest
	}

	// The apps on the test runtime, side by side.
	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	for _, name := range []string{"hello.oci", "viewer.oci", "fedora.oci"} {
		fp.ImportOCI(t, built[name])
	}
	fp.Install(t, harness.RuntimeID)
	for app, want := range map[string]string{
		"org.example.Hello//stable": harness.HelloOutput,
		"org.example.Viewer":        "Viewer 2.0",
		"org.example.Hello//fedora": harness.HelloOutput,
	} {
		fp.Install(t, app)
		if out := fp.Run(t, app); !strings.Contains(out, want) {
			t.Errorf("flatpak run %s printed %q, want %q", app, out, want)
		}
	}

	// The runtime example and the app on it.
	fp = harness.Flatpak(t)
	fp.ImportOCI(t, built["base-runtime.oci"])
	fp.ImportOCI(t, built["base-app.oci"])
	fp.Install(t, "org.example.BasePlatform")
	fp.Install(t, "org.example.Hello")
	if out := fp.Run(t, "org.example.Hello"); !strings.Contains(out, harness.HelloOutput) {
		t.Errorf("flatpak run org.example.Hello on org.example.BasePlatform printed %q", out)
	}
}

// TestDockerBuildxShowsTheYAMLLinesOfAnError: a mistake in flatpak.yaml
// comes back through buildx with the lines of the file it is on.
func TestDockerBuildxShowsTheYAMLLinesOfAnError(t *testing.T) {
	d := dockerBuildx(t)
	dir := writeSpec(t, exampleSyntax+`
id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: hello
packages: [hello]
finish-args:
  - --share=ipc
  - --socket=x12
`)
	args := append([]string{"buildx", "build", "--progress=plain", "-f", filepath.Join(dir, "flatpak.yaml")}, frontendContext(t)...)
	out, err := d.run(t, dir, append(args, "--output", "type=oci,dest="+filepath.Join(t.TempDir(), "oci")+",tar=false", dir)...)
	if err == nil {
		t.Fatal("docker buildx build of a broken flatpak.yaml succeeded")
	}
	for _, want := range []string{
		"flatpak.yaml:9",       // the error's position
		"x12",                  // what is wrong
		">>>   - --socket=x12", // the line, as buildx marks it
	} {
		if !strings.Contains(out, want) {
			t.Errorf("buildx output lacks %q", want)
		}
	}
}

// TestDockerBuildxCallListsWhatTheFileBuilds: --call targets and --call
// outline answer from the flatpak.yaml without building; --call
// flatpak.schema prints the JSON Schema of flatpak.yaml.
func TestDockerBuildxCallListsWhatTheFileBuilds(t *testing.T) {
	d := dockerBuildx(t)
	for _, tc := range []struct {
		call string
		want []string
	}{
		{"targets", []string{"org.example.Hello (default)", "Flatpak app org.example.Hello, branch stable"}},
		{"outline", []string{"RUNTIME_IMAGE", "SOURCE_DATE_EPOCH"}},
		{"flatpak.schema", []string{`"title": "flatpak.yaml"`, `"finish-args"`}},
	} {
		t.Run(tc.call, func(t *testing.T) {
			args := append([]string{"buildx", "build", "--call", tc.call, "-f", "examples/hello/flatpak.yaml"}, frontendContext(t)...)
			out, err := d.run(t, "", append(args, ".")...)
			if err != nil {
				t.Fatalf("docker buildx build --call %s: %v\n%s", tc.call, err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("--call %s output lacks %q", tc.call, w)
				}
			}
		})
	}
}
