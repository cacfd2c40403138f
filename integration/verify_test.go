package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/flatpak-frontend/flatpak-frontend/packager/verify"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// mustVerify runs verify on an image source and fails the test with every
// problem it lists.
func mustVerify(t *testing.T, source string) *verify.Report {
	t.Helper()
	rep, err := verify.Check(context.Background(), source)
	if err != nil {
		t.Fatalf("verify %s: %v", source, err)
	}
	for _, p := range rep.Problems {
		t.Errorf("verify: %s", p)
	}
	return rep
}

// runVerifyCLI runs `flatpak-frontend verify SOURCE` and returns its exit
// status and output.
func runVerifyCLI(t *testing.T, source string) (int, string) {
	t.Helper()
	cmd := exec.Command(cli(t), "verify", source)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

// TestVerifyPassesEveryImageTheBuildsMake runs verify, in-process and as
// the command, on the example app, the example runtime (a hybrid image),
// an app built on that runtime, and the test runtime made by Flatpak's own
// build-bundle --oci: all must be valid.
func TestVerifyPassesEveryImageTheBuildsMake(t *testing.T) {
	app, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	runtime := buildBaseRuntime(t)
	onRuntime := buildAppOnBaseRuntime(t, runtime)
	for _, tc := range []struct{ name, dir, ref string }{
		{"example app", app.oci, "app/org.example.Hello/x86_64/stable"},
		{"example runtime", runtime.oci, "runtime/org.example.BasePlatform/x86_64/1"},
		{"app on the example runtime", onRuntime.oci, "app/org.example.Hello/x86_64/stable"},
		{"test runtime (flatpak build-bundle --oci, hybridized)", harness.Runtime(t).Dir, "runtime/org.example.Platform/x86_64/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := mustVerify(t, tc.dir)
			if len(rep.Refs) != 1 || rep.Refs[0] != tc.ref {
				t.Errorf("verified refs %q, want [%s]", rep.Refs, tc.ref)
			}
			if code, out := runVerifyCLI(t, tc.dir); code != 0 {
				t.Errorf("flatpak-frontend verify %s: exit %d\n%s", tc.dir, code, out)
			}
		})
	}
}

// TestVerifyPassesFlatpakBuildBundleOfOurFiles exports the example app's
// files with Flatpak's own build-finish, build-export and build-bundle
// --oci: verify must accept what Flatpak writes.
func TestVerifyPassesFlatpakBuildBundleOfOurFiles(t *testing.T) {
	res, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	readImage(t, res.oci, tree)
	_, bundle := classicBundle(t, filepath.Join(tree, "files"),
		[]string{"--share=network", "--socket=wayland", "--talk-name=org.freedesktop.Notifications"})
	mustVerify(t, bundle)
	if code, out := runVerifyCLI(t, bundle); code != 0 {
		t.Errorf("flatpak-frontend verify of build-bundle's image: exit %d\n%s", code, out)
	}
}

