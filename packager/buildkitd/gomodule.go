package buildkitd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// GoModule is a pinned Go module whose commands are built from its source.
type GoModule struct {
	// Path and Version name the module, e.g. github.com/moby/buildkit v0.33.1.
	Path, Version string
	// Commands are the packages to build, e.g. ./cmd/buildkitd.
	Commands []string
	// LDFlags are passed to go build.
	LDFlags string
}

// EnsureBuilt returns binDir, building the module's commands into it first
// (named after their folders, as go build names them) unless they are all
// there. Concurrent callers wait for each other through a lock, and the
// binaries appear only when complete.
func (m GoModule) EnsureBuilt(ctx context.Context, binDir string) error {
	built := func() bool {
		for _, c := range m.Commands {
			if !isFile(filepath.Join(binDir, filepath.Base(c))) {
				return false
			}
		}
		return true
	}
	if built() {
		return nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	unlock, err := LockFile(ctx, binDir+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	// Another process may have built them while we waited for the lock.
	if built() {
		return nil
	}
	if err := m.build(ctx, binDir); err != nil {
		return fmt.Errorf("building %s@%s: %w", m.Path, m.Version, err)
	}
	return nil
}

func (m GoModule) build(ctx context.Context, binDir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		// A binary `go install`ed by a user whose PATH lacks go: the Go
		// it was built with, when it is still there.
		//lint:ignore SA1019 the build-time root is the best guess left
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	tmp, err := os.MkdirTemp("", "gomodule-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// `go mod download` outside any module so the project's (maybe
	// half-edited) go.mod plays no part.
	var info struct{ Dir, Error string }
	cmd := exec.CommandContext(ctx, goBin, "mod", "download", "-json", m.Path+"@"+m.Version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=on", "GOWORK=off")
	out, err := cmd.Output()
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Dir == "" {
		return fmt.Errorf("go mod download: %v %s %s", err, info.Error, stderrOf(err))
	}

	// The module cache is read-only and building with -mod=mod may touch
	// go.sum, so build from a writable copy.
	src := filepath.Join(tmp, "src")
	for _, args := range [][]string{{"cp", "-a", info.Dir, src}, {"chmod", "-R", "u+w", src}} {
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// Build into a temporary folder and move, so a half-written binary is
	// never mistaken for a finished one.
	outDir := filepath.Join(tmp, "out")
	args := []string{"build", "-mod=mod", "-trimpath"}
	if m.LDFlags != "" {
		args = append(args, "-ldflags", m.LDFlags)
	}
	args = append(append(args, "-o", outDir+"/"), m.Commands...)
	cmd = exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, out)
	}
	for _, c := range m.Commands {
		name := filepath.Base(c)
		if err := moveFile(filepath.Join(outDir, name), filepath.Join(binDir, name)); err != nil {
			return err
		}
	}
	return nil
}
