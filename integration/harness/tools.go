package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

// debianPackages are what the harness and the tests use from the host,
// installed together when anything is missing.
var debianPackages = []string{
	"runc", "docker-registry", "rpm", "createrepo-c", "dnf", "flatpak",
	"ostree", "bubblewrap", "debootstrap", "skopeo", "umoci", "busybox-static",
	"xvfb", "xdotool", "imagemagick", "rootlesskit", "uidmap", "dbus",
	"mmdebstrap", "qemu-user-static", "gnupg",
}

// requiredTools maps each command the harness runs to its Debian package.
var requiredTools = map[string]string{
	"runc":            "runc",
	"docker-registry": "docker-registry",
	"rpm":             "rpm",
	"rpmbuild":        "rpm",
	"createrepo_c":    "createrepo-c",
	"dnf":             "dnf",
	"flatpak":         "flatpak",
	"ostree":          "ostree",
	"bwrap":           "bubblewrap",
	"debootstrap":     "debootstrap",
	"skopeo":          "skopeo",
	// The base-runtime test RPM packs the static busybox.
	"busybox": "busybox-static",
	// A real app's window, shown and photographed (TestRealApp...).
	"Xvfb":    "xvfb",
	"xdotool": "xdotool",
	"import":  "imagemagick",
	// Rootless buildkitd for a normal user, and that user's system bus
	// for flatpak --user (TestOwnMachine...).
	"rootlesskit": "rootlesskit",
	"newuidmap":   "uidmap",
	"dbus-daemon": "dbus",
	// The test runtime's root, made by a normal user (make fixtures).
	"mmdebstrap": "mmdebstrap",
	// Runs the aarch64 app a foreign-arch build made (TestForeignArch...).
	"qemu-aarch64-static": "qemu-user-static",
	// Signs a published remote (TestHardeningSigned...).
	"gpg": "gnupg",
}

func missingTools() (tools, pkgs []string) {
	seen := map[string]bool{}
	for tool, pkg := range requiredTools {
		if _, err := exec.LookPath(tool); err == nil {
			continue
		}
		tools = append(tools, tool)
		if !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	sort.Strings(tools)
	sort.Strings(pkgs)
	return tools, pkgs
}

// EnsureTools installs what the tests use from the host (see ensureTools)
// into a machine, before any test binary runs: `make test` does this first.
func EnsureTools(ctx context.Context) error {
	cache, err := buildkitd.DefaultCacheDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		if tools, pkgs := missingTools(); len(tools) > 0 {
			return fmt.Errorf("missing %s: sudo apt-get install %s", strings.Join(tools, ", "), strings.Join(pkgs, " "))
		}
		return nil
	}
	return ensureTools(ctx, cache)
}

// ensureTools installs Debian's packages when a tool is missing. It runs
// as root (checked by setup), under a lock so two test binaries do not both
// run apt-get.
func ensureTools(ctx context.Context, cacheDir string) error {
	tools, _ := missingTools()
	if len(tools) == 0 {
		return nil
	}
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		aptGet = "/usr/bin/apt-get"
	}
	if _, err := os.Stat(aptGet); err != nil {
		return fmt.Errorf("missing tools %s and no apt-get to install them; install the Debian packages %s",
			strings.Join(tools, ", "), strings.Join(debianPackages, " "))
	}
	unlock, err := buildkitd.LockFile(ctx, filepath.Join(cacheDir, "apt.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if tools, _ = missingTools(); len(tools) == 0 {
		return nil
	}
	fmt.Fprintf(os.Stderr, "harness: missing %s: installing %s with apt-get\n",
		strings.Join(tools, ", "), strings.Join(debianPackages, " "))
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	for _, args := range [][]string{
		{"update"},
		// With Recommends, as the reference machine was set up: flatpak
		// build-export validates desktop files with desktop-file-utils, a
		// recommendation of flatpak.
		append([]string{"install", "-y"}, debianPackages...),
	} {
		cmd := exec.CommandContext(ctx, aptGet, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if tools, pkgs := missingTools(); len(tools) > 0 {
		return fmt.Errorf("still missing after apt-get install: %s (packages %s)",
			strings.Join(tools, ", "), strings.Join(pkgs, " "))
	}
	return nil
}

func withSbin(path string) string {
	for _, want := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if !strings.Contains(":"+path+":", ":"+want+":") {
			path += ":" + want
		}
	}
	return strings.TrimPrefix(path, ":")
}
