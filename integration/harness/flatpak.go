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
}

// Flatpak makes a new FlatpakEnv in t's temporary folder.
func Flatpak(t testing.TB) *FlatpakEnv {
	t.Helper()
	mustBeSetUp(t)
	return newFlatpakEnv(t, t.TempDir())
}

func newFlatpakEnv(t testing.TB, base string) *FlatpakEnv {
	t.Helper()
	f := &FlatpakEnv{
		UserDir: filepath.Join(base, "user"),
		Repo:    filepath.Join(base, "repo"),
		home:    filepath.Join(base, "home"),
		runtime: filepath.Join(base, "xdg-runtime"),
	}
	for _, d := range []string{f.UserDir, f.home, f.runtime} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := run(context.Background(), nil, "", "ostree", "init", "--mode=archive-z2", "--repo="+f.Repo); err != nil {
		t.Fatal(err)
	}
	return f
}

// Env is the environment flatpak runs in: the temporary user installation,
// and a private HOME and XDG_RUNTIME_DIR so nothing of the host's is used.
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
	return append(env,
		"FLATPAK_USER_DIR="+f.UserDir,
		"HOME="+f.home,
		"XDG_RUNTIME_DIR="+f.runtime,
	)
}

// Command runs `flatpak ARGS...` in the environment and returns its stdout;
// the error carries the command line, stdout and stderr.
func (f *FlatpakEnv) Command(args ...string) (string, error) {
	argv := append(append(append([]string{}, f.wrap...), "flatpak"), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = f.Env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("flatpak %s: %v\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), err, tail(stdout.String()), tail(stderr.String()))
	}
	return stdout.String(), nil
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
	out, err := f.installation().Run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
