package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
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
