package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	ocilayout "github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	"github.com/flatpak-frontend/flatpak-frontend/packager/initspec"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/sbom"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// sbomAttrs asks for an SBOM as buildx --sbom=true does.
var sbomAttrs = map[string]string{"attest:sbom": ""}

// imageLabel reads a label of the layout's Flatpak image.
func imageLabel(t *testing.T, dir, key string) string {
	t.Helper()
	idx, err := ocilayout.ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range idx.Manifests {
		if d.MediaType != ocispecs.MediaTypeImageManifest || d.Annotations[ocispecs.AnnotationRefName] == "" {
			continue
		}
		var mf ocispecs.Manifest
		var img ocispecs.Image
		readJSON(t, blobPath(dir, d), &mf)
		readJSON(t, blobPath(dir, mf.Config), &img)
		return img.Config.Labels[key]
	}
	t.Fatalf("%s: no named image manifest in index.json", dir)
	return ""
}

// attestedSBOM finds the SPDX statement in the layout's image index.
func attestedSBOM(t *testing.T, dir string) []byte {
	t.Helper()
	idx, err := ocilayout.ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range idx.Manifests {
		if d.MediaType != ocispecs.MediaTypeImageIndex {
			continue
		}
		var inner ocispecs.Index
		readJSON(t, blobPath(dir, d), &inner)
		for _, m := range inner.Manifests {
			if m.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
				continue
			}
			var am ocispecs.Manifest
			readJSON(t, blobPath(dir, m), &am)
			for _, l := range am.Layers {
				if l.Annotations["in-toto.io/predicate-type"] != sbom.PredicateType {
					continue
				}
				var stmt struct {
					PredicateType string          `json:"predicateType"`
					Predicate     json.RawMessage `json:"predicate"`
				}
				readJSON(t, blobPath(dir, l), &stmt)
				return stmt.Predicate
			}
		}
	}
	t.Fatalf("%s: no SPDX attestation in the image index", dir)
	return nil
}

// TestBuildRecordsPackagesInLabelAndSBOM: a packager builds the example app
// with an SBOM; the image says which RPMs it bundles and which came from the
// runtime, its SPDX attestation says the same, and Flatpak still imports it.
func TestBuildRecordsPackagesInLabelAndSBOM(t *testing.T) {
	res, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml", attrs: sbomAttrs})
	if err != nil {
		t.Fatal(err)
	}
	// What localbuild must do for attestation-carrying exports.
	if err := ocilayout.ExposeFlatpakImages(res.oci); err != nil {
		t.Fatal(err)
	}

	label := imageLabel(t, res.oci, manifest.Label)
	want := "v1\na hello 1.0-1.noarch =\na hello-data 1.0-1.noarch =\nr runtime-provides 1-1.noarch ="
	if label != want {
		t.Errorf("label %s =\n%s\nwant\n%s", manifest.Label, label, want)
	}
	fromLabel, err := manifest.Decode(label)
	if err != nil {
		t.Fatal(err)
	}
	fromSBOM, err := sbom.Packages(attestedSBOM(t, res.oci))
	if err != nil {
		t.Fatal(err)
	}
	manifest.Sort(fromSBOM)
	if !slices.Equal(fromLabel, fromSBOM) {
		t.Errorf("SBOM lists\n%+v\nthe label\n%+v", fromSBOM, fromLabel)
	}

	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	fp.ImportOCI(t, res.oci)
	fp.Install(t, "org.example.Platform")
	fp.Install(t, "org.example.Hello")
	if out := fp.Run(t, "org.example.Hello"); !strings.Contains(out, harness.HelloOutput) {
		t.Errorf("flatpak run printed %q", out)
	}
}

