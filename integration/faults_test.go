package integration

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/moby/buildkit/client"
)

// urlSpec is the hello app installed from one repo at url.
func urlSpec(url string) string {
	return `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: hello
packages:
  - hello
repos:
  - name: downrepo
    baseurl: ` + url + `
`
}

// TestBuildFailsInBoundedTimeWhenRepoIsDown: a repo whose port refuses
// connections, and one that accepts them and never answers. Each build
// fails, naming the repo, within a bound.
func TestBuildFailsInBoundedTimeWhenRepoIsDown(t *testing.T) {
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/"
	}
	silent := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c) // held open, never answered
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
		return "http://" + ln.Addr().String() + "/"
	}
	for _, tc := range []struct {
		name  string
		url   func(*testing.T) string
		bound time.Duration
	}{
		{"connection refused", refused, 2 * time.Minute},
		{"never answers", silent, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url(t)
			start := time.Now()
			_, err := build(t, buildOpts{dir: writeSpec(t, urlSpec(url)), file: "flatpak.yaml", attrs: map[string]string{"no-cache": ""}})
			took := time.Since(start)
			t.Logf("failed after %s: %v", took.Round(time.Second), err)
			if err == nil {
				t.Fatal("the build succeeded with the repo down")
			}
			if took > tc.bound {
				t.Errorf("the build took %s to fail, more than %s", took.Round(time.Second), tc.bound)
			}
			if !strings.Contains(err.Error(), "downrepo") {
				t.Errorf("the error does not name the repo downrepo: %v", err)
			}
		})
	}
}

// TestBuildNamesTheRepoItCannotRead serves the test repo with garbage
// metadata (repomd.xml replaced, or the primary metadata replaced: its
// checksum then fails), with no metadata and a damaged .rpm file among the
// packages the frontend would index, as an empty folder, and with a path
// its context does not have. The build fails naming the repo, at its
// path's line, saying what is wrong.
func TestBuildNamesTheRepoItCannotRead(t *testing.T) {
	for _, tc := range []struct{ name, glob, want string }{
		{"repomd.xml garbage", "repomd.xml", "repo corruptrepo: the installer could not read its metadata from folder \".\" of build context \"badrepo\""},
		{"primary garbage", "*primary.xml*", "repo corruptrepo: the installer could not read its metadata from folder"},
		{"primary garbage dnf5", "*primary.xml*", "repo corruptrepo: the installer could not read its metadata from folder"},
		{"no repodata, a damaged rpm", "", "repo corruptrepo: folder \".\" of build context \"badrepo\" has no repodata/repomd.xml, and one of the .rpm files it holds cannot be read to index them: x86_64/damaged-1-1.x86_64.rpm: not an RPM"},
		{"empty folder", "", "repo corruptrepo: folder \".\" of build context \"badrepo\" is not a repository: it has neither repodata/repomd.xml nor a binary .rpm file"},
		{"no such folder", "", "repo corruptrepo: build context \"badrepo\" has no folder \"out/RPMS\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			if out, err := exec.Command("cp", "-a", harness.RPMRepo(t), dir).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v\n%s", err, out)
			}
			switch tc.name {
			case "no repodata, a damaged rpm":
				if err := os.RemoveAll(filepath.Join(dir, "repodata")); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(dir, "x86_64"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "x86_64", "damaged-1-1.x86_64.rpm"), []byte("\xed\xab\xee\xdb cut short"), 0o644); err != nil {
					t.Fatal(err)
				}
			case "empty folder":
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tc.glob != "" {
				files, _ := filepath.Glob(filepath.Join(dir, "repodata", tc.glob))
				if len(files) == 0 {
					t.Fatalf("no repodata/%s", tc.glob)
				}
				for _, f := range files {
					if err := os.WriteFile(f, []byte("\x00garbage <not xml>\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			yaml := strings.Replace(appSpec("hello"), "    context: rpms\n", "    context: badrepo\n", 1)
			yaml = strings.Replace(yaml, "name: example", "name: corruptrepo", 1)
			if tc.name == "no such folder" {
				yaml = strings.Replace(yaml, "    path: .\n", "    path: out/RPMS\n", 1)
			}
			contexts := map[string]string{"badrepo": dir}
			if strings.HasSuffix(tc.name, "dnf5") {
				// After the repo's path, on the line below it.
				yaml += "installer: dnf5\n"
				contexts["base"] = "oci-layout://" + harness.MinimalRuntime(t).Dir
			}
			_, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: contexts})
			if err == nil {
				t.Fatal("the build succeeded from a corrupt repo")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the error does not say %q:\n%v", tc.want, err)
			}
			// appSpec's repo path is on line 10.
			if lines := sourceLines(err); !slices.Equal(lines, []int32{10}) {
				t.Errorf("the error points at lines %v, want the repo's path (10)", lines)
			}
		})
	}
}

