package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Display is a private X server (Xvfb) for a test's graphical app.
type Display struct {
	// Name is the DISPLAY value, ":N".
	Name string
}

// Xvfb starts an X server on a free display number, stopped when the test
// ends.
func Xvfb(t testing.TB) *Display {
	t.Helper()
	mustBeSetUp(t)
	for n := 90; n < 200; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		d := &Display{Name: ":" + strconv.Itoa(n)}
		cmd := exec.Command("Xvfb", d.Name, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return d
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("Xvfb %s did not start:\n%s", d.Name, log.String())
	}
	t.Fatal("no free X display number")
	return nil
}

func (d *Display) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+d.Name)
	return cmd
}

// WaitWindow waits for a window whose name matches the regular expression
// name and returns its id.
func (d *Display) WaitWindow(t testing.TB, name string, timeout time.Duration, alive func() error) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, _ := d.command(context.Background(), "xdotool", "search", "--onlyvisible", "--name", name).Output()
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			return ids[0]
		}
		if err := alive(); err != nil {
			t.Fatalf("no window named %q: the app exited: %v", name, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("no window named %q on %s after %s", name, d.Name, timeout)
	return ""
}

// WindowName is the name (title) of a window.
func (d *Display) WindowName(t testing.TB, id string) string {
	t.Helper()
	out, err := d.command(context.Background(), "xdotool", "getwindowname", id).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// Screenshot writes the whole screen to a PNG file and returns how many
// different colors it has (1 for a blank screen).
func (d *Display) Screenshot(t testing.TB, path string) int {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := d.command(context.Background(), "import", "-window", "root", path).CombinedOutput(); err != nil {
		t.Fatalf("import -window root: %v\n%s", err, out)
	}
	out, err := exec.Command("identify", "-format", "%k", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("identify: %q", out)
	}
	return n
}

// ArtifactDir is a folder that outlives the test, for what it shows (a
// screenshot): TMPDIR/flatpak-frontend-artifacts/TEST.
func ArtifactDir(t testing.TB) string {
	dir := filepath.Join(os.TempDir(), "flatpak-frontend-artifacts", strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
