package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

// fixture builds a cached folder once per process; other processes share
// it through the cache folder and a lock.
type fixture struct {
	mu   sync.Mutex
	dir  string
	err  error
	done bool
}

// get returns the fixture's folder, building it with build on first use.
func (f *fixture) get(t testing.TB, key func() (name, hash string, err error), build func(ctx context.Context, dir string) error) string {
	t.Helper()
	mustBeSetUp(t)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.done {
		f.dir, f.err = buildCached(key, build)
		f.done = true
	}
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.dir
}

// buildCached returns cache/fixtures/NAME-HASH, building it first if it is
// missing. The build writes into a temporary sibling that is renamed into
// place when it succeeds, so a folder that exists is always complete.
func buildCached(key func() (name, hash string, err error), build func(ctx context.Context, dir string) error) (string, error) {
	name, hash, err := key()
	if err != nil {
		return "", err
	}
	base := filepath.Join(state.cacheDir, "fixtures")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	dir := filepath.Join(base, name+"-"+hash[:16])
	if isDir(dir) {
		return dir, nil
	}
	ctx := context.Background()
	unlock, err := buildkitd.LockFile(ctx, dir+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if isDir(dir) {
		return dir, nil
	}
	tmp := dir + ".tmp"
	if err := removeAll(tmp); err != nil {
		return "", err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	start := time.Now()
	if err := build(ctx, tmp); err != nil {
		removeAll(tmp)
		return "", fmt.Errorf("building fixture %s: %w", name, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "harness: built fixture %s in %s\n", filepath.Base(dir), time.Since(start).Round(time.Second))
	return dir, nil
}

// hashOf hashes a list of named inputs (name and content each framed by
// length so that no two different lists hash the same).
func hashOf(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// removeAll also copes with read-only folders (rpmbuild and ostree make
// some).
func removeAll(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	exec.Command("chmod", "-R", "u+w", p).Run()
	return os.RemoveAll(p)
}

// run runs a command and returns its stdout; the error carries the command
// line and its output.
func run(ctx context.Context, env []string, dir string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v\nstdout:\n%s\nstderr:\n%s",
			name, strings.Join(args, " "), err, tail(stdout.String()), tail(stderr.String()))
	}
	return stdout.String(), nil
}

// tail keeps error messages readable when a tool is chatty.
func tail(s string) string {
	const max = 8000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}

// testdataDir is integration/testdata, found from this source file so that
// any test package can use the fixtures.
// TestdataEnv names a copy of integration/testdata to build the fixtures
// from, instead of the checkout's.
const TestdataEnv = "FLATPAK_FRONTEND_TESTDATA"

func testdataDir() (string, error) {
	// A copy elsewhere: for a user who cannot read the checkout the
	// fixtures program was built from (TestOwnMachineFixturesAsAUser).
	if d := os.Getenv(TestdataEnv); d != "" {
		return d, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the harness source")
	}
	d := filepath.Join(filepath.Dir(file), "..", "testdata")
	if !isDir(d) {
		return "", fmt.Errorf("test data folder %s not found", d)
	}
	return filepath.Clean(d), nil
}

// runtime returns the fixture as a runtime image, building it on first use.
func (f *fixture) runtime(t testing.TB, key func() (name, hash string, err error), build func(ctx context.Context, dir string) error) RuntimeImage {
	t.Helper()
	img, err := loadRuntime(filepath.Join(f.get(t, key, build), "oci"))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// scratch makes the empty scratch folder next to a fixture's dir: the
// build holds dir's lock, and a run that was killed left at most this one
// folder behind, removed here.
func scratch(dir string) (string, error) {
	work := dir + ".work"
	if err := removeAll(work); err != nil {
		return "", err
	}
	return work, os.MkdirAll(work, 0o755)
}
