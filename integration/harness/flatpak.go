package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/packager/flatpakcli"
)

// FlatpakRemote is the name of the remote that serves [FlatpakEnv.Repo].
const FlatpakRemote = "harness"

// FlatpakEnv is a throwaway Flatpak user installation (FLATPAK_USER_DIR)
// and an archive-z2 ostree repo to import images into; both are removed
// when the test ends.
type FlatpakEnv struct {
	UserDir string // FLATPAK_USER_DIR
	Repo    string // ostree repo, served as remote FlatpakRemote
	home    string
	runtime string // XDG_RUNTIME_DIR
	// wrap runs flatpak and ostree another way than from the host's PATH
	// (see NewerFlatpak).
	wrap []string
	// bus is the address of the environment's D-Bus session bus.
	bus string
}

// Flatpak makes a new FlatpakEnv in t's temporary folder.
func Flatpak(t testing.TB) *FlatpakEnv {
	t.Helper()
	mustBeSetUp(t)
	return newFlatpakEnv(t, t.TempDir(), nil)
}

func newFlatpakEnv(t testing.TB, base string, wrap []string) *FlatpakEnv {
	t.Helper()
	f := &FlatpakEnv{
		UserDir: filepath.Join(base, "user"),
		Repo:    filepath.Join(base, "repo"),
		home:    filepath.Join(base, "home"),
		runtime: filepath.Join(base, "xdg-runtime"),
		wrap:    wrap,
	}
	for _, d := range []string{f.UserDir, f.home, f.runtime} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := run(context.Background(), nil, "", "ostree", "init", "--mode=archive-z2", "--repo="+f.Repo); err != nil {
		t.Fatal(err)
	}
	f.startSessionBus(t, base)
	return f
}

// startSessionBus runs a D-Bus session bus of the environment's own, as a
// desktop session has: Flatpak asks its OCI authenticator, which the bus
// starts, for the tokens of a registry remote. The authenticator is the
// one of the environment's Flatpak (run through wrap).
func (f *FlatpakEnv) startSessionBus(t testing.TB, base string) {
	t.Helper()
	services := filepath.Join(base, "dbus-services")
	if err := os.MkdirAll(services, 0o755); err != nil {
		t.Fatal(err)
	}
	authenticator := strings.Join(append(append([]string{}, f.wrap...), "/usr/libexec/flatpak-oci-authenticator"), " ")
	service := "[D-BUS Service]\nName=org.flatpak.Authenticator.Oci\nExec=" + authenticator + "\n"
	if err := os.WriteFile(filepath.Join(services, "org.flatpak.Authenticator.Oci.service"), []byte(service), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(base, "bus")
	conf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=` + sock + `</listen>
  <servicedir>` + services + `</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
	confPath := filepath.Join(base, "dbus-session.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+confPath, "--nofork", "--nopidfile")
	cmd.Env = f.Env()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a D-Bus session bus: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.bus = "unix:path=" + sock
}

// Env is the environment flatpak runs in: the temporary user installation,
// and a private HOME and XDG_RUNTIME_DIR so nothing of the host's is used.
// ConfigDir is the user's configuration folder in the environment
// ($XDG_CONFIG_HOME as Flatpak reads it).
func (f *FlatpakEnv) ConfigDir() string { return filepath.Join(f.home, ".config") }

func (f *FlatpakEnv) Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "FLATPAK_USER_DIR", "HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME",
			"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "DBUS_SESSION_BUS_ADDRESS":
			continue
		}
		env = append(env, kv)
	}
	if f.bus != "" {
		env = append(env, "DBUS_SESSION_BUS_ADDRESS="+f.bus)
	}
	return append(env,
		"FLATPAK_USER_DIR="+f.UserDir,
		"HOME="+f.home,
		"XDG_RUNTIME_DIR="+f.runtime,
	)
}

// RunEnv is Env without the session bus, for `flatpak run`: the test apps
// need none, and Flatpak would put a D-Bus proxy in front of it.
func (f *FlatpakEnv) RunEnv() []string {
	var out []string
	for _, kv := range f.Env() {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			out = append(out, kv)
		}
	}
	return out
}

// Command runs `flatpak ARGS...` in the environment and returns its stdout;
// the error carries the command line, stdout and stderr.
func (f *FlatpakEnv) Command(args ...string) (string, error) {
	stdout, _, err := f.command(args...)
	return stdout, err
}

// CommandLog is Command returning what flatpak printed on stderr too: its
// log, with -v.
func (f *FlatpakEnv) CommandLog(args ...string) (string, error) {
	stdout, stderr, err := f.command(args...)
	return stdout + stderr, err
}

func (f *FlatpakEnv) command(args ...string) (string, string, error) {
	argv := append(append(append([]string{}, f.wrap...), "flatpak"), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = f.Env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), stderr.String(), fmt.Errorf("flatpak %s: %v\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), err, tail(stdout.String()), tail(stderr.String()))
	}
	return stdout.String(), stderr.String(), nil
}

// installation drives flatpak in this environment the way
// flatpak-frontend build --install does.
func (f *FlatpakEnv) installation() *flatpakcli.Installation {
	return &flatpakcli.Installation{Repo: f.Repo, Remote: FlatpakRemote, Env: f.Env(), Wrap: f.wrap}
}

// ImportOCI imports an OCI image layout folder into the repo
// (flatpak build-import-bundle --oci) and updates the repo's summary,
// failing t with flatpak's output if it refuses. The image's index.json must
// name it with its Flatpak ref (org.opencontainers.image.ref.name). Use
// [FlatpakEnv.Command] to expect a failure.
func (f *FlatpakEnv) ImportOCI(t testing.TB, dir string) {
	t.Helper()
	if err := f.installation().Import(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
}

// Install installs (or updates) a ref or app id from the repo into the user
// installation, adding the remote (without GPG) the first time.
func (f *FlatpakEnv) Install(t testing.TB, ref string) {
	t.Helper()
	if err := f.installation().Install(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
}

// Run runs `flatpak run ARGS...` (for example "--command=sh",
// "org.example.Platform//1", "-c", "...") and returns its stdout, failing t
// with the output if it fails.
func (f *FlatpakEnv) Run(t testing.TB, args ...string) string {
	t.Helper()
	in := f.installation()
	in.Env = f.RunEnv()
	out, err := in.Run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