// TestAffectedFindsPackagesInLayoutsAndRegistries is the security-update
// story: which of our images contain a package, and must be rebuilt?
func TestAffectedFindsPackagesInLayoutsAndRegistries(t *testing.T) {
	res, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml", attrs: sbomAttrs})
	if err != nil {
		t.Fatal(err)
	}
	if err := ocilayout.ExposeFlatpakImages(res.oci); err != nil {
		t.Fatal(err)
	}
	// The same image in the registry, pushed by the frontend's client.
	ref := harness.Registry(t) + "/example/hello:stable"
	_, err = localbuild.Build(context.Background(), harness.Client(t), localbuild.Options{
		File: filepath.Join(exampleDir(t), "flatpak.yaml"), ContextDir: exampleDir(t),
		Contexts: map[string]string{"rpms": harness.RPMRepo(t), "runtime": "oci-layout://" + harness.Runtime(t).Dir + "@" + harness.Runtime(t).Digest},
		Attrs:    sbomAttrs, Progress: "quiet", Push: ref,
	})
	if err != nil {
		t.Fatal(err)
	}

	bin := cli(t)
	for _, c := range []struct {
		query string
		code  int
		lines []string // each printed line, per source
	}{
		{"hello-data", 1, []string{"app/org.example.Hello/x86_64/stable\thello-data-1.0-1.noarch\tbundled"}},
		{"runtime-provides", 1, []string{"app/org.example.Hello/x86_64/stable\truntime-provides-1-1.noarch\truntime org.example.Platform/x86_64/1"}},
		{"hello-extra", 0, nil},
		{"hello<1.0-2", 1, []string{"hello-1.0-1.noarch\tbundled"}},
		{"hello<1.1", 1, []string{"hello-1.0-1.noarch\tbundled"}},
		{"hello<1.0", 0, nil},
		{"hello<0:1.0-1", 0, nil},
	} {
		for _, src := range []string{res.oci, ref} {
			cmd := exec.Command(bin, "affected", "--package", c.query, src)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if err != nil && code < 0 {
				t.Fatal(err)
			}
			if code != c.code {
				t.Errorf("affected --package %s %s: exit %d, want %d\nstdout: %s\nstderr: %s", c.query, src, code, c.code, &stdout, &stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if len(c.lines) == 0 && stdout.Len() > 0 {
				t.Errorf("affected --package %s %s printed %q", c.query, src, &stdout)
			}
			for i, want := range c.lines {
				if i >= len(lines) || !strings.HasPrefix(lines[i], src) || !strings.Contains(lines[i], want) {
					t.Errorf("affected --package %s %s printed %q, want a line %q", c.query, src, &stdout, src+"...\t"+want)
				}
			}
		}
	}

	// The runtime fixture was made by flatpak build-bundle and records
	// nothing: that is an error, not "not affected".
	cmd := exec.Command(bin, "affected", "--package", "hello", harness.Runtime(t).Dir, res.oci)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), "records no packages") {
		t.Errorf("affected on an image without label: exit %d, stderr %q; want 2", code, &stderr)
	}
	if code := exec.Command(bin, "affected", "--package", "hello", "localhost:1/nothing:here").Run(); code == nil {
		t.Error("affected on an unreachable registry succeeded")
	}
}

// TestInitWritesSpecsThatBuildAndRun: a packager points init at an RPM (or
// its repository, or a folder of RPMs without repodata: rpmbuild's RPMS/)
// and builds the file it writes, unchanged, from the build context it
// names; Flatpak runs it.
func TestInitWritesSpecsThatBuildAndRun(t *testing.T) {
	bin := cli(t)
	// rpmbuild's RPMS/, createrepo_c never run on it.
	bare := filepath.Join(t.TempDir(), "RPMS")
	for _, name := range []string{"hello", "hello-data", "viewer"} {
		rpm := harness.RPMFile(t, name)
		dst := filepath.Join(bare, filepath.Ext(strings.TrimSuffix(rpm, ".rpm"))[1:], filepath.Base(rpm))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, mustRead(t, rpm), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name    string
		args    []string
		id, out string
		// repo is the folder the file must name as the rpms context.
		repo string
	}{
		{"hello from its RPM file", []string{harness.RPMFile(t, "hello")}, "org.example.Hello", harness.HelloOutput, harness.RPMRepo(t)},
		{"viewer from the repository", []string{"--repo", harness.RPMRepo(t), "viewer"}, "org.example.Viewer", "Viewer 2.0", harness.RPMRepo(t)},
		{"hello from its RPM file in RPMS/noarch", []string{filepath.Join(bare, "noarch", filepath.Base(harness.RPMFile(t, "hello")))}, "org.example.Hello", harness.HelloOutput, bare},
		{"viewer from a folder of RPMs", []string{"--repo", bare, "viewer"}, "org.example.Viewer", "Viewer 2.0", bare},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"init", "--runtime", harness.RuntimeID + "//" + harness.RuntimeBranch, "-o", filepath.Join(dir, "flatpak.yaml")}, c.args...)
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("init: %v\n%s", err, out)
			}
			yaml := mustRead(t, filepath.Join(dir, "flatpak.yaml"))
			t.Logf("generated:\n%s", yaml)
			if !strings.Contains(string(yaml), "id: "+c.id+"\n") ||
				!strings.Contains(string(yaml), "--build-context "+initspec.RepoContext+"="+c.repo+"\n") {
				t.Errorf("unexpected file (the repo should be %s):\n%s", c.repo, yaml)
			}
			res, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml", contexts: map[string]string{initspec.RepoContext: c.repo}})
			if err != nil {
				t.Fatal(err)
			}
			fp := harness.Flatpak(t)
			fp.ImportOCI(t, harness.Runtime(t).Dir)
			fp.ImportOCI(t, res.oci)
			fp.Install(t, harness.RuntimeID)
			fp.Install(t, c.id)
			if out := fp.Run(t, c.id); !strings.Contains(out, c.out) {
				t.Errorf("flatpak run %s printed %q", c.id, out)
			}
		})
	}
	// Not an application: no executable under /app/bin.
	cmd := exec.Command(bin, "init", "--runtime", "org.example.Platform//1", harness.RPMFile(t, "hello-data"))
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "no executable into /app/bin") {
		t.Errorf("init on a data package: exit %d, %s", code, out)
	}
}

