package flatpakcli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Installation is a local ostree repo and the --user installation it is a
// remote of.
type Installation struct {
	// Repo is the archive-z2 ostree repo images are imported into.
	Repo string
	// Remote is the name the repo has as a --user remote.
	Remote string
	// Env is the environment of every command (FLATPAK_USER_DIR etc.);
	// nil means this process's.
	Env []string
	// Wrap, when set, runs every command through it: a command and its
	// arguments that run the rest, such as "flatpak-spawn --host" in a
	// toolbox, or a Flatpak of another version in a root of its own.
	Wrap []string
}

// DefaultRepo is the repo flatpak-frontend build --install uses:
// $XDG_DATA_HOME/flatpak-frontend/repo.
func DefaultRepo() (string, error) {
	d := os.Getenv("XDG_DATA_HOME")
	if d == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		d = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(d, "flatpak-frontend", "repo"), nil
}

// Import adds the image in an OCI layout directory to the repo (creating
// the repo first) and updates the repo's summary.
func (in *Installation) Import(ctx context.Context, ociDir string) error {
	if _, err := os.Stat(filepath.Join(in.Repo, "config")); err != nil {
		if err := os.MkdirAll(in.Repo, 0o755); err != nil {
			return err
		}
		if _, err := in.run(ctx, "ostree", "init", "--mode=archive-z2", "--repo="+in.Repo); err != nil {
			return err
		}
	}
	if _, err := in.run(ctx, "flatpak", "build-import-bundle", "--oci", "--no-update-summary", in.Repo, ociDir); err != nil {
		return err
	}
	_, err := in.run(ctx, "flatpak", "build-update-repo", in.Repo)
	return err
}

// Install installs ref (ID, ID//BRANCH or a full ref) from the repo, or
// updates it in place when it is installed already.
func (in *Installation) Install(ctx context.Context, ref string) error {
	if _, err := in.run(ctx, "flatpak", "--user", "remote-add", "--if-not-exists", "--no-gpg-verify", in.Remote, in.Repo); err != nil {
		return err
	}
	_, err := in.run(ctx, "flatpak", "--user", "install", "--noninteractive", "-y", "--or-update", in.Remote, ref)
	return err
}

// Run runs an installed app (or a runtime with --command) and returns what
// it printed on stdout.
func (in *Installation) Run(ctx context.Context, args ...string) (string, error) {
	return in.run(ctx, "flatpak", append([]string{"--user", "run"}, args...)...)
}

func (in *Installation) run(ctx context.Context, name string, args ...string) (string, error) {
	argv := append(append(append([]string{}, in.Wrap...), name), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = in.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v\n%s%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String(), hint(stderr.String(), in.Env))
	}
	return stdout.String(), nil
}

// hint explains the failures whose cause Flatpak's message leaves out.
func hint(stderr string, env []string) string {
	if !strings.Contains(stderr, "Could not connect: No such file or directory") {
		return ""
	}
	bus := "/run/dbus/system_bus_socket"
	if env == nil {
		env = os.Environ()
	}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DBUS_SYSTEM_BUS_ADDRESS="); ok {
			bus = v
		}
	}
	return fmt.Sprintf("(flatpak --user asks the system D-Bus about the app's parental controls when run by a user other than root, and none answers at %s: start it, e.g. sudo systemctl start dbus; a desktop session always has it)\n", bus)
}
