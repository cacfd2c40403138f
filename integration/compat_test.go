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
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

// CompatEnv set to "all" runs the whole compat matrix (make compat) instead
// of its oldest and newest releases (or "vA,vB": those); CompatReportEnv names a file for the
// Markdown table of its results.
const (
	compatEnv       = "FLATPAK_FRONTEND_COMPAT"
	compatReportEnv = "FLATPAK_FRONTEND_COMPAT_REPORT"
)

func compatVersions() []string {
	all := buildkitd.CompatVersions
	switch v := os.Getenv(compatEnv); v {
	case "all":
		return all
	case "":
		return []string{all[0], all[len(all)-1]}
	default:
		return strings.Split(v, ",") // some releases, to try one
	}
}

// TestCompatDaemons runs the example end to end through buildkitd
// releases users run, each built from the Go module proxy and driven by
// its own buildctl: the frontend image as a gateway frontend, and the
// `# syntax=` line forwarded by that daemon's own Dockerfile frontend; the
// results import into Flatpak, and the gateway's is installed and run.
func TestCompatDaemons(t *testing.T) {
	img, _ := frontendImage(t)
	var rows []string
	for _, v := range compatVersions() {
		t.Run(v, func(t *testing.T) {
			row := map[string]string{"gateway": "fail", "syntax": "fail"}
			defer func() { rows = append(rows, fmt.Sprintf("| %s | %s | %s |", v, row["gateway"], row["syntax"])) }()
			bkd, bctl, err := buildkitd.EnsureVersion(t.Context(), harness.CacheDir(), v)
			if err != nil {
				t.Fatalf("building BuildKit %s: %v", v, err)
			}
			d, err := buildkitd.Start(t.Context(), buildkitd.Options{
				Binary: bkd, CacheDir: harness.CacheDir(), RegistryHosts: []string{harness.Registry(t)},
			})
			if err != nil {
				t.Fatalf("starting buildkitd %s: %v", v, err)
			}
			defer d.Stop()
			ctl := func(args ...string) error {
				start := time.Now()
				_, err := runLogged(t, exec.Command(bctl, append([]string{"--addr", d.Addr()}, args...)...))
				t.Logf("%s in %s", args[3], time.Since(start).Round(time.Second))
				return err
			}
			ex := exampleDir(t)

			gw := filepath.Join(t.TempDir(), "gateway")
			err = ctl(append(append([]string{"build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + img,
				"--local", "context=" + ex, "--local", "dockerfile=" + ex}, exampleInputs(t)...),
				"--output", "type=oci,dest="+gw+",tar=false")...)
			if err != nil {
				t.Errorf("gateway.v0 through buildkitd %s: %v", v, err)
			} else {
				note := oldLayout(t, gw)
				installAndRunHello(t, gw)
				if !t.Failed() {
					row["gateway"] = "ok, installed and run" + note
				}
			}

			dt, err := os.ReadFile(filepath.Join(ex, "flatpak.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			dir := writeSpec(t, strings.Replace(string(dt), exampleSyntax, "# syntax="+img, 1))
			df := filepath.Join(t.TempDir(), "syntax")
			err = ctl(append(append([]string{"build", "--progress=plain", "--frontend", "dockerfile.v0",
				"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=flatpak.yaml"}, exampleInputs(t)...),
				"--output", "type=oci,dest="+df+",tar=false")...)
			if err != nil {
				t.Errorf("# syntax= through buildkitd %s's Dockerfile frontend: %v", v, err)
			} else {
				note := oldLayout(t, df)
				flatpakImportable(t, df, helloRef)
				if !t.Failed() {
					row["syntax"] = "ok, imported" + note
				}
			}
		})
	}
	if p := os.Getenv(compatReportEnv); p != "" {
		table := "| BuildKit | gateway.v0 (buildctl) | `# syntax=` (Dockerfile frontend) |\n|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
		if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// oldLayout completes an OCI layout folder that buildctl before v0.12
// wrote without its oci-layout file (the v0.11 client's local export);
// Flatpak, like any OCI reader, needs it. Nothing else differs.
// It returns a note for the table when it did.
func oldLayout(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "oci-layout")
	if _, err := os.Stat(p); err == nil {
		return ""
	}
	t.Logf("%s has no oci-layout file (buildctl before v0.12): writing it", dir)
	if err := os.WriteFile(p, []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return " (buildctl wrote no `oci-layout` file: added)"
}
