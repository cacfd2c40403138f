package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
