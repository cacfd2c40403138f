package integration

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
)

// The packager's own machine (issue 22): the tool installed the way Go
// tools are, run by a normal user from a folder of their own, with a fresh
// home, building rootless and installing with flatpak --user.

const (
	modulePath       = "github.com/flatpak-frontend/flatpak-frontend"
	goInstallVersion = "v0.99.0-ownmachine"
)

var goInstalled struct {
	once sync.Once
	bin  string
	err  error
}

// goInstall is `go install MODULE/cmd/flatpak-frontend@VERSION` into a clean
// GOPATH. This module is not on the Go module proxy, so the test serves it
// the way the proxy would (a GOPROXY folder with the module's zip of this
// checkout's files at goInstallVersion), and its dependencies from the
// download cache of the module cache the tests were built with, so nothing
// is fetched from the network: what go install does with them is unchanged.
func goInstall(t *testing.T) string {
	t.Helper()
	goInstalled.once.Do(func() { goInstalled.bin, goInstalled.err = doGoInstall(t) })
	if goInstalled.err != nil {
		t.Fatal(goInstalled.err)
	}
	return goInstalled.bin
}

func doGoInstall(t *testing.T) (string, error) {
	base, err := os.MkdirTemp("", "ffe-goinstall-")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() {
		// The module cache is read-only, as go makes it.
		exec.Command("chmod", "-R", "u+w", base).Run()
		os.RemoveAll(base)
	})
	proxy := filepath.Join(base, "proxy")
	if err := writeModuleProxy(repoRoot(t), proxy, modulePath, goInstallVersion); err != nil {
		return "", err
	}
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", err
	}
	gopath := filepath.Join(base, "gopath")
	cmd := exec.Command("go", "install", modulePath+"/cmd/flatpak-frontend@"+goInstallVersion)
	cmd.Dir = base // outside any module
	cmd.Env = append(cleanEnv("GOFLAGS", "GOPATH", "GOMODCACHE", "GOBIN", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GOWORK"),
		"GOPATH="+gopath, "GOFLAGS=", "GOWORK=off",
		"GOPROXY=file://"+proxy+",file://"+filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download"),
		// This machine cannot reach sum.golang.org; go.sum's hashes
		// of the dependencies are still checked.
		"GOSUMDB=off")
	out, err := cmd.CombinedOutput()
	t.Logf("$ go install %s/cmd/flatpak-frontend@%s (GOPATH=%s)\n%s", modulePath, goInstallVersion, gopath, out)
	if err != nil {
		return "", fmt.Errorf("go install: %v\n%s", err, out)
	}
	return filepath.Join(gopath, "bin", "flatpak-frontend"), nil
}

// writeModuleProxy lays out a GOPROXY folder that serves the module in dir
// (its tracked and untracked-but-not-ignored files, as a release tag of
// this checkout would) at version.
func writeModuleProxy(dir, proxy, module, version string) error {
	files, err := exec.Command("git", "-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(module), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, name := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted, or a symlink (module zips have none)
		}
		dt, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w, err := zw.Create(module + "@" + version + "/" + name)
		if err != nil {
			return err
		}
		if _, err := w.Write(dt); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	info := fmt.Sprintf(`{"Version":%q,"Time":%q}`, version, time.Now().UTC().Format(time.RFC3339))
	for name, dt := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": []byte(info),
		version + ".mod":  gomod,
		version + ".zip":  zbuf.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), dt, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ownMachine is a normal user set up as a packager would be: the tool and
// buildkitd (the pinned one, as if from BuildKit's release archive) on
// PATH, rootlesskit and uidmap from the distribution, and a project folder
// with the example, the test runtime and RPM repo beside it.
type ownMachine struct {
	u       *harness.User
	project string
}