// TestStaleRepodataIsNamed: an RPM copied into a repo folder after
// createrepo_c ran is not in its repodata/, so the installer does not find
// it; the build says which file repodata/ does not list, and what to do,
// at the line of the repo's path (11).
func TestStaleRepodataIsNamed(t *testing.T) {
	dir := t.TempDir()
	writeRepo(t, dir, "hello", "hello-data")
	extra := harness.RPMFile(t, "hello-extra")
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(extra)), mustRead(t, extra), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(appSpec("hello", "hello-extra"), "context: rpms", "context: stale", 1)
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: map[string]string{"stale": dir}})
	if err == nil {
		t.Fatal("the build found a package its repo's repodata/ does not list")
	}
	want := "repo example: its repodata/ does not list 1 .rpm file in its folder (" + filepath.Base(extra) + "), which the installer therefore does not see: run createrepo_c on the folder again (or remove its repodata/: the build then indexes the RPMs itself) (flatpak.yaml:11)"
	if !strings.Contains(res.log, want) || !strings.Contains(res.log, "run createrepo_c on the folder again") {
		t.Errorf("the build does not say %q:\n%s\n%v", want, lastLines(res.log, 20), err)
	}
}

// TestFailedBuildKeepsThePreviousImage builds into an OCI folder, then
// builds a broken spec into the same folder: the first image is still
// there, whole.
func TestFailedBuildKeepsThePreviousImage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "oci")
	if err := buildInto(t, harness.Client(t), out, appSpec("hello")); err != nil {
		t.Fatal(err)
	}
	before := readIndex(t, out)
	if err := buildInto(t, harness.Client(t), out, appSpec("hello", "no-such-package")); err == nil {
		t.Fatal("a build with a missing package succeeded")
	}
	assertImageKept(t, out, before.Digest.String())
}

// TestFullDiskFailsClearlyAndKeepsThePreviousImage puts a daemon's state
// folder on a 64 MiB tmpfs, which the runtime alone overflows: the build
// fails saying the disk is full, and the image an earlier build left in the
// output folder stays whole.
func TestFullDiskFailsClearlyAndKeepsThePreviousImage(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "oci")
	if err := buildInto(t, harness.Client(t), out, appSpec("hello")); err != nil {
		t.Fatal(err)
	}
	before := readIndex(t, out)

	small := t.TempDir()
	if b, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Fatalf("mount a small tmpfs: %v: %s", err, b)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", small).Run() })
	d := privateDaemon(t, filepath.Join(small, "buildkitd"))
	c, err := d.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = buildInto(t, c, out, appSpec("hello"))
	if err == nil {
		t.Fatal("a build on a full disk succeeded")
	}
	if !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("the error does not say the disk is full: %v", err)
	}
	assertImageKept(t, out, before.Digest.String())
}

// privateDaemon starts a buildkitd of the test's own on the state folder
// root, stopped when the test ends.
func privateDaemon(t *testing.T, root string) *buildkitd.Daemon {
	t.Helper()
	d, err := buildkitd.Start(context.Background(), buildkitd.Options{Root: root})
	if err != nil {
		t.Fatalf("start buildkitd on %s: %v", root, err)
	}
	t.Cleanup(func() { d.Stop() })
	return d
}

