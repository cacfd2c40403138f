package buildx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildkitd"
)

const (
	// Module is the Go module the plugin is built from.
	Module = "github.com/docker/buildx"
	// Version is the pinned buildx release; it uses the same BuildKit
	// (v0.33.1) as this project.
	Version = "v0.37.2"
	// PluginName is the file name the docker CLI expects in cli-plugins/.
	PluginName = "docker-buildx"
)

// Ensure returns the path of the docker-buildx plugin of [Version] under
// cacheDir/buildx/VERSION/, building it first if it is not there. Building
// needs the go command and the Go module proxy (or a module cache that
// holds the module and its dependencies), and takes a few minutes on two
// cores the first time.
func Ensure(ctx context.Context, cacheDir string) (string, error) {
	binDir := filepath.Join(cacheDir, "buildx", Version)
	bin := filepath.Join(binDir, PluginName)
	if isFile(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := buildkitd.LockFile(ctx, binDir+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have built it while we waited for the lock.
	if isFile(bin) {
		return bin, nil
	}
	if err := build(ctx, bin); err != nil {
		return "", fmt.Errorf("building %s@%s: %w", Module, Version, err)
	}
	return bin, nil
}

// Install makes the plugin at bin available to `docker` run with
// DOCKER_CONFIG=configDir, creating configDir/cli-plugins/ as needed.
func Install(configDir, bin string) error {
	dir := filepath.Join(configDir, "cli-plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(dir, PluginName)
	if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	return os.Symlink(abs, dst)
}

func build(ctx context.Context, bin string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	tmp, err := os.MkdirTemp("", "buildx-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Outside any module, so this project's go.mod plays no part.
	var info struct{ Dir, Error string }
	cmd := exec.CommandContext(ctx, goBin, "mod", "download", "-json", Module+"@"+Version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=on", "GOWORK=off")
	out, err := cmd.Output()
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Dir == "" {
		return fmt.Errorf("go mod download %s@%s: %v %s %s", Module, Version, err, info.Error, stderrOf(err))
	}

	// The module cache is read-only and -mod=mod may rewrite go.sum: build
	// from a writable copy.
	src := filepath.Join(tmp, "src")
	for _, args := range [][]string{{"cp", "-a", info.Dir, src}, {"chmod", "-R", "u+w", src}} {
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// The version shows in `docker buildx version`, as in a release build.
	ldflags := "-s -w -X " + Module + "/version.Version=" + Version +
		" -X " + Module + "/version.Package=" + Module
	out2 := filepath.Join(tmp, PluginName)
	cmd = exec.CommandContext(ctx, goBin, "build", "-mod=mod", "-trimpath", "-ldflags", ldflags, "-o", out2, "./cmd/buildx")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/buildx: %v: %s", err, out)
	}
	// Copy next to the destination and rename, so a half-written binary is
	// never mistaken for a finished one.
	dt, err := os.ReadFile(out2)
	if err != nil {
		return err
	}
	part := bin + ".part"
	if err := os.WriteFile(part, dt, 0o755); err != nil {
		return err
	}
	return os.Rename(part, bin)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
