package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// hostileSpec is an app whose every free-text value carries shell syntax
// or keyfile syntax that validation lets through (no newlines): it must
// build, and all of it must land as inert text.
const hostileSpec = `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: "hello; touch /app/pwned-command"
packages:
  - hello
tags: ["$(touch /app/pwned-tag)", "[Context]"]
desktop-file-name-prefix: "$(touch /app/pwned-prefix)` + "`touch /app/pwned-tick`" + `"
desktop-file-name-suffix: "' \"; touch /app/pwned-suffix"
appdata-license: "MIT</project_license><x>$(touch /app/pwned-license)"
finish-args:
  - --env=X=$(touch /app/pwned-env)[Context]
  - --talk-name=org.freedesktop.Notifications
  - --persist=.pwned$(id)
cleanup-commands: |
  # cleanup-commands is a script by design: it may write anywhere in its
  # own container, but only /app reaches the image.
  echo evil > /usr/bin/evil-cleanup || true
  echo evil > /etc/evil-cleanup || true
  mkdir -p /app/share/doc
  ln -s /etc/passwd /app/share/doc/passwd-link
  ln -s ../../../../etc /app/share/doc/etc-link
  chmod 4755 /app/bin/hello
  mkfifo /app/share/doc/fifo || true
repos:
  - name: example
    context: rpms
    path: .
`