// TestVerifyRegistryImage pushes the example app to the harness registry
// and verifies it by reference.
func TestVerifyRegistryImage(t *testing.T) {
	ref := harness.Registry(t) + "/verify/hello:1"
	var log bytes.Buffer
	_, err := localbuild.Build(context.Background(), harness.Client(t), localbuild.Options{
		File:        filepath.Join(exampleDir(t), "flatpak.yaml"),
		ContextDir:  exampleDir(t),
		Contexts:    map[string]string{"rpms": harness.RPMRepo(t), "runtime": "oci-layout://" + harness.Runtime(t).Dir + "@" + harness.Runtime(t).Digest},
		Progress:    "plain",
		ProgressOut: &log,
		Push:        ref,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	rep := mustVerify(t, ref)
	if len(rep.Refs) != 1 || rep.Refs[0] != "app/org.example.Hello/x86_64/stable" {
		t.Errorf("verified refs %q", rep.Refs)
	}
	if code, out := runVerifyCLI(t, "docker-image://"+ref); code != 0 {
		t.Errorf("flatpak-frontend verify %s: exit %d\n%s", ref, code, out)
	}
}

// TestVerifyFailsBrokenImage breaks a built image the way a hand-edited or
// badly converted image is broken (xa.ref naming another app, the metadata
// label out of step with the file) and expects exit 1 naming both.
func TestVerifyFailsBrokenImage(t *testing.T) {
	res, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	broken := copyLayout(t, res.oci)
	editLabels(t, broken, func(l map[string]string) {
		// xa.ref of another app.
		other := labels.Flatpak(labels.Input{Ref: "app/org.example.Other/x86_64/stable"})
		l["org.flatpak.commit-metadata.xa.ref"] = other["org.flatpak.commit-metadata.xa.ref"]
		l["org.flatpak.metadata"] += "[Environment]\nEVIL=1\n"
	})
	code, out := runVerifyCLI(t, broken)
	if code != 1 {
		t.Fatalf("verify of a broken image: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"label org.flatpak.commit-metadata.xa.ref: is \"app/org.example.Other/x86_64/stable\"",
		"metadata: the file",
		"label org.flatpak.commit-metadata.xa.metadata: differs from org.flatpak.metadata",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output does not say %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, broken) {
			t.Errorf("problem line does not start with the image: %q", line)
		}
	}
	// A folder that is no OCI layout: exit 2.
	if code, out := runVerifyCLI(t, t.TempDir()); code != 2 {
		t.Errorf("verify of an empty folder: exit %d, want 2\n%s", code, out)
	}
}

func copyLayout(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "oci")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return dst
}

// editLabels rewrites the config of the layout's one image with edited
// labels, and the manifest and index.json to match.
func editLabels(t *testing.T, dir string, edit func(map[string]string)) {
	t.Helper()
	desc := readIndex(t, dir)
	var mf ocispecs.Manifest
	readJSON(t, blobPath(dir, desc), &mf)
	var cfg map[string]any
	readJSON(t, blobPath(dir, mf.Config), &cfg)
	c := cfg["config"].(map[string]any)
	l := map[string]string{}
	for k, v := range c["Labels"].(map[string]any) {
		l[k] = v.(string)
	}
	edit(l)
	c["Labels"] = l
	put := func(v any) ocispecs.Descriptor {
		dt, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		d := digest.FromBytes(dt)
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), dt, 0o644); err != nil {
			t.Fatal(err)
		}
		return ocispecs.Descriptor{Digest: d, Size: int64(len(dt))}
	}
	cd := put(cfg)
	mf.Config.Digest, mf.Config.Size = cd.Digest, cd.Size
	md := put(mf)
	desc.Digest, desc.Size = md.Digest, md.Size
	idx := ocispecs.Index{Manifests: []ocispecs.Descriptor{desc}}
	idx.SchemaVersion = 2
	idx.MediaType = ocispecs.MediaTypeImageIndex
	dt, _ := json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), dt, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyAndAffectedReadBuildKitsOCIArchive: buildctl's --output
// type=oci,dest=FILE (a tar, as docker buildx writes it too) is read in
// place by verify (named as a file or as skopeo names it) and by affected.
func TestVerifyAndAffectedReadBuildKitsOCIArchive(t *testing.T) {
	img, _ := frontendImage(t)
	ex := exampleDir(t)
	archive := filepath.Join(t.TempDir(), "hello.tar")
	args := append([]string{"build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + img,
		"--local", "context=" + ex, "--local", "dockerfile=" + ex}, exampleInputs(t)...)
	if _, err := buildctl(t, append(args, "--output", "type=oci,dest="+archive)...); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(archive); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("buildctl wrote no archive: %v", err)
	}
	rep := mustVerify(t, archive)
	if len(rep.Refs) != 1 || rep.Refs[0] != helloRef {
		t.Errorf("verified refs %q, want [%s]", rep.Refs, helloRef)
	}
	for _, src := range []string{archive, "oci-archive:" + archive} {
		if code, out := runVerifyCLI(t, src); code != 0 {
			t.Errorf("flatpak-frontend verify %s: exit %d\n%s", src, code, out)
		}
	}
	out, err := exec.Command(cli(t), "affected", "--package", "hello-data", archive).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), helloRef) || !strings.Contains(string(out), "hello-data-") {
		t.Errorf("affected on the archive: %v\n%s", err, out)
	}
}
