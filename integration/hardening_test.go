package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
)

// TestHardeningFilesBelowASymlinkOutOfAppFailTheBuild: one package makes
// /app/share/lost a symlink into the runtime's /usr/share, so rpm writes
// the next package's file there, not into /app. The image would lack it:
// the build fails naming the package, the file and its line.
func TestHardeningFilesBelowASymlinkOutOfAppFailTheBuild(t *testing.T) {
	_, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "hostile-lands-outside")), file: "flatpak.yaml"})
	if err == nil {
		t.Fatal("a build whose packaged file landed outside /app succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"hostile-lands-outside", "/app/share/lost/landed.txt", "/app/share/lost above it is a symlink to /usr/share"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
	// appSpec lists hostile-lands-outside on line 7.
	if lines := sourceLines(err); !slices.Contains(lines, 7) {
		t.Errorf("error at lines %v, want 7", lines)
	}
}

// TestHardeningScriptletDeletingAPackagedFileFailsTheBuild: a %post that
// removes a file rpm records as installed is an error naming both.
func TestHardeningScriptletDeletingAPackagedFileFailsTheBuild(t *testing.T) {
	_, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "hostile-scriptlet-deletes")), file: "flatpak.yaml"})
	if err == nil {
		t.Fatal("a build whose scriptlet deleted a packaged file succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"hostile-scriptlet-deletes", "/app/share/hostile/deleted.txt is missing"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "kept.txt") {
		t.Errorf("the error names a file that is there:\n%s", msg)
	}
}