// TestHostileValuesStayInert builds hostileSpec and checks that no shell
// syntax ran (no pwned-* file), that the metadata holds the values as one
// line each with no group the spec did not ask for, that nothing of the
// root cleanup-commands wrote reached the image, and that verify accepts
// it (no setuid bit, no FIFO, owner 0:0, canonical modes).
func TestHostileValuesStayInert(t *testing.T) {
	res, err := build(t, buildOpts{dir: writeSpec(t, hostileSpec), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	img := readImage(t, res.oci, tree)
	for _, h := range img.entries {
		if strings.Contains(h.Name, "pwned") || strings.Contains(h.Name, "evil") {
			t.Errorf("the image has %s: a value was run as shell", h.Name)
		}
		if !strings.HasPrefix(h.Name, "files/") && !strings.HasPrefix(h.Name, "export/") && h.Name != "metadata" && h.Name != "files" && h.Name != "export" {
			t.Errorf("the image has %s outside files/, export/ and metadata", h.Name)
		}
		if h.Name == "files/share/doc/passwd-link" && h.Linkname != "/etc/passwd" {
			t.Errorf("passwd-link is %q -> %q, want a symlink to /etc/passwd", h.Typeflag, h.Linkname)
		}
		if h.Name == "files/bin/hello" && h.Mode&0o7000 != 0 {
			t.Errorf("files/bin/hello has mode %o", h.Mode)
		}
	}
	md := mustRead(t, filepath.Join(tree, "metadata"))
	kf, err := keyfile.Parse(md)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Application", "Context", "Session Bus Policy", "Environment"}
	if got := kf.Groups(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("metadata groups %q, want %q:\n%s", got, want, md)
	}
	if cmd, _ := kf.String("Application", "command"); cmd != "hello; touch /app/pwned-command" {
		t.Errorf("command = %q", cmd)
	}
	if env, _ := kf.String("Environment", "X"); env != "$(touch /app/pwned-env)[Context]" {
		t.Errorf("X = %q", env)
	}
	desktop := string(mustRead(t, filepath.Join(tree, "files/share/applications/org.example.Hello.desktop")))
	if !strings.Contains(desktop, "Name=$(touch /app/pwned-prefix)`touch /app/pwned-tick`Hello' \"; touch /app/pwned-suffix\n") {
		t.Errorf("desktop file Name is not the literal prefix and suffix:\n%s", desktop)
	}
	metainfo := string(mustRead(t, filepath.Join(tree, "files/share/metainfo/org.example.Hello.metainfo.xml")))
	if !strings.Contains(metainfo, "<project_license>MIT&lt;/project_license&gt;&lt;x&gt;$(touch /app/pwned-license)</project_license>") {
		t.Errorf("project_license is not the escaped literal:\n%s", metainfo)
	}
	mustVerify(t, res.oci)
}

// TestContextSymlinksDoNotLeaveTheContext gives repos paths that are
// symlinks out of the build context: one absolute to the real test repo on
// the host, one through "..". If either were followed on the host the
// install would find the packages; the build must fail instead.
func TestContextSymlinksDoNotLeaveTheContext(t *testing.T) {
	for name, target := range map[string]string{
		"absolute": harness.RPMRepo(t),
		"dotdot":   "../" + filepath.Base(harness.RPMRepo(t)),
	} {
		t.Run(name, func(t *testing.T) {
			var dir string
			if name == "dotdot" {
				// The context sits beside the repo, so ../REPO is the repo.
				dir = filepath.Join(filepath.Dir(harness.RPMRepo(t)), "ctx-"+t.Name()[strings.LastIndex(t.Name(), "/")+1:])
				// The repo's folder is the harness cache; a context folder
				// beside it is removed after the test.
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Skipf("cannot make a context beside the repo: %v", err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
			} else {
				dir = t.TempDir()
			}
			if err := os.Symlink(target, filepath.Join(dir, "repo")); err != nil {
				t.Fatal(err)
			}
			yaml := strings.Replace(appSpec("hello"), "    context: rpms\n    path: .\n", "    path: repo\n", 1)
			if err := os.WriteFile(filepath.Join(dir, "flatpak.yaml"), []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml"})
			if err == nil {
				t.Fatalf("the build read the repo through the symlink repo -> %s", target)
			}
			t.Logf("refused as expected: %v", err)
		})
	}
}

// TestHostileValuesNeverReachAShell translates a spec whose values hold
// shell syntax (baseurl, gpgkey, repo and package globs, rename keys,
// desktop name affixes, license) and checks every exec of the definition:
// values only travel as file contents (the repo files, the steps'
// configurations, which the steps' Go code reads as data); none is an
// argument, an environment value or part of a "sh -c" script, and only
// cleanup-commands is one.
func TestHostileValuesNeverReachAShell(t *testing.T) {
	const marker = "$(touch,pwned)`id`;|&>x"
	// gpgkey is split at commas, as dnf splits it.
	keyMarker := strings.ReplaceAll(marker, ",", "%2C")
	yaml := `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: "` + marker + `"
packages: [hello]
rename-desktop-file: "` + marker + `.desktop"
rename-appdata-file: "` + marker + `.xml"
desktop-file-name-prefix: "` + marker + `"
appdata-license: "` + marker + `"
cleanup-commands: "true"
repos:
  - name: web
    baseurl: "https://example.org/` + marker + `/"
    gpgkey: "https://example.org/` + keyMarker + `.key"
    includepkgs: ["hello*"]
`
	def := translate(t, yaml)
	execs, inFiles := 0, false
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if f := op.GetFile(); f != nil {
			for _, a := range f.Actions {
				if mk := a.GetMkfile(); mk != nil && bytes.Contains(mk.Data, []byte(marker)) {
					inFiles = true
				}
			}
		}
		e := op.GetExec()
		if e == nil {
			continue
		}
		execs++
		args := e.Meta.Args
		if e.Security != pb.SecurityMode_SANDBOX {
			t.Errorf("exec %q runs with security mode %v", args, e.Security)
		}
		isInstall := isHelperStep(args, buildstep.StepInstall)
		if e.Network != pb.NetMode_NONE && !isInstall {
			t.Errorf("exec %q has network mode %v; only the install step from a remote repo may use the network", args, e.Network)
		}
		if len(args) >= 2 && args[0] == "/bin/sh" && args[1] == "-c" {
			if len(args) != 3 || args[2] != "true" {
				t.Errorf("an sh -c step other than cleanup-commands: %q", args)
			}
			continue
		}
		if !isHelperStep(args, buildstep.StepInstall) && !isHelperStep(args, buildstep.StepFinish) {
			t.Errorf("unexpected exec %q", args)
		}
		for _, a := range args {
			if strings.Contains(a, marker) || strings.Contains(a, keyMarker) {
				t.Errorf("an argument holds the marker: %q", a)
			}
		}
		for _, env := range e.Meta.Env {
			if strings.Contains(env, marker) || strings.Contains(env, keyMarker) {
				t.Errorf("environment %s carries the marker", env)
			}
		}
	}
	if execs < 3 {
		t.Errorf("%d exec steps, want install, cleanup and finish", execs)
	}
	if !inFiles {
		t.Error("the repo file does not hold the baseurl")
	}
}

// TestInstallFromContextRepoHasNoNetwork: with only repos from build
// contexts, no step of the build gets the network.
func TestInstallFromContextRepoHasNoNetwork(t *testing.T) {
	def := translate(t, appSpec("hello"))
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if e := op.GetExec(); e != nil && (e.Network != pb.NetMode_NONE || e.Security != pb.SecurityMode_SANDBOX) {
			t.Errorf("exec %q: network %v, security %v", e.Meta.Args, e.Network, e.Security)
		}
	}
}

// TestHugeSpecFileIsRefused sends flatpak.yaml files past spec.MaxFileSize
// (one a little past, one far past any gRPC message): each build fails
// with an error, and the frontend does not run out of memory.
func TestHugeSpecFileIsRefused(t *testing.T) {
	for name, size := range map[string]int{"5 MiB": 5 << 20, "40 MiB": 40 << 20} {
		t.Run(name, func(t *testing.T) {
			yaml := appSpec("hello") + "# " + strings.Repeat("x", size) + "\n"
			_, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml"})
			if err == nil {
				t.Fatal("a huge flatpak.yaml built")
			}
			msg := err.Error()
			if len(msg) > 4096 {
				msg = msg[:4096] + "..."
			}
			t.Logf("refused: %s", msg)
			if name == "5 MiB" && !strings.Contains(err.Error(), "too large") {
				t.Errorf("the error does not say the file is too large: %s", msg)
			}
		})
	}
}

// TestTenThousandPackagesTranslate: 10 000 package names become arguments
// of one install step, well below the kernel's argument limit.
func TestTenThousandPackagesTranslate(t *testing.T) {
	var b strings.Builder
	b.WriteString("id: org.example.Hello\nruntime-name: org.example.Platform\nruntime-version: \"1\"\ncommand: hello\npackages:\n")
	for i := 0; i < 10000; i++ {
		b.WriteString("  - package-number-" + strings.Repeat("x", i%13) + "-" + strconv.Itoa(i) + "\n")
	}
	def := translate(t, b.String())
	found, steps := false, 0
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if f := op.GetFile(); f != nil {
			for _, a := range f.Actions {
				if mk := a.GetMkfile(); mk != nil && mk.Path == "/step.json" && bytes.Contains(mk.Data, []byte(`"packages"`)) {
					var cfg buildstep.InstallConfig
					if err := json.Unmarshal(mk.Data, &cfg); err != nil {
						t.Fatal(err)
					}
					if n := len(cfg.Packages); n != 10000 {
						t.Errorf("install step has %d packages, want 10000", n)
					}
					found = true
				}
			}
		}
		e := op.GetExec()
		if e == nil || !isHelperStep(e.Meta.Args, buildstep.StepInstall) {
			continue
		}
		size := 0
		for _, a := range append(e.Meta.Args, e.Meta.Env...) {
			size += len(a) + 1
		}
		// ARG_MAX is at least 2 MiB with the default 8 MiB stack; the
		// names travel in the step's configuration, not its arguments.
		if size > 64<<10 {
			t.Errorf("install step arguments and environment take %d bytes", size)
		}
		steps++
	}
	if found && steps == 1 {
		return
	}
	t.Fatal("no install step")
}

// TestCleanupCommandsCannotEditTheReports: cleanup-commands tries to drop
// hello from the install's reports; the rpms label must still list it.
func TestCleanupCommandsCannotEditTheReports(t *testing.T) {
	yaml := appSpec("hello") + "cleanup-commands: |\n" +
		"  for f in /app/.flatpak-frontend/*; do\n" +
		"    [ -f \"$f\" ] && sed -i 's/hello/xxxxx/g' \"$f\"\n" +
		"  done\n" +
		"  true\n"
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	l := readImage(t, res.oci, "").config.Config.Labels["org.flatpak-frontend.rpms"]
	if !strings.Contains(l, " hello 1.0-1.noarch") {
		t.Errorf("cleanup-commands removed hello from the rpms label: %q", l)
	}
}

// TestRuntimeCleanupCommandsCannotEditTheReports: the same for a runtime,
// whose cleanup-commands run inside the new root beside its reports.
func TestRuntimeCleanupCommandsCannotEditTheReports(t *testing.T) {
	yaml := `id: org.example.BasePlatform
build-runtime: true
branch: "1"
packages:
  - base-runtime
cleanup-commands: |
  for f in /.flatpak-frontend/*; do
    [ -f "$f" ] && sed -i 's/base-runtime/xxxxxxxxxxxx/g' "$f"
  done
  true
repos:
  - name: example
    context: rpms
    path: .
`
	res := buildRuntimeIn(t, writeSpec(t, yaml))
	l := readImage(t, res.oci, "").config.Config.Labels["org.flatpak-frontend.rpms"]
	if !strings.Contains(l, " base-runtime ") {
		t.Errorf("cleanup-commands removed base-runtime from the rpms label: %q", l)
	}
}

// translate parses a spec and marshals the LLB of its build on a stand-in
// runtime with dnf, with a local context named rpms.
func translate(t *testing.T, yaml string) *bkllb.Definition {
	t.Helper()
	s, err := spec.Parse("flatpak.yaml", []byte(yaml), spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := llb.Build(s, llb.Options{
		Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
		Arch:     "x86_64",
		Runtime:  llb.Image{State: bkllb.Image("example.org/runtime"), Installers: []spec.Installer{spec.InstallerDnf}},
		Helper:   llb.Helper{State: bkllb.Image("example.org/frontend"), Args: []string{"bin/flatpak-frontend"}},
		Contexts: map[string]bkllb.State{"rpms": bkllb.Local("rpms")},
	})
	if err != nil {
		t.Fatal(err)
	}
	def, err := res.Files.Marshal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// isHelperStep reports whether an exec's arguments run the frontend
// binary's build step name.
func isHelperStep(args []string, name string) bool {
	return len(args) == 3 && strings.HasPrefix(args[0], buildstep.HelperDir+"/") && args[1] == "step" && args[2] == name
}
