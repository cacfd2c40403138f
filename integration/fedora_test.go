package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
)

// TestFedoraGlobsMimeRenamesAndLabels builds an app the way Fedora's files
// are written: a package glob, rename-mime-file and rename-mime-icons, and
// gets the packages the glob installed in its manifest, the MIME file and
// icons renamed and exported as Flatpak exports them, and the labels
// flatpak-module-tools writes.
func TestFedoraGlobsMimeRenamesAndLabels(t *testing.T) {
	yaml := strings.Replace(appSpec("hello", "hello-?xtr[a-z]", "mime-app"), "command: hello\n",
		"command: hello\nrename-mime-file: mimeapp.xml\nrename-mime-icons:\n  - mimeapp-doc\n  - application-x-mimeapp-raw\n", 1)
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	img := readImage(t, res.oci, tree)
	pkgs, err := manifest.Decode(img.config.Config.Labels[manifest.Label])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		if p.Origin == manifest.App {
			names = append(names, p.Name)
		}
	}
	if !slices.Contains(names, "hello-extra") {
		t.Errorf("the glob's package is not in the manifest: %q", names)
	}

	mime := string(mustRead(t, filepath.Join(tree, "export/share/mime/packages/org.example.Hello.xml")))
	for _, want := range []string{`<icon name="org.example.Hello.mimeapp-doc"/>`, `<icon name="org.example.Hello.application-x-mimeapp-raw"/>`} {
		if !strings.Contains(mime, want) {
			t.Errorf("the exported MIME file lacks %s:\n%s", want, mime)
		}
	}
	for _, f := range []string{"org.example.Hello.mimeapp-doc.svg", "org.example.Hello.application-x-mimeapp-raw.svg"} {
		if _, err := os.Stat(filepath.Join(tree, "export/share/icons/hicolor/scalable/mimetypes", f)); err != nil {
			t.Errorf("icon %s not exported: %v", f, err)
		}
	}

	l := img.config.Config.Labels
	for k, want := range map[string]string{labels.Name: "hello", labels.Component: "hello-flatpak", labels.Version: "1.0", labels.Release: "1", "org.opencontainers.image.version": "1.0"} {
		if l[k] != want {
			t.Errorf("label %s = %q, want %q", k, l[k], want)
		}
	}

	// The build system's labels are defaults: the file's labels and the
	// build's (--label) win. Flatpak's, the AppStream ones and the
	// frontend's own are refused, from either, naming where.
	own := strings.Replace(appSpec("hello"), "command: hello\n", "command: hello\nlabels:\n  version: 2.0-custom\n  vendor: Example\n", 1)
	res, err = build(t, buildOpts{dir: writeSpec(t, own), file: "flatpak.yaml", attrs: map[string]string{"label:release": "7"}})
	if err != nil {
		t.Fatal(err)
	}
	l = readImage(t, res.oci, "").config.Config.Labels
	for k, want := range map[string]string{labels.Version: "2.0-custom", "vendor": "Example", labels.Release: "7", labels.Name: "hello", labels.Ref: "app/org.example.Hello/x86_64/stable"} {
		if l[k] != want {
			t.Errorf("with the user's labels, label %s = %q, want %q", k, l[k], want)
		}
	}
	_, err = build(t, buildOpts{dir: writeSpec(t, appSpec("hello")), file: "flatpak.yaml", attrs: map[string]string{"label:org.flatpak.metadata": "[Application]"}})
	if err == nil || !strings.Contains(err.Error(), "label:org.flatpak.metadata (--label org.flatpak.metadata=...): the frontend writes this label") {
		t.Errorf("a build's label org.flatpak.metadata: %v", err)
	}
	forged := strings.Replace(appSpec("hello"), "command: hello\n", "command: hello\nlabels:\n  org.flatpak-frontend.rpms: nothing\n", 1)
	_, err = build(t, buildOpts{dir: writeSpec(t, forged), file: "flatpak.yaml"})
	if err == nil || !strings.Contains(err.Error(), `labels: "org.flatpak-frontend.rpms": the frontend writes this label`) || !slices.Contains(sourceLines(err), 6) {
		t.Errorf("the file's label org.flatpak-frontend.rpms: %v at %v", err, sourceLines(err))
	}

	// A glob that matches nothing is an error at its line.
	_, err = build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "nothing-*")), file: "flatpak.yaml"})
	if err == nil || !strings.Contains(err.Error(), `"nothing-*" was not found`) || !slices.Contains(sourceLines(err), 7) {
		t.Errorf("a glob that matches nothing: %v at %v", err, sourceLines(err))
	}
}

