package buildx

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
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
	m := buildkitd.GoModule{
		Path:     Module,
		Version:  Version,
		Commands: []string{"./cmd/buildx"},
		// The version shows in `docker buildx version`, as in a release build.
		LDFlags: "-s -w -X " + Module + "/version.Version=" + Version + " -X " + Module + "/version.Package=" + Module,
	}
	if err := m.EnsureBuilt(ctx, binDir); err != nil {
		return "", err
	}
	return filepath.Join(binDir, "buildx"), nil
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
