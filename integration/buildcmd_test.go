package integration

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
)

// buildCmd is `flatpak-frontend build` of the example with the test runtime
// and repo, installing into fp's throwaway Flatpak installation.
func buildCmd(t *testing.T, fp *harness.FlatpakEnv, addr string, extra ...string) *exec.Cmd {
	t.Helper()
	rt := harness.Runtime(t)
	args := append([]string{"build", "--progress=plain",
		"--build-context", "runtime=oci-layout://" + rt.Dir,
		"--build-context", "rpms=" + harness.RPMRepo(t),
	}, extra...)
	args = append(args, exampleDir(t))
	cmd := exec.Command(cli(t), args...)
	// No docker buildx builder of the machine's: an empty docker config.
	cmd.Env = append(fp.RunEnv(), "XDG_DATA_HOME="+filepath.Join(fp.UserDir, "data"), "DOCKER_CONFIG="+t.TempDir())
	if addr != "" {
		cmd.Env = append(cmd.Env, "BUILDKIT_HOST="+addr)
	} else {
		cmd.Env = append(cmd.Env, "BUILDKIT_HOST=", "FLATPAK_FRONTEND_STATE="+filepath.Join(harness.CacheDir(), "buildcmd-test-state"))
	}
	return cmd
}

func runCmd(t *testing.T, cmd *exec.Cmd) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	t.Logf("%s\nstderr:\n%s", strings.Join(cmd.Args, " "), e.String())
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, o.String())
	}
	return o.String(), e.String()
}

// TestBuildCommandInstallsAndRunsTheExample is the packager's inner loop:
// one command builds, installs and runs; running it again reuses the
// daemon's cache and updates the installed app in place.
func TestBuildCommandInstallsAndRunsTheExample(t *testing.T) {
	fp := harness.Flatpak(t)
	stdout, stderr := runCmd(t, buildCmd(t, fp, harness.Addr(), "--install", "--run"))
	if !strings.Contains(stdout, "Hello from org.example.Hello") {
		t.Errorf("stdout = %q, want the app's greeting", stdout)
	}
	if strings.Contains(stderr, "started privately") || !strings.Contains(stderr, "BuildKit: $BUILDKIT_HOST at "+harness.Addr()) {
		t.Errorf("want one line naming BUILDKIT_HOST's daemon, and no daemon started, in:\n%s", stderr)
	}
	if !strings.Contains(stderr, "built app/org.example.Hello/x86_64/stable") {
		t.Errorf("no closing line naming what was built in:\n%s", stderr)
	}

	stdout, stderr = runCmd(t, buildCmd(t, fp, harness.Addr(), "--install", "--run"))
	if !strings.Contains(stdout, "Hello from org.example.Hello") {
		t.Errorf("second run: stdout = %q", stdout)
	}
	if strings.Contains(stderr, "Installing       : hello") {
		t.Error("second run installed the packages again instead of using the cache")
	}
	list, err := fp.Command("--user", "list", "--app", "--columns=application,branch")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(list, "org.example.Hello"); n != 1 {
		t.Errorf("flatpak list shows the app %d times:\n%s", n, list)
	}
}

// TestBuildCommandInterruptStopsItsDaemon: without BUILDKIT_HOST the command
// starts its own daemon; Ctrl-C stops it and leaves no process behind.
func TestBuildCommandInterruptStopsItsDaemon(t *testing.T) {
	fp := harness.Flatpak(t)
	out := t.TempDir()
	cmd := buildCmd(t, fp, "", "--no-cache", "--output", "oci:"+out)
	interruptOnceStarted(t, cmd, nil)
	root := filepath.Join(harness.CacheDir(), "buildcmd-test-state")
	if pids := processesWith(root); len(pids) > 0 {
		t.Errorf("processes still running with %s: %v", root, pids)
	}
}

// interruptOnceStarted starts cmd, waits until its build shows its first
// step, calls during (if set), sends SIGINT and checks that the command
// exits with status 130.
func interruptOnceStarted(t *testing.T, cmd *exec.Cmd, during func()) {
	t.Helper()
	var stderr progressBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(3 * time.Minute)
	for !strings.Contains(stderr.String(), "#1 ") {
		select {
		case err := <-exited:
			t.Fatalf("exited before the build started: %v\n%s", err, stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("the build did not start:\n%s", stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if during != nil {
		during()
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := <-exited
	t.Logf("stderr:\n%s", stderr.String())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit after SIGINT: %v, want status 130", err)
	}
}
