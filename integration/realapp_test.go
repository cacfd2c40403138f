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
	cmd.Env = append(fp.RunEnv(), "XDG_DATA_HOME="+filepath.Join(fp.UserDir, "data"), "BUILDKIT_HOST="+harness.Addr())
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
	run.Env = append(fp.RunEnv(), "DISPLAY="+d.Name)
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

// TestRealAppGHexWithDnf5 builds GHex with dnf5 (Fedora's Konflux flow
// runs dnf5 -y install): installer: dnf5 on the GTK runtime, whose own
// installer is dnf, takes dnf5 from a build image (the minimal sid runtime)
// that installs onto the runtime's tree; the runtime's file triggers still
// run, in its own root.
func TestRealAppGHexWithDnf5(t *testing.T) {
	fp := harness.Flatpak(t)
	out := filepath.Join(t.TempDir(), "oci")
	minimal := harness.MinimalRuntime(t)
	_, stderr, err := buildGHex(t, fp, out, func(y string) string { return y + "installer: dnf5\n" },
		"--build-context", "base=oci-layout://"+minimal.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "flatpak-frontend: dnf5 -y") {
		t.Error("the build log does not show dnf5 installing")
	}
	if got := appPackages(t, out); !slices.Equal(got, []string{"ghex", "ghex-libs"}) {
		t.Errorf("packages installed into /app: %q, want ghex and ghex-libs", got)
	}
	tree := t.TempDir()
	readImage(t, out, tree)
	if _, err := os.Stat(filepath.Join(tree, "files/share/glib-2.0/schemas/gschemas.compiled")); err != nil {
		t.Errorf("the runtime's glib-compile-schemas trigger did not run: %v", err)
	}
}

// TestRealAppErrorsNameThePackageLineAndTheMissingCapability: a typo'd
// package and GHex on a runtime without GTK are errors at the packages line
// that say which name, or which soname, nothing has.
func TestRealAppErrorsNameThePackageLineAndTheMissingCapability(t *testing.T) {
	fp := harness.Flatpak(t)
	// packages: is on line 12 of examples/ghex/flatpak.yaml, ghex on 13.
	_, stderr, err := buildGHex(t, fp, filepath.Join(t.TempDir(), "oci"), func(y string) string {
		return strings.Replace(y, "  - ghex\n", "  - ghexx\n", 1)
	})
	if err == nil {
		t.Fatal("a typo'd package built")
	}
	if !strings.Contains(stderr, `package "ghexx" was not found`) || !strings.Contains(stderr, "flatpak.yaml:13:") {
		t.Errorf("the typo is not named at its line:\n%s", lastLines(stderr, 20))
	}

	// GHex's RPMs on the bookworm test runtime, whose rpmdb has no GTK 4.
	rt := harness.Runtime(t)
	spec := strings.Replace(string(mustRead(t, filepath.Join(ghexExample(t), "flatpak.yaml"))), "runtime-name: "+harness.GtkRuntimeID, "runtime-name: "+harness.RuntimeID, 1)
	res, err := build(t, buildOpts{dir: writeSpec(t, spec), file: "flatpak.yaml",
		contexts: map[string]string{"rpms": harness.GHexRepo(t), "runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest}})
	if err == nil {
		t.Fatal("GHex built on a runtime without GTK")
	}
	msg := err.Error()
	if !strings.Contains(msg, "nothing provides lib") || !strings.Contains(msg, "libgtk-4.so.1()(64bit)") || !strings.Contains(msg, "which ghex-") {
		t.Errorf("the error does not name the missing soname:\n%s", msg)
	}
	if lines := sourceLines(err); !slices.Contains(lines, 13) {
		t.Errorf("error at lines %v, want ghex's (13)\n%s", lines, res.log)
	}
}

// TestRealAppAppStreamAsFlatpakShowsIt: the AppStream labels are the ones
// flatpak build-bundle --oci writes for the same exported tree (the
// catalog appstreamcli compose wrote in the finish step), and Flatpak shows
// GHex's name and summary in remote-ls of a repo the image was imported
// into.
func TestRealAppAppStreamAsFlatpakShowsIt(t *testing.T) {
	fp := harness.Flatpak(t)
	out := filepath.Join(t.TempDir(), "oci")
	if _, _, err := buildGHex(t, fp, out, nil); err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	ours := readImage(t, out, tree).config.Config.Labels
	if _, err := os.Stat(filepath.Join(tree, "files/share/app-info/xmls/org.gnome.GHex.xml.gz")); err != nil {
		t.Fatalf("no composed AppStream catalog: %v", err)
	}
	work := t.TempDir()
	repo, bundle := filepath.Join(work, "repo"), filepath.Join(work, "bundle")
	for _, args := range [][]string{
		{"build-export", "--no-update-summary", repo, tree, "stable"},
		{"build-bundle", "--oci", repo, bundle, "org.gnome.GHex", "stable"},
	} {
		if out, err := exec.Command("flatpak", args...).CombinedOutput(); err != nil {
			t.Fatalf("flatpak %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	theirs := readImage(t, bundle, "").config.Config.Labels
	for _, k := range []string{"org.freedesktop.appstream.appdata", "org.freedesktop.appstream.icon-64", "org.freedesktop.appstream.icon-128"} {
		if theirs[k] == "" {
			t.Errorf("build-bundle wrote no %s", k)
		}
		if ours[k] != theirs[k] {
			t.Errorf("%s differs from build-bundle's:\nours:   %.300q\ntheirs: %.300q", k, ours[k], theirs[k])
		}
	}

	fp.ImportOCI(t, out)
	if _, err := fp.Command("--user", "remote-add", "--if-not-exists", "--no-gpg-verify", harness.FlatpakRemote, fp.Repo); err != nil {
		t.Fatal(err)
	}
	// remote-ls reads the AppStream data Flatpak keeps of the remote.
	if _, err := fp.Command("--user", "update", "--appstream", harness.FlatpakRemote); err != nil {
		t.Fatal(err)
	}
	list, err := fp.Command("--user", "remote-ls", "--app", "--columns=application,name,description", harness.FlatpakRemote)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "org.gnome.GHex") || !strings.Contains(list, "GHex") || !strings.Contains(list, "Inspect and edit binary files") {
		t.Errorf("remote-ls does not show GHex's name and summary:\n%s", list)
	}
}

// TestRealAppNewerFlatpakImportsAndInstallsAppAndRuntime: Debian sid's
// Flatpak (1.18), which enforces rules 1.14 does not, imports and installs
// the GTK runtime and GHex as built here.
func TestRealAppNewerFlatpakImportsAndInstallsAppAndRuntime(t *testing.T) {
	nf := harness.NewerFlatpak(t)
	if v := nf.Version(t); !strings.Contains(v, "1.18") {
		t.Fatalf("the newer Flatpak is %q", v)
	}
	out := filepath.Join(t.TempDir(), "oci")
	if _, _, err := buildGHex(t, harness.Flatpak(t), out, nil); err != nil {
		t.Fatal(err)
	}
	rt := harness.GtkRuntime(t)
	nf.ImportOCI(t, rt.Dir)
	nf.ImportOCI(t, out)
	nf.Install(t, harness.GtkRuntimeRef)
	nf.Install(t, "org.gnome.GHex")
	info, err := nf.Command("--user", "info", "org.gnome.GHex")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, harness.GtkRuntimeID) {
		t.Errorf("flatpak info:\n%s", info)
	}
}

// lastLines is the end of a long output.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
