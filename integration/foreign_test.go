package integration

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/flatpak-frontend/flatpak-frontend/packager/publish"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The foreign-architecture builds (issue 20): an aarch64 app built on this
// x86_64 builder, whose CPU cannot run aarch64 code. The packages are
// installed by the runtime's x86_64 variant with --forcearch into the
// aarch64 runtime's tree; nothing of aarch64 runs during the build.

// nativeBuild builds harness.NativeSpec for both platforms with the multi-arch
// test runtime; push names a registry reference to push to, else the
// result is an OCI layout, returned.
func nativeBuild(t *testing.T, push string) (oci, log string) {
	t.Helper()
	dir := writeSpec(t, harness.NativeSpec)
	var buf bytes.Buffer
	o := localbuild.Options{
		File:       filepath.Join(dir, "flatpak.yaml"),
		ContextDir: dir,
		Contexts: map[string]string{
			"rpms":    harness.NativeRPMRepo(t),
			"runtime": "oci-layout://" + harness.MultiArchRuntime(t),
		},
		Platforms:   []string{"linux/amd64", "linux/arm64"},
		Progress:    "plain",
		ProgressOut: &buf,
		Push:        push,
	}
	if push == "" {
		oci = filepath.Join(t.TempDir(), "oci")
		o.OCIDir = oci
	}
	start := time.Now()
	_, err := localbuild.Build(context.Background(), harness.Client(t), o)
	t.Logf("build for linux/amd64 and linux/arm64 in %s:\n%s", time.Since(start).Round(time.Millisecond), buf.String())
	if err != nil {
		t.Fatal(err)
	}
	return oci, buf.String()
}