// buildInto builds a spec on the test runtime with c into the OCI folder out.
func buildInto(t *testing.T, c *client.Client, out, yaml string) error {
	t.Helper()
	rt := harness.Runtime(t)
	dir := writeSpec(t, yaml)
	var log bytes.Buffer
	_, err := localbuild.Build(context.Background(), c, localbuild.Options{
		File: filepath.Join(dir, "flatpak.yaml"), ContextDir: dir,
		Contexts: map[string]string{"rpms": harness.RPMRepo(t), "runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest},
		Progress: "plain", ProgressOut: &log, OCIDir: out,
	})
	return err
}

// assertImageKept checks that out still holds the image with digest want,
// whole, and nothing a failed build began beside it.
func assertImageKept(t *testing.T, out, want string) {
	t.Helper()
	if after := readIndex(t, out); after.Digest.String() != want {
		t.Errorf("the failed build replaced the image: %s, was %s", after.Digest, want)
	}
	mustVerify(t, out)
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*"))
	if len(leftovers) > 0 {
		t.Errorf("the failed build left %q", leftovers)
	}
}

// progressBuffer is a bytes.Buffer safe for the progress writer and a poller.
type progressBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *progressBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *progressBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// daemonPID finds the buildkitd this test started, by its own state folder.
func daemonPID(t *testing.T, root string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		dt, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(dt), "\x00")
		if len(args) > 0 && filepath.Base(args[0]) == "buildkitd" && strings.Contains(string(dt), "\x00"+filepath.Join(root, "state")+"\x00") {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	t.Fatalf("no buildkitd with root %s", root)
	return 0
}

// TestDaemonKilledMidBuildThenRestarted kills the daemon (SIGKILL) while a
// build step runs, restarts it on the same state folder, and builds again:
// the killed build leaves no image (whole or partial) in its output
// folder, and the next build succeeds and passes verify.
func TestDaemonKilledMidBuildThenRestarted(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "buildkitd")
	d := privateDaemon(t, root)
	rt := harness.Runtime(t)
	build := func(d *buildkitd.Daemon, yaml, out string, progress *progressBuffer) error {
		c, err := d.Client(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		dir := writeSpec(t, yaml)
		_, err = localbuild.Build(ctx, c, localbuild.Options{
			File: filepath.Join(dir, "flatpak.yaml"), ContextDir: dir,
			Contexts: map[string]string{"rpms": harness.RPMRepo(t), "runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest},
			Progress: "plain", ProgressOut: progress, OCIDir: out,
		})
		return err
	}

	// The marker names this run's step among the processes of the host.
	marker := "slow-step-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	slow := appSpec("hello") + "cleanup-commands: |\n  echo " + marker + "\n  sleep 300\n"
	killedOut := filepath.Join(t.TempDir(), "killed", "oci")
	progress := &progressBuffer{}
	done := make(chan error, 1)
	go func() { done <- build(d, slow, killedOut, progress) }()
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(progress.String(), marker) {
		select {
		case err := <-done:
			t.Fatalf("the build ended before the slow step: %v\n%s", err, progress.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow step did not start:\n%s", progress.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	pid := daemonPID(t, root)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the build succeeded though its daemon was killed")
		}
		t.Logf("the killed build failed: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the build did not notice its daemon died within 2 minutes")
	}
	if _, err := os.Stat(filepath.Join(killedOut, "index.json")); err == nil {
		t.Error("the killed build left an index.json in its output")
	}
	if blobs, _ := filepath.Glob(filepath.Join(killedOut, "blobs", "*", "*")); len(blobs) > 0 {
		t.Errorf("the killed build left %d blobs in its output", len(blobs))
	}
	if err := d.Stop(); err != nil {
		t.Logf("stop of the killed daemon: %v", err)
	}
	// The step that was running is gone too: runc started it outside the
	// daemon's process group, so Stop must have removed its container.
	time.Sleep(time.Second)
	if pids := processesWith(marker); len(pids) > 0 {
		t.Errorf("the killed build's step still runs after Stop: pids %v", pids)
	}

	d2 := privateDaemon(t, root)
	out := filepath.Join(t.TempDir(), "oci")
	progress = &progressBuffer{}
	if err := build(d2, appSpec("hello"), out, progress); err != nil {
		t.Fatalf("the build after the restart failed: %v\n%s", err, progress.String())
	}
	mustVerify(t, out)
}

// processesWith lists the live (not zombie) processes whose command line
// contains s.
func processesWith(s string) []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		dt, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(dt), s) {
			continue
		}
		st, err := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if err == nil && strings.Contains(string(st), ") Z ") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}