// TestHardeningFailedScriptletIsNamed: a %post that fails is never silent.
// dnf (the test runtime) goes on, as rpm does: the build succeeds and
// warns, naming the package, the scriptlet and its exit status. dnf5 (the
// minimal sid runtime) fails the transaction: the build's error names
// them.
func TestHardeningFailedScriptletIsNamed(t *testing.T) {
	for _, installer := range []string{"dnf", "dnf5"} {
		t.Run(installer, func(t *testing.T) {
			yaml := appSpec("hello", "hostile-scriptlet-fails")
			opts := buildOpts{file: "flatpak.yaml"}
			if installer == "dnf5" {
				rt := harness.MinimalRuntime(t)
				yaml = strings.Replace(yaml, "runtime-name: org.example.Platform", "runtime-name: "+harness.MinimalRuntimeID, 1)
				opts.noRuntimeContext = true
				opts.contexts = map[string]string{"runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest}
			}
			opts.dir = writeSpec(t, yaml)
			res, err := build(t, opts)
			named := "hostile-scriptlet-fails-1.0-1.noarch's %post (exit status 1)"
			if installer == "dnf5" {
				if err == nil {
					t.Fatal("dnf5 succeeded although a scriptlet failed (dnf5 5.4 fails the transaction): the test no longer shows the error")
				}
				if want := "dnf5 failed with exit status 1, after these scriptlets failed: " + named; !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not say %q:\n%v", want, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "scriptlets failed, so what they do is missing from the result (rpm and dnf went on after them): " + named
			// Once from the step, once as the frontend's warning.
			if n := strings.Count(res.log, want); n < 2 {
				t.Errorf("the build log says %q %d times, want the step's line and a warning:\n%s", want, n, res.log)
			}
		})
	}
}

// TestHardeningScriptletEditingAPackagedFileFailsTheBuild: in one fresh
// install, a package's %post rewrites another package's file in place
// (same inode and size, its mtime set back) after rpm wrote it: the check,
// which takes the files rpm wrote and nothing touched after as rpm
// verified them, reads that one and fails the build.
func TestHardeningScriptletEditingAPackagedFileFailsTheBuild(t *testing.T) {
	repo := t.TempDir()
	writeRepo(t, repo, "hello", "hello-data", "hostile-scriptlet-edits-kept")
	_, err := build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "hostile-scriptlet-edits-kept")), file: "flatpak.yaml",
		contexts: map[string]string{"rpms": repo}})
	if err == nil {
		t.Fatal("a build whose scriptlet rewrote a packaged file succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"hello-data", "/app/share/hello/greeting.txt has changed content"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
}

// TestHardeningCleanupCommandsMayRemovePackagedFiles: cleanup-commands may
// delete packaged files on purpose; the build succeeds and says which.
func TestHardeningCleanupCommandsMayRemovePackagedFiles(t *testing.T) {
	// A command of its own each run: the finishing step runs again, and
	// says how it made the content id.
	yaml := appSpec("hello") + fmt.Sprintf("cleanup-commands: rm /app/share/metainfo/org.example.Hello.metainfo.xml; echo '# edited' >> /app/bin/hello; true %d\n", time.Now().UnixNano())
	// A repo of its own, so that the install is this build's: one another
	// test imported from a registry cache has files of new inodes, whose
	// digests the content id cannot take from the install's check.
	repo := t.TempDir()
	writeRepo(t, repo, "hello", "hello-data")
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: map[string]string{"rpms": repo}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "cleanup-commands: 2 packaged file(s) of hello: changed /app/bin/hello, removed /app/share/metainfo/org.example.Hello.metainfo.xml"; !strings.Contains(res.log, want) {
		t.Errorf("the build log does not say %q:\n%s", want, res.log)
	}
	dir := t.TempDir()
	readImage(t, res.oci, dir)
	if _, err := os.Stat(filepath.Join(dir, "files/share/metainfo/org.example.Hello.metainfo.xml")); !os.IsNotExist(err) {
		t.Errorf("the removed file is in the image: %v", err)
	}
	if dt, _ := os.ReadFile(filepath.Join(dir, "files/bin/hello")); !strings.HasSuffix(string(dt), "# edited\n") {
		t.Errorf("the edited file in the image:\n%s", dt)
	}
	// The edited file is read for the content id, not taken as the
	// install's check found it.
	checkContentID(t, res.oci, res.log)
}

// TestHardeningScriptletsCannotReachRepoCredentials: a package from a repo
// behind basic auth runs a %post that searches the whole file system, the
// environment and every process for the repo's password. It finds
// nothing, because the packages are downloaded in a step that runs no
// package code and installed in one that has no credential.
func TestHardeningScriptletsCannotReachRepoCredentials(t *testing.T) {
	const user, password = "packager", "s3cr3t-Pa55w0rd-7f1c9a" // as secret-scan.spec
	repo := startAuthRepo(t, user, password)
	yaml := strings.Replace(secretSpec(repo.url), "  - hello\n", "  - hello\n  - secret-scan\n", 1)
	res, err := buildWithSecret(t, yaml, user+":"+password, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	readImage(t, res.oci, dir)
	got, err := os.ReadFile(filepath.Join(dir, "files/share/secret-scan/result"))
	if err != nil {
		t.Fatalf("the scriptlet left no result: %v", err)
	}
	if strings.TrimSpace(string(got)) != "clean" {
		t.Errorf("the scriptlet reached the credential: %s", got)
	}
	if repo.authorized.Load() == 0 {
		t.Error("the repo was never asked with the credentials")
	}
	if hits := grepLayout(t, res.oci, password); len(hits) > 0 {
		t.Errorf("the password is in the image: %v", hits)
	}

	// The control: the same scan finds the password when a step it runs
	// in can read it, here a file beside the repo in the build context.
	ctx := t.TempDir()
	if out, err := exec.Command("cp", "-a", harness.RPMRepo(t)+"/.", ctx).CombinedOutput(); err != nil {
		t.Fatalf("copy the repo: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(ctx, "creds.txt"), []byte(user+":"+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = build(t, buildOpts{dir: writeSpec(t, appSpec("hello", "secret-scan")), file: "flatpak.yaml", contexts: map[string]string{"rpms": ctx}})
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	readImage(t, res.oci, dir)
	got, _ = os.ReadFile(filepath.Join(dir, "files/share/secret-scan/result"))
	if !strings.Contains(string(got), "found in") || !strings.Contains(string(got), "creds.txt") {
		t.Errorf("the scan did not find the password a step could read: %q", got)
	}
}

// TestHardeningScriptletEditingAKeptFileOnTopFailsTheBuild: a package
// added on top of the app's kept install whose %post rewrites a file of a
// kept package in place (same inode and size, its mtime set back) fails
// the build: the check reads again every file whose inode changed since
// the last build checked it, and the ctime changed.
func TestHardeningScriptletEditingAKeptFileOnTopFailsTheBuild(t *testing.T) {
	id := fmt.Sprintf("org.example.Hello.Edit%d", time.Now().UnixNano())
	spec := func(packages ...string) string {
		return strings.Replace(appSpec(packages...), "id: org.example.Hello\n", "id: "+id+"\n", 1)
	}
	repo := t.TempDir()
	writeRepo(t, repo, "hello", "hello-data", "hostile-scriptlet-edits-kept")
	opts := func(packages ...string) buildOpts {
		return buildOpts{dir: writeSpec(t, spec(packages...)), file: "flatpak.yaml", contexts: map[string]string{"rpms": repo}}
	}
	res, err := build(t, opts("hello"))
	if err != nil {
		t.Fatal(err)
	}
	checkReadsLittle(t, res.log)
	res, err = build(t, opts("hello", "hostile-scriptlet-edits-kept"))
	if err == nil {
		t.Fatal("a build whose scriptlet rewrote a kept package's file succeeded")
	}
	if res != nil && !strings.Contains(res.log, onTop) {
		t.Error("the second build did not install on top of the first")
	}
	msg := err.Error()
	for _, want := range []string{"hello-data", "/app/share/hello/greeting.txt has changed content"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
}
