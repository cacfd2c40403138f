package buildkitd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	// Module is the Go module buildkitd and buildctl are built from.
	Module = "github.com/moby/buildkit"
	// Version is the BuildKit version the project pins in go.mod. The daemon
	// is built from the same version so client and daemon always agree.
	Version = "v0.33.1"

	// CacheEnv overrides the cache root (default: .cache/ at the top of the
	// source tree).
	CacheEnv = "FLATPAK_FRONTEND_CACHE"
)

// DefaultCacheDir returns the cache root: $FLATPAK_FRONTEND_CACHE if set,
// otherwise .cache/ in the top folder of this module's checkout (found by
// walking up from the working directory), otherwise the user cache folder.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		dt, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(dt, []byte("module github.com/flatpak-frontend/flatpak-frontend\n")) {
			return filepath.Join(d, ".cache"), nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	uc, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: set %s: %w", CacheEnv, err)
	}
	return filepath.Join(uc, "flatpak-frontend"), nil
}

// Ensure returns the paths of buildkitd and buildctl of [Version] under
// cacheDir/buildkit/VERSION/, building them first if they are not there.
// Building needs the go command and the Go module proxy (or a module cache
// that holds the module), and takes a few minutes on two cores.
func Ensure(ctx context.Context, cacheDir string) (buildkitdPath, buildctlPath string, err error) {
	return EnsureVersion(ctx, cacheDir, Version)
}

// EnsureVersion is [Ensure] for another BuildKit release (the compat
// matrix runs the example through older daemons users have).
func EnsureVersion(ctx context.Context, cacheDir, version string) (buildkitdPath, buildctlPath string, err error) {
	binDir := filepath.Join(cacheDir, "buildkit", version)
	m := GoModule{Path: Module, Version: version, Commands: []string{"./cmd/buildkitd", "./cmd/buildctl"}}
	if err := m.EnsureBuilt(ctx, binDir); err != nil {
		return "", "", err
	}
	return filepath.Join(binDir, "buildkitd"), filepath.Join(binDir, "buildctl"), nil
}

// Built returns the pinned buildkitd's path under cacheDir, and whether it
// has been built there.
func Built(cacheDir string) (string, bool) {
	p := filepath.Join(cacheDir, "buildkit", Version, "buildkitd")
	return p, isFile(p)
}

// moveFile renames, falling back to copy+rename when src and dst are on
// different file systems (the temp folder usually is).
func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	dt, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, dt, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// LockFile takes an exclusive flock on path (created if needed), waiting
// until it is free or ctx is done. The lock is released by calling the
// returned function, or by the kernel when the process dies, so a crashed
// test binary never leaves a stale lock.
func LockFile(ctx context.Context, path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	// Poll with LOCK_NB: a blocking flock could not be given up when ctx ends.
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// CompatVersions are the BuildKit releases the compat matrix (make compat,
// TestCompat...) runs the example through, oldest first: releases that
// Docker Engine 24 to 29, buildx's docker-container images and Kubernetes
// deployments ship, as the Go module proxy serves them and this Go builds
// them. The last is [Version].
var CompatVersions = []string{"v0.11.6", "v0.12.5", "v0.14.1", "v0.17.3", "v0.20.2", "v0.23.2", "v0.26.3", "v0.29.0", Version}