// TestInitReadsRPMv6Packages: init --from reads a package in rpm 6's v6
// format (rpmbuild 6.1 of Debian sid), hard-linked files and all: its
// header gives the app's ID and command, its payload the desktop file.
func TestInitReadsRPMv6Packages(t *testing.T) {
	bin := cli(t)
	rpm := filepath.Join(harness.RPMv6(t), harness.RPMv6Name)
	out := filepath.Join(t.TempDir(), "flatpak.yaml")
	if msg, err := exec.Command(bin, "init", "--runtime", harness.RuntimeID+"//"+harness.RuntimeBranch, "-o", out, rpm).CombinedOutput(); err != nil {
		t.Fatalf("init %s: %v\n%s", rpm, err, msg)
	}
	yaml := string(mustRead(t, out))
	for _, want := range []string{"id: org.example.HelloSix\n", "command: hello6\n", "- hello6\n"} {
		if !strings.Contains(yaml, want) {
			t.Errorf("the spec init wrote lacks %q:\n%s", want, yaml)
		}
	}
}

// TestAffectedTellsRuntimeFromAppPackages builds a runtime and an app on it
// with the frontend: a package of the runtime is reported in the runtime as
// its own and in the app as coming from that runtime; the app's own package
// only in the app; a package in neither nowhere.
func TestAffectedTellsRuntimeFromAppPackages(t *testing.T) {
	base := "oci-layout://" + harness.Runtime(t).Dir + "@" + harness.Runtime(t).Digest
	rt, err := build(t, buildOpts{dir: runtimeExampleDir(t), file: "flatpak.yaml", noRuntimeContext: true,
		contexts: map[string]string{"base": base}})
	if err != nil {
		t.Fatal(err)
	}
	if got := imageLabel(t, rt.oci, manifest.Label); !strings.Contains(got, "\nr base-runtime ") {
		t.Errorf("runtime label %q does not record base-runtime as the runtime's", got)
	}
	app, err := build(t, buildOpts{dir: runtimeExampleDir(t), file: "app.yaml", noRuntimeContext: true,
		contexts: map[string]string{"runtime": layoutContext(t, rt.oci), "base": base}})
	if err != nil {
		t.Fatal(err)
	}
	bin := cli(t)
	run := func(query string) (string, int) {
		cmd := exec.Command(bin, "affected", "--package", query, rt.oci, app.oci)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		if stderr.Len() > 0 {
			t.Logf("affected --package %s: %s", query, &stderr)
		}
		return stdout.String(), cmd.ProcessState.ExitCode()
	}
	out, code := run("base-runtime")
	if code != 1 ||
		!strings.Contains(out, rt.oci+"\truntime/org.example.BasePlatform/x86_64/1\tbase-runtime-") ||
		!strings.Contains(out, app.oci+"\tapp/org.example.Hello/x86_64/stable\tbase-runtime-") ||
		!strings.Contains(out, "\truntime org.example.BasePlatform/x86_64/1\n") {
		t.Errorf("base-runtime: exit %d, printed\n%s", code, out)
	}
	out, code = run("hello")
	if code != 1 || strings.Contains(out, rt.oci) || !strings.Contains(out, app.oci+"\tapp/org.example.Hello/x86_64/stable\thello-1.0-1.noarch\tbundled\n") {
		t.Errorf("hello: exit %d, printed\n%s", code, out)
	}
	if out, code = run("hello-extra"); code != 0 || out != "" {
		t.Errorf("hello-extra: exit %d, printed %q", code, out)
	}
}