// platformLayout writes an OCI layout holding only the image of one
// architecture out of a multi-platform layout, named with its Flatpak ref
// as flatpak build-import-bundle wants it.
func platformLayout(t *testing.T, dir, arch string) string {
	t.Helper()
	var top, idx ocispecs.Index
	readJSON(t, filepath.Join(dir, "index.json"), &top)
	// flatpak-frontend build lists the image index ("latest"), and each
	// image beside it under its Flatpak ref.
	var indexes []ocispecs.Descriptor
	for _, m := range top.Manifests {
		if m.MediaType == ocispecs.MediaTypeImageIndex {
			indexes = append(indexes, m)
		}
	}
	if len(indexes) != 1 {
		t.Fatalf("%s/index.json: want one image index, have %+v", dir, top.Manifests)
	}
	readJSON(t, blobPath(dir, indexes[0]), &idx)
	var found *ocispecs.Descriptor
	var archs []string
	for _, m := range idx.Manifests {
		if m.Platform == nil || m.MediaType != ocispecs.MediaTypeImageManifest {
			continue
		}
		archs = append(archs, m.Platform.Architecture)
		if m.Platform.Architecture == arch {
			found = &m
		}
	}
	if found == nil {
		t.Fatalf("no %s image in %s (it has %v)", arch, dir, archs)
	}
	var mf ocispecs.Manifest
	readJSON(t, blobPath(dir, *found), &mf)
	var cfg ocispecs.Image
	readJSON(t, blobPath(dir, mf.Config), &cfg)
	out := filepath.Join(t.TempDir(), arch)
	if err := os.MkdirAll(filepath.Join(out, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range append([]ocispecs.Descriptor{*found, mf.Config}, mf.Layers...) {
		if err := os.Link(blobPath(dir, d), blobPath(out, d)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	d := *found
	d.Platform = nil
	d.Annotations = map[string]string{ocispecs.AnnotationRefName: cfg.Config.Labels["org.flatpak.ref"]}
	dt, _ := json.Marshal(ocispecs.Index{Versioned: top.Versioned, MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{d}})
	os.WriteFile(filepath.Join(out, "index.json"), dt, 0o644)
	os.WriteFile(filepath.Join(out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return out
}

func elfMachine(t *testing.T, path string) elf.Machine {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.Machine
}

// TestForeignArchBuildsBothPlatformsAndFlatpakInstallsAarch64: one build
// for linux/amd64 and linux/arm64 gives one image index with both; the
// aarch64 image's ref and metadata say aarch64 and its binary is an
// aarch64 ELF; the scriptlet it could not run is named; Flatpak installs
// it with --arch=aarch64 beside its runtime, and the installed binary
// prints its greeting under qemu-aarch64-static.
func TestForeignArchBuildsBothPlatformsAndFlatpakInstallsAarch64(t *testing.T) {
	oci, log := nativeBuild(t, "")
	if !strings.Contains(log, "installed for aarch64 with this builder's installer") || !strings.Contains(log, "scriptlets not run: hello-native (%post)") {
		t.Errorf("the build log does not name the skipped %%post of hello-native")
	}
	if !strings.Contains(log, "--forcearch=aarch64") {
		t.Errorf("the aarch64 install did not run with --forcearch=aarch64")
	}
	for _, c := range []struct {
		arch, flatpakArch string
		machine           elf.Machine
	}{{"amd64", "x86_64", elf.EM_X86_64}, {"arm64", "aarch64", elf.EM_AARCH64}} {
		dir := platformLayout(t, oci, c.arch)
		files := t.TempDir()
		img := readImage(t, dir, files)
		labels := img.config.Config.Labels
		if want := "app/org.example.Native/" + c.flatpakArch + "/stable"; labels["org.flatpak.ref"] != want {
			t.Errorf("%s: org.flatpak.ref = %q, want %q", c.arch, labels["org.flatpak.ref"], want)
		}
		if want := "runtime=org.example.Platform/" + c.flatpakArch + "/1"; !strings.Contains(labels["org.flatpak.metadata"], want) {
			t.Errorf("%s: metadata lacks %q:\n%s", c.arch, want, labels["org.flatpak.metadata"])
		}
		if img.config.Architecture != c.arch {
			t.Errorf("%s: image config architecture %q", c.arch, img.config.Architecture)
		}
		if m := elfMachine(t, filepath.Join(files, "files", "bin", "hello-native")); m != c.machine {
			t.Errorf("%s: files/bin/hello-native is a %s binary, want %s", c.arch, m, c.machine)
		}
	}

	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Fatalf("qemu-aarch64-static (Debian's qemu-user-static) runs the installed aarch64 binary: %v", err)
	}
	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Arm64Runtime(t).Dir)
	fp.ImportOCI(t, platformLayout(t, oci, "arm64"))
	fp.Install(t, harness.Arm64RuntimeRef)
	fp.Install(t, "app/org.example.Native/aarch64/stable")
	list, err := fp.Command("--user", "list", "--app", "--arch=aarch64", "--columns=ref")
	if err != nil || !strings.Contains(list, "org.example.Native/aarch64/stable") {
		t.Fatalf("flatpak list --arch=aarch64: %v\n%s", err, list)
	}
	bin := filepath.Join(fp.UserDir, "app", "org.example.Native", "aarch64", "stable", "active", "files", "bin", "hello-native")
	if m := elfMachine(t, bin); m != elf.EM_AARCH64 {
		t.Errorf("the installed binary is %s", m)
	}
	out, err := exec.Command(qemu, bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != harness.NativeOutput+"arm64" {
		t.Errorf("qemu-aarch64-static %s: %v: %q", bin, err, out)
	}
}

// TestForeignArchPublishedRemoteListsBothArchitectures: the multi-platform
// image pushed to a registry and published; Flatpak lists the app for each
// architecture from the remote.
func TestForeignArchPublishedRemoteListsBothArchitectures(t *testing.T) {
	reg := harness.Registry(t)
	repo := fmt.Sprintf("foreign%d/native", time.Now().UnixNano()%1e9)
	nativeBuild(t, reg+"/"+repo+":latest")
	out := t.TempDir()
	res, err := publish.Publish(context.Background(), publish.Options{Registry: reg, Insecure: true, Repositories: []string{repo}, Out: out,
		Warn: func(w string) { t.Errorf("publish warned: %s", w) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("published %d images: %v", res.Images, res.Indexes)
	for _, arch := range []string{"amd64", "arm64"} {
		if _, err := os.Stat(filepath.Join(out, remoteindex.StaticPath("latest", arch))); err != nil {
			t.Errorf("no index for %s: %v", arch, err)
		}
	}
	addr := serveRemote(t, out)
	// Flatpak asks an OCI remote for the index of its own architecture
	// only (flatpak_get_arch()): Flatpak on this x86_64 machine lists the
	// x86_64 app; an aarch64 machine's Flatpak asks the same URL with
	// architecture=arm64, asked here as it would.
	fp := harness.Flatpak(t)
	if _, err := fp.Command("--user", "remote-add", "--no-gpg-verify", "published", "oci+http://"+addr); err != nil {
		t.Fatal(err)
	}
	list, err := fp.Command("--user", "remote-ls", "--columns=ref", "published")
	if err != nil || !strings.Contains(list, "app/org.example.Native/x86_64/stable") {
		t.Errorf("flatpak remote-ls: %v\n%s", err, list)
	}
	for arch, ref := range map[string]string{"amd64": "app/org.example.Native/x86_64/stable", "arm64": "app/org.example.Native/aarch64/stable"} {
		resp, err := http.Get("http://" + addr + "/index/static?label:org.flatpak.ref:exists=1&architecture=" + arch + "&os=linux&tag=latest")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		idx, err := remoteindex.Parse(body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("the %s index: %d %v\n%s", arch, resp.StatusCode, err, body)
		}
		// A multi-platform image is a list, with its image of the
		// index's architecture.
		var refs []string
		for _, r := range idx.Results {
			for _, l := range r.Lists {
				for _, im := range l.Images {
					refs = append(refs, im.Labels["org.flatpak.ref"])
					if im.Architecture != arch {
						t.Errorf("the %s index lists an image of %s", arch, im.Architecture)
					}
				}
			}
		}
		if len(refs) != 1 || refs[0] != ref {
			t.Errorf("the %s index lists %v, want %s", arch, refs, ref)
		}
	}
}

// TestForeignArchWithoutABuilderVariantSaysWhatToGive: an aarch64 build on
// this x86_64 builder whose runtime is aarch64 only has no installer that
// runs here: one line says what to give.
func TestForeignArchWithoutABuilderVariantSaysWhatToGive(t *testing.T) {
	rt := harness.Arm64Runtime(t)
	dir := writeSpec(t, harness.NativeSpec)
	var buf bytes.Buffer
	_, err := localbuild.Build(context.Background(), harness.Client(t), localbuild.Options{
		File: filepath.Join(dir, "flatpak.yaml"), ContextDir: dir,
		Contexts:  map[string]string{"rpms": harness.NativeRPMRepo(t), "runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest},
		Platforms: []string{"linux/arm64"}, Progress: "plain", ProgressOut: &buf,
		OCIDir: filepath.Join(t.TempDir(), "oci"),
	})
	if err == nil || !strings.Contains(err.Error(), "building for aarch64 on this x86_64 builder installs with an x86_64 installer, but build context runtime is an image for aarch64") ||
		!strings.Contains(err.Error(), "--build-context base=") {
		t.Errorf("err = %v, want it to say the runtime has no amd64 variant and what to give\n%s", err, buf.String())
	}
}