func newOwnMachine(t *testing.T, tool string) *ownMachine {
	t.Helper()
	u := harness.NewUser(t)
	bkd, _, err := buildkitd.Ensure(t.Context(), harness.CacheDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{tool, bkd} {
		copyFile(t, f, filepath.Join(u.Bin, filepath.Base(f)), 0o755)
	}
	project := u.Dir(t, "project")
	for _, c := range [][2]string{
		{exampleDir(t), project},
		{harness.Runtime(t).Dir, filepath.Join(project, "runtime")},
		{harness.RPMRepo(t), filepath.Join(project, "rpms")},
	} {
		if out, err := exec.Command("cp", "-rT", c[0], c[1]).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
	u.Chown(t, project)
	return &ownMachine{u: u, project: project}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// build is `flatpak-frontend build ARGS... .` in the project folder, as the
// user, with the example's runtime and repo as named contexts.
func (m *ownMachine) build(args ...string) *exec.Cmd {
	args = append([]string{"build", "--progress=plain",
		"--build-context", "runtime=oci-layout://" + filepath.Join(m.project, "runtime"),
		"--build-context", "rpms=" + filepath.Join(m.project, "rpms"),
	}, args...)
	return m.u.Command(m.project, filepath.Join(m.u.Bin, "flatpak-frontend"), append(args, ".")...)
}

// systemBus gives the user a D-Bus of their own as the system bus: flatpak
// --user, run by anyone but root, asks the system bus about parental
// controls. A desktop always runs one; this machine runs none, and a test
// must not start the machine's own.
func (m *ownMachine) systemBus(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(m.u.Home, "system_bus_socket")
	cmd := m.u.Command(m.u.Home, "dbus-daemon", "--config-file=/usr/share/dbus-1/session.conf", "--address=unix:path="+sock, "--nofork", "--nopidfile")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + sock
}

// TestOwnMachineGoInstallFirstRunRootless is the first use of the tool on
// a packager's machine: go install from a clean GOPATH, then as a normal
// user with a fresh home, in a folder outside the checkout, one command
// builds rootless, installs with flatpak --user and runs the app; nothing
// of it runs as root, and nothing is left running.
func TestOwnMachineGoInstallFirstRunRootless(t *testing.T) {
	tool := goInstall(t)
	out, err := exec.Command(tool, "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "flatpak-frontend "+goInstallVersion {
		t.Errorf("go-installed --version = %q (%v), want the module version %s", out, err, goInstallVersion)
	}
	m := newOwnMachine(t, tool)
	if _, err := os.Stat(filepath.Join(m.u.Home, ".cache")); err == nil {
		t.Fatal("the fresh home already has a .cache")
	}
	bus := m.systemBus(t)

	cmd := m.build("--install", "--run")
	cmd.Env = append(cmd.Env, bus)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watch := harness.WatchTree(cmd.Process.Pid)
	err = cmd.Wait()
	all, root := watch.Stop()
	t.Logf("stderr:\n%s", stderr.String())
	if err != nil {
		t.Fatalf("build --install --run as %s: %v\nstdout:\n%s", m.u.Name, err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "Hello from org.example.Hello") {
		t.Errorf("stdout = %q, want the app's greeting", stdout.String())
	}
	if !strings.Contains(stderr.String(), "BuildKit: the buildkitd on PATH, "+filepath.Join(m.u.Bin, "buildkitd")+", started privately (rootless") {
		t.Errorf("no line saying a rootless buildkitd from PATH is used in:\n%s", stderr.String())
	}
	var sawDaemon bool
	for _, p := range all {
		sawDaemon = sawDaemon || strings.Contains(p, " buildkitd:")
	}
	if !sawDaemon {
		t.Errorf("never saw buildkitd among the command's processes:\n%s", strings.Join(all, "\n"))
	}
	for _, p := range rootProcesses(root) {
		t.Errorf("ran as root: %s", p)
	}
	for _, d := range []string{".cache/flatpak-frontend/buildkitd-state", ".local/share/flatpak/app/org.example.Hello"} {
		if _, err := os.Stat(filepath.Join(m.u.Home, d)); err != nil {
			t.Errorf("after the first run: %v", err)
		}
	}
	// The user's own system bus is theirs to keep; stop it, then nothing
	// of theirs may run.
	exec.Command("pkill", "-u", fmt.Sprint(m.u.UID), "-x", "dbus-daemon").Run()
	if ps := m.u.WaitNoProcesses(10 * time.Second); len(ps) > 0 {
		t.Errorf("still running as %s after the command:\n%s", m.u.Name, strings.Join(ps, "\n"))
	}
}

// TestOwnMachineInterruptStopsTheRootlessDaemon: Ctrl-C during a rootless
// build stops the command, its rootlesskit and buildkitd, and leaves no
// process of the user.
func TestOwnMachineInterruptStopsTheRootlessDaemon(t *testing.T) {
	m := newOwnMachine(t, cli(t))
	cmd := m.build("--no-cache", "--output", "oci:"+filepath.Join(m.project, "out"))
	interruptOnceStarted(t, cmd, func() {
		if ps := m.u.Processes(); !strings.Contains(strings.Join(ps, "\n"), "rootlesskit") {
			t.Errorf("no rootlesskit among the user's processes during the build:\n%s", strings.Join(ps, "\n"))
		}
	})
	if ps := m.u.WaitNoProcesses(5 * time.Second); len(ps) > 0 {
		t.Errorf("still running as %s after SIGINT:\n%s", m.u.Name, strings.Join(ps, "\n"))
	}
}

// TestOwnMachineMakeDistEmbedsTheVersion: make dist writes a static
// binary whose --version is the version it was given, and its checksum.
func TestOwnMachineMakeDistEmbedsTheVersion(t *testing.T) {
	dist := t.TempDir()
	cmd := exec.Command("make", "dist", "VERSION=v1.2.3-test", "DIST="+dist)
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	bin := filepath.Join(dist, "flatpak-frontend-v1.2.3-test-linux-amd64")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || string(out) != "flatpak-frontend v1.2.3-test\n" {
		t.Errorf("--version = %q (%v)", out, err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the release binary is dynamically linked")
		}
	}
	sum, err := os.ReadFile(bin + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := exec.Command("sha256sum", bin).Output()
	if strings.Fields(string(sum))[0] != strings.Fields(string(got))[0] {
		t.Errorf("%s.sha256 = %s, file's is %s", bin, sum, got)
	}
}

// tlsFiles makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, as a build farm's administrator would, in dir.
func tlsFiles(t *testing.T, dir, name string) (ca, cert, key, clientCert, clientKey string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(file, typ string, der []byte) string {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca = write(name+"-ca.pem", "CERTIFICATE", caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, certFile, keyFile string) (string, string) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"buildkitd.test"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caTmpl, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(certFile, "CERTIFICATE", der), write(keyFile, "EC PRIVATE KEY", kder)
	}
	cert, key = leaf(2, "buildkitd", x509.ExtKeyUsageServerAuth, name+"-server.pem", name+"-server-key.pem")
	clientCert, clientKey = leaf(3, "packager", x509.ExtKeyUsageClientAuth, name+"-client.pem", name+"-client-key.pem")
	return
}

// TestOwnMachineTLSRemoteBuilder: a shared buildkitd listening on TCP
// with TLS (client certificates required, as BuildKit's docs set it up)
// builds for flatpak-frontend given --addr and the --tls options or a
// --tlsdir; a CA that did not sign the daemon's certificate, and a client
// without a certificate, are refused with a message saying what to check.
func TestOwnMachineTLSRemoteBuilder(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key, ccert, ckey := tlsFiles(t, dir, "farm")
	wrongCA, _, _, _, _ := tlsFiles(t, dir, "other")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + ln.Addr().String()
	ln.Close()
	d, err := buildkitd.Start(t.Context(), buildkitd.Options{
		CacheDir: harness.CacheDir(), TCP: addr,
		TLS: buildkitd.ServerTLS{CACert: ca, Cert: cert, Key: key},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })

	fp := harness.Flatpak(t)
	build := func(extra ...string) (string, error) {
		cmd := buildCmd(t, fp, "", append([]string{"--output", "oci:" + t.TempDir(), "--addr", addr}, extra...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Logf("%s\n%s", strings.Join(cmd.Args, " "), out.String())
		return out.String(), err
	}
	out, err := build("--tlscacert", ca, "--tlscert", ccert, "--tlskey", ckey)
	if err != nil {
		t.Fatalf("build over TLS: %v", err)
	}
	if !strings.Contains(out, "BuildKit: --addr at "+addr) || !strings.Contains(out, "built app/org.example.Hello/x86_64/stable") {
		t.Errorf("want the --addr line and the closing line in:\n%s", out)
	}

	tlsdir := filepath.Join(dir, "tlsdir")
	os.Mkdir(tlsdir, 0o700)
	for src, dst := range map[string]string{ca: "ca.pem", ccert: "cert.pem", ckey: "key.pem"} {
		copyFile(t, src, filepath.Join(tlsdir, dst), 0o600)
	}
	if _, err := build("--tlsdir", tlsdir, "--tlsservername", "buildkitd.test"); err != nil {
		t.Errorf("build with --tlsdir: %v", err)
	}

	out, err = build("--tlscacert", wrongCA, "--tlscert", ccert, "--tlskey", ckey)
	if err == nil || !strings.Contains(out, "not signed by the CA given: check --tlscacert") {
		t.Errorf("a wrong CA: err = %v, want a message naming --tlscacert in:\n%s", err, out)
	}
	out, err = build("--tlscacert", ca)
	if err == nil || !strings.Contains(out, "refused this client's certificate") {
		t.Errorf("no client certificate: err = %v, want a message about the client certificate in:\n%s", err, out)
	}
	out, err = build("--tlscacert", filepath.Join(dir, "missing.pem"))
	if err == nil || !strings.Contains(out, "--tlscacert: ") {
		t.Errorf("a missing CA file: err = %v, want it named in:\n%s", err, out)
	}
}

// TestOwnMachineFindsTheCurrentBuildxBuilder: with no --addr or
// BUILDKIT_HOST, the builder `docker buildx create --use` made current is
// the one used, and the line says so.
func TestOwnMachineFindsTheCurrentBuildxBuilder(t *testing.T) {
	d := dockerBuildx(t) // a remote builder "harness" at the harness daemon, in use
	fp := harness.Flatpak(t)
	cmd := buildCmd(t, fp, "", "--output", "oci:"+t.TempDir())
	cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+d.config)
	_, stderr := runCmd(t, cmd)
	if !strings.Contains(stderr, `BuildKit: the current docker buildx builder "harness" at `+harness.Addr()) {
		t.Errorf("want the buildx builder named in:\n%s", stderr)
	}
	if strings.Contains(stderr, "started privately") {
		t.Errorf("started a daemon although a buildx builder is current:\n%s", stderr)
	}
}

// TestOwnMachineFixturesAsAUser: `make fixtures` (integration/cmd/fixtures)
// run by a normal user makes the test runtime and RPM repo with nothing
// of root: the runtime's root by mmdebstrap's unshare mode, the image by a
// rootless buildkitd; the example then builds on them as the same user.
// The pinned buildkitd and the step binary are copied in, as if from a
// release, so that the user needs no Go toolchain here.
func TestOwnMachineFixturesAsAUser(t *testing.T) {
	m := newOwnMachine(t, cli(t))
	fixtures := filepath.Join(m.u.Bin, "fixtures")
	if out, err := exec.Command("go", "build", "-o", fixtures, "../integration/cmd/fixtures").CombinedOutput(); err != nil {
		t.Fatalf("go build fixtures: %v\n%s", err, out)
	}
	helper := filepath.Join(m.u.Bin, "flatpak-frontend-helper")
	copyFile(t, os.Getenv(localbuild.HelperEnv), helper, 0o755)
	cache := m.u.Dir(t, "cache")
	bkd, bctl, err := buildkitd.Ensure(t.Context(), harness.CacheDir())
	if err != nil {
		t.Fatal(err)
	}
	pinned := filepath.Join(cache, "buildkit", buildkitd.Version)
	os.MkdirAll(pinned, 0o755)
	copyFile(t, bkd, filepath.Join(pinned, "buildkitd"), 0o755)
	copyFile(t, bctl, filepath.Join(pinned, "buildctl"), 0o755)
	testdata := m.u.Dir(t, "testdata")
	if out, err := exec.Command("cp", "-rT", "testdata", testdata).CombinedOutput(); err != nil {
		t.Fatalf("cp testdata: %v\n%s", err, out)
	}
	m.u.Chown(t, cache)
	m.u.Chown(t, testdata)
	// Not the buildkitd on PATH: the harness runs the pinned one.
	os.Remove(filepath.Join(m.u.Bin, "buildkitd"))

	cmd := m.u.Command(m.project, fixtures)
	cmd.Env = append(cmd.Env, buildkitd.CacheEnv+"="+cache, harness.TestdataEnv+"="+testdata, localbuild.HelperEnv+"="+helper)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watch := harness.WatchTree(cmd.Process.Pid)
	err = cmd.Wait()
	_, root := watch.Stop()
	t.Logf("fixtures as %s:\n%s", m.u.Name, out.String())
	if err != nil {
		t.Fatalf("fixtures as a normal user: %v", err)
	}
	for _, p := range rootProcesses(root) {
		t.Errorf("ran as root: %s", p)
	}
	if !strings.Contains(out.String(), "mmdebstrap") && !strings.Contains(out.String(), "rootfs") {
		t.Logf("(no rootfs line in the output)")
	}
	rt, rpms := filepath.Join(cache, "example", "runtime"), filepath.Join(cache, "example", "rpms")
	for _, p := range []string{filepath.Join(rt, "index.json"), filepath.Join(rpms, "repodata", "repomd.xml")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("after make fixtures: %v", err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != m.u.UID {
			t.Errorf("%s is not the user's", p)
		}
	}
	if ps := m.u.WaitNoProcesses(10 * time.Second); len(ps) > 0 {
		t.Errorf("still running as %s after make fixtures:\n%s", m.u.Name, strings.Join(ps, "\n"))
	}

	// The example on them, as the same user (rootless, the pinned daemon).
	build := m.u.Command(m.project, filepath.Join(m.u.Bin, "flatpak-frontend"), "build", "--progress=plain",
		"--build-context", "runtime=oci-layout://"+rt, "--build-context", "rpms="+rpms,
		"--output", "oci:"+filepath.Join(m.project, "out"), ".")
	build.Env = append(build.Env, buildkitd.CacheEnv+"="+cache)
	if o, err := build.CombinedOutput(); err != nil || !strings.Contains(string(o), "built app/org.example.Hello/x86_64/stable") {
		t.Errorf("the example on the user's fixtures: %v\n%s", err, o)
	}
	if ps := m.u.WaitNoProcesses(10 * time.Second); len(ps) > 0 {
		t.Errorf("still running as %s after the build:\n%s", m.u.Name, strings.Join(ps, "\n"))
	}
}

// rootProcesses are the processes of a TreeWatch's root list ("PID
// UID/EUID COMM: CMDLINE") that root started. A setuid-root program the
// user ran has the user's real uid and root's effective uid by design:
// newuidmap and newgidmap write a user namespace's id map from
// /etc/subuid, and mmdebstrap probes `mount --version` (mount is setuid on
// Debian). Those are the user's, when the program is setuid root here.
func rootProcesses(root []string) []string {
	var out []string
	for _, p := range root {
		f := strings.Fields(p)
		if len(f) < 3 || strings.HasPrefix(f[1], "0/") {
			out = append(out, p)
			continue
		}
		prog := strings.TrimSuffix(f[2], ":") // the command name, when the command line was gone
		if len(f) > 3 {
			prog = f[3]
		}
		if setuidRoot(prog) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// setuidRoot reports whether the program named (a path or a name on PATH)
// is owned by root with the setuid bit.
func setuidRoot(prog string) bool {
	path, err := exec.LookPath(prog)
	if err != nil {
		return false
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode()&os.ModeSetuid != 0 && st.Uid == 0
}