// TestFedoraExtraDataAsFlatpakToolsAndInstalled: an app with extra-data
// gets the metadata flatpak build-finish --extra-data writes and the
// xa.extra-data-sources label flatpak build-bundle --oci writes, byte for
// byte; Flatpak (1.14 and sid's 1.18) installs it, downloading the data
// from a server on loopback, and the app's apply_extra runs.
func TestFedoraExtraDataAsFlatpakToolsAndInstalled(t *testing.T) {
	payload := []byte("extra data from the vendor\n")
	sum := sha256.Sum256(payload)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/vendor/payload.txt" {
			http.NotFound(w, r)
			return
		}
		w.Write(payload)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/vendor/payload.txt"

	yaml := `id: org.example.Extra
runtime-name: org.example.Platform
runtime-version: "1"
command: extra-app
packages: [extra-app]
extra-data:
  - filename: payload.txt
    url: ` + url + `
    sha256: ` + hex.EncodeToString(sum[:]) + `
    size: ` + fmt.Sprint(len(payload)) + `
    installed-size: 4096
  - filename: arm-only.bin
    url: http://127.0.0.1:1/never
    sha256: ` + strings.Repeat("0", 64) + `
    size: 1
    only-arches: [aarch64]
repos:
  - name: example
    context: rpms
    path: .
`
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	ours := readImage(t, res.oci, tree)

	// Flatpak's tools on the same files.
	work := t.TempDir()
	app := filepath.Join(work, "app")
	for _, d := range []string{app, filepath.Join(app, "var")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(filepath.Join(tree, "files"), filepath.Join(app, "files")); err != nil {
		t.Fatal(err)
	}
	initial := "[Application]\nname=org.example.Extra\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n"
	if err := os.WriteFile(filepath.Join(app, "metadata"), []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	flatpak := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("flatpak", args...).CombinedOutput(); err != nil {
			t.Fatalf("flatpak %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	flatpak("build-finish", "--command=extra-app", fmt.Sprintf("--extra-data=payload.txt:%x:%d:4096:%s", sum, len(payload), url), app)
	if want, got := mustRead(t, filepath.Join(app, "metadata")), mustRead(t, filepath.Join(tree, "metadata")); string(want) != string(got) {
		t.Errorf("metadata differs from build-finish's:\n--- build-finish\n%s\n--- ours\n%s", want, got)
	}
	repo, bundle := filepath.Join(work, "repo"), filepath.Join(work, "bundle")
	flatpak("build-export", "--no-update-summary", repo, app, "stable")
	flatpak("build-bundle", "--oci", repo, bundle, "org.example.Extra", "stable")
	key := labels.CommitMetadataPrefix + labels.KeyExtraDataSources
	theirs := readImage(t, bundle, "").config.Config.Labels[key]
	if theirs == "" || ours.config.Config.Labels[key] != theirs {
		t.Errorf("%s = %q, build-bundle wrote %q", key, ours.config.Config.Labels[key], theirs)
	}

	for name, fp := range map[string]*harness.FlatpakEnv{"flatpak 1.14": harness.Flatpak(t), "flatpak 1.18": harness.NewerFlatpak(t)} {
		t.Run(name, func(t *testing.T) {
			fp.ImportOCI(t, harness.Runtime(t).Dir)
			fp.ImportOCI(t, res.oci)
			fp.Install(t, harness.RuntimeRef)
			fp.Install(t, "org.example.Extra")
			if out := fp.Run(t, "org.example.Extra"); !strings.Contains(out, "EXTRA DATA FROM THE VENDOR") {
				t.Errorf("the app printed %q: apply_extra did not unpack the downloaded data", out)
			}
		})
	}
}

// TestFedoraExtensionIsMountedInItsRuntime builds a runtime with an
// extension point (add-extensions, as Fedora's runtime declares its .Locale
// and GL extensions), then an extension of it (build-extension, flatpak-
// builder's key) whose package fills the folder the extension point names.
// Flatpak installs both, and the runtime sees the extension's file there.
func TestFedoraExtensionIsMountedInItsRuntime(t *testing.T) {
	base := "oci-layout://" + harness.Runtime(t).Dir + "@" + harness.Runtime(t).Digest
	runtimeYAML := string(mustRead(t, filepath.Join(runtimeExampleDir(t), "flatpak.yaml"))) +
		"add-extensions:\n  org.example.BasePlatform.Extra:\n    directory: share/extra\n"
	rt, err := build(t, buildOpts{dir: writeSpec(t, runtimeYAML), file: "flatpak.yaml", noRuntimeContext: true,
		contexts: map[string]string{"base": base}})
	if err != nil {
		t.Fatal(err)
	}
	extYAML := `id: org.example.BasePlatform.Extra
build-extension: true
branch: "1"
runtime-name: org.example.BasePlatform
runtime-version: "1"
packages: [base-extra]
repos:
  - name: example
    context: rpms
    path: .
`
	ext, err := build(t, buildOpts{dir: writeSpec(t, extYAML), file: "flatpak.yaml", noRuntimeContext: true,
		contexts: map[string]string{"runtime": layoutContext(t, rt.oci), "base": base}})
	if err != nil {
		t.Fatal(err)
	}
	desc := readIndex(t, ext.oci)
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != "runtime/org.example.BasePlatform.Extra/x86_64/1" {
		t.Errorf("extension ref = %q", got)
	}
	tree := t.TempDir()
	readImage(t, ext.oci, tree)
	md := string(mustRead(t, filepath.Join(tree, "metadata")))
	want := "[Runtime]\nname=org.example.BasePlatform.Extra\nruntime=org.example.BasePlatform/x86_64/1\nsdk=org.example.BasePlatform/x86_64/1\n\n[ExtensionOf]\nref=runtime/org.example.BasePlatform/x86_64/1\nruntime=org.example.BasePlatform/x86_64/1\n"
	if md != want {
		t.Errorf("metadata:\n%s\nwant:\n%s", md, want)
	}
	if _, err := os.Stat(filepath.Join(tree, "files/hello.txt")); err != nil {
		t.Errorf("the extension's files/ lacks its file: %v", err)
	}

	fp := harness.Flatpak(t)
	fp.ImportOCI(t, rt.oci)
	fp.ImportOCI(t, ext.oci)
	fp.Install(t, "runtime/org.example.BasePlatform/x86_64/1")
	fp.Install(t, "runtime/org.example.BasePlatform.Extra/x86_64/1")
	if out := fp.Run(t, "--command=cat", "org.example.BasePlatform//1", "/usr/share/extra/hello.txt"); !strings.Contains(out, "Hello from the extension") {
		t.Errorf("the runtime does not see the extension's file: %q", out)
	}

	// An extension the runtime has no extension point for.
	bad := strings.Replace(extYAML, "id: org.example.BasePlatform.Extra", "id: org.example.BasePlatform.Other", 1)
	_, err = build(t, buildOpts{dir: writeSpec(t, bad), file: "flatpak.yaml", noRuntimeContext: true,
		contexts: map[string]string{"runtime": layoutContext(t, rt.oci), "base": base}})
	if err == nil || !strings.Contains(err.Error(), "no extension point for org.example.BasePlatform.Other (it has org.example.BasePlatform.Extra)") {
		t.Errorf("an extension without an extension point: %v", err)
	}
}

// TestFedoraRuntimeNamedByItsContainerName builds a container.yaml that
// names its runtime as Fedora's do (runtime-name: flatpak-runtime) on a
// runtime image that is org.fedoraproject.Platform (the test runtime with
// Fedora's ref and metadata labels): the container name stands for that
// ID, and the app's metadata names the runtime and SDK the image says. A
// container name of another runtime is an error naming both.
func TestFedoraRuntimeNamedByItsContainerName(t *testing.T) {
	rt := harness.Runtime(t)
	fedora := withLabels(t, rt.Dir, map[string]string{
		labels.Ref:      "runtime/org.fedoraproject.Platform/x86_64/f41",
		labels.Metadata: "[Runtime]\nname=org.fedoraproject.Platform\nruntime=org.fedoraproject.Platform/x86_64/f41\nsdk=org.fedoraproject.Sdk/x86_64/f41\n",
	})
	version := "f41"
	containerYAML := func(runtimeName string) string {
		return `flatpak:
    id: org.example.Hello
    runtime-name: ` + runtimeName + `
    runtime-version: ` + version + `
    packages:
    - hello
    command: hello
    repos:
    - name: example
      context: rpms
      path: .
`
	}
	res, err := build(t, buildOpts{dir: writeSpec(t, containerYAML("flatpak-runtime")), file: "flatpak.yaml",
		contexts: map[string]string{"runtime": "oci-layout://" + fedora}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.log, "runtime-version is") {
		t.Errorf("a warning about runtime-version f41 on the f41 runtime:\n%s", lastLines(res.log, 6))
	}
	img := readImage(t, res.oci, t.TempDir())
	md := img.config.Config.Labels[labels.Metadata]
	for _, want := range []string{"runtime=org.fedoraproject.Platform/x86_64/f41\n", "sdk=org.fedoraproject.Sdk/x86_64/f41\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("the app's metadata lacks %q:\n%s", want, md)
		}
	}

	// Another runtime-version than the image's branch: the image's, said.
	version = "f40"
	res, err = build(t, buildOpts{dir: writeSpec(t, containerYAML("flatpak-runtime")), file: "flatpak.yaml",
		contexts: map[string]string{"runtime": "oci-layout://" + fedora}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.log, "runtime-version is f40, but the runtime from build context runtime is org.fedoraproject.Platform branch f41: the app is built for f41 and runs on it (flatpak.yaml:4)") {
		t.Errorf("no warning about runtime-version f40 on the f41 runtime:\n%s", lastLines(res.log, 6))
	}
	if md := readImage(t, res.oci, "").config.Config.Labels[labels.Metadata]; !strings.Contains(md, "runtime=org.fedoraproject.Platform/x86_64/f41\n") {
		t.Errorf("the app's metadata:\n%s", md)
	}

	version = "f41"
	_, err = build(t, buildOpts{dir: writeSpec(t, containerYAML("flatpak-sdk")), file: "flatpak.yaml",
		contexts: map[string]string{"runtime": "oci-layout://" + fedora}})
	if err == nil || !strings.Contains(err.Error(), "runtime-name is flatpak-sdk (org.fedoraproject.Sdk) but the runtime from") ||
		!strings.Contains(err.Error(), "is org.fedoraproject.Platform") || !slices.Contains(sourceLines(err), 3) {
		t.Errorf("a container name of another runtime: %v at %v", err, sourceLines(err))
	}
}

// TestFedoraDefaultRuntimeImageThatCannotBeLoaded: a file that names a
// Fedora runtime and no runtime image builds on the image Fedora publishes
// for it; when that cannot be loaded (no such tag, or no registry reached),
// the error names the image, where it came from, and how to give a copy.
func TestFedoraDefaultRuntimeImageThatCannotBeLoaded(t *testing.T) {
	yaml := "flatpak:\n    id: org.example.Hello\n    runtime-name: flatpak-runtime\n    runtime-version: 0.no-such-tag\n    packages: [hello]\n    command: hello\n"
	_, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", noRuntimeContext: true})
	if err == nil || !strings.Contains(err.Error(), "the runtime image registry.fedoraproject.org/flatpak-runtime:0.no-such-tag (from runtime-name and runtime-version): ") ||
		!strings.Contains(err.Error(), "; to build on a copy of it, give --build-context runtime=docker-image://REF or oci-layout://DIR (or --build-arg RUNTIME_IMAGE=REF)") ||
		!slices.Contains(sourceLines(err), 3) {
		t.Errorf("got %v at %v", err, sourceLines(err))
	}
}
