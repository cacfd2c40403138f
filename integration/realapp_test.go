package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
)

// ghexExample is examples/ghex.
func ghexExample(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../examples/ghex")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildGHex runs `flatpak-frontend build` of examples/ghex (with its file
// changed by edit, when given) on the GTK runtime with the GHex RPMs, in
// fp's Flatpak installation, writing the image to out.
func buildGHex(t *testing.T, fp *harness.FlatpakEnv, out string, edit func(string) string, extra ...string) (stdout, stderr string, err error) {
	t.Helper()
	rt := harness.GtkRuntime(t)
	dir := ghexExample(t)
	if edit != nil {
		dir = writeSpec(t, edit(string(mustRead(t, filepath.Join(dir, "flatpak.yaml")))))
	}
	args := append([]string{"build", "--progress=plain",
		"--build-context", "runtime=oci-layout://" + rt.Dir,
		"--build-context", "rpms=" + harness.GHexRepo(t),
		"--output", "oci:" + out,
	}, extra...)
	cmd := exec.Command(cli(t), append(args, dir)...)
	cmd.Env = append(fp.Env(), "XDG_DATA_HOME="+filepath.Join(fp.UserDir, "data"), "BUILDKIT_HOST="+harness.Addr())
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	t.Logf("%s\nstderr:\n%s", strings.Join(cmd.Args, " "), e.String())
	return o.String(), e.String(), err
}

// appPackages are the names of the packages an image's rpms label records
// as installed into /app.
func appPackages(t *testing.T, oci string) []string {
	t.Helper()
	pkgs, err := manifest.Decode(readImage(t, oci, "").config.Config.Labels[manifest.Label])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		if p.Origin == manifest.App {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestRealAppGHexBuildsInstallsAndShowsItsWindow is the core promise with a
// real compiled GTK app: GHex from RPMs whose soname Requires come from its
// ELF files, built on a runtime that provides them, installed with
// flatpak-frontend build --install, and run by Flatpak under Xvfb: its
// window appears, and a screenshot of it is not blank.
func TestRealAppGHexBuildsInstallsAndShowsItsWindow(t *testing.T) {
	fp := harness.Flatpak(t)
	out := filepath.Join(t.TempDir(), "oci")
	if _, _, err := buildGHex(t, fp, out, nil, "--install"); err != nil {
		t.Fatal(err)
	}

	// The soname Requires were resolved against the runtime's rpmdb: no
	// runtime package was installed into /app.
	if got := appPackages(t, out); !slices.Equal(got, []string{"ghex", "ghex-libs"}) {
		t.Errorf("packages installed into /app: %q, want ghex and ghex-libs", got)
	}
	// The runtime's file triggers ran at install time.
	files := filepath.Join(fp.UserDir, "app", "org.gnome.GHex", "current", "active", "files")
	if _, err := os.Stat(filepath.Join(files, "share/glib-2.0/schemas/gschemas.compiled")); err != nil {
		t.Errorf("GHex's GSettings schemas were not compiled: %v", err)
	}

	d := harness.Xvfb(t)
	run := exec.Command("flatpak", "run", "org.gnome.GHex")
	run.Env = append(fp.Env(), "DISPLAY="+d.Name)
	var log strings.Builder
	run.Stdout, run.Stderr = &log, &log
	// The app runs in bwrap's children, which keep the output pipes open:
	// the whole process group is stopped, and Wait does not wait for them.
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	run.WaitDelay = 10 * time.Second
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	defer func() {
		fp.Command("kill", "org.gnome.GHex")
		syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
		<-exited
		t.Logf("flatpak run org.gnome.GHex:\n%s", log.String())
	}()
	id := d.WaitWindow(t, "GHex", 2*time.Minute, func() error {
		select {
		case err := <-exited:
			exited <- err
			if err == nil {
				err = errExitedEarly
			}
			return err
		default:
			return nil
		}
	})
	if name := d.WindowName(t, id); !strings.Contains(name, "GHex") {
		t.Errorf("window name %q", name)
	}
	// Let it draw.
	time.Sleep(3 * time.Second)
	shot := filepath.Join(harness.ArtifactDir(t), "ghex.png")
	colors := d.Screenshot(t, shot)
	t.Logf("screenshot: %s (%d colors)", shot, colors)
	if colors < 16 {
		t.Errorf("the screenshot has %d colors: the window shows nothing", colors)
	}
}

var errExitedEarly = errorString("exited with status 0 before showing a window")

type errorString string

func (e errorString) Error() string { return string(e) }
