package buildkitd

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/internal/testregistry"
	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
	"github.com/flatpak-frontend/flatpak-frontend/packager/childproc"
	bkconfig "github.com/moby/buildkit/cmd/buildkitd/config"
	resolverconfig "github.com/moby/buildkit/util/resolver/config"
)

func TestConfigTOMLMarksRegistriesPlainHTTP(t *testing.T) {
	yes, no := true, false
	user := registryhosts.Config{
		"registry.example:5000": {PlainHTTP: &no, TLSConfigDir: []string{"/etc/docker/certs.d/registry.example:5000"}},
		"docker.io":             {Mirrors: []string{"mirror.example"}},
	}
	got, err := configTOML(Options{Registries: user, RegistryHosts: []string{"127.0.0.1:5001", "127.0.0.1:5000"}}, "/usr/sbin/runc", "/tmp/bkd-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[worker.containerd]\n  enabled = false\n",
		"gc = true",
		"[otel]\n  socketPath = \"/tmp/bkd-1/otel-grpc.sock\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	// BuildKit before v0.13 cannot read an empty list where a table list
	// goes (keypair = []); no empty value is written.
	if strings.Contains(got, "[]") {
		t.Errorf("config has an empty list:\n%s", got)
	}
	// What the daemon reads, read with its own loader.
	cfg, err := bkconfig.Load(strings.NewReader(got))
	if err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	want := map[string]resolverconfig.RegistryConfig{
		"127.0.0.1:5000":        {PlainHTTP: &yes, Insecure: &yes},
		"127.0.0.1:5001":        {PlainHTTP: &yes, Insecure: &yes},
		"registry.example:5000": user["registry.example:5000"],
		"docker.io":             user["docker.io"],
	}
	if len(cfg.Registries) != len(want) {
		t.Errorf("registries %v, want %v", cfg.Registries, want)
	}
	for host, w := range want {
		g := cfg.Registries[host]
		if fmt.Sprint(deref(g.PlainHTTP), deref(g.Insecure), g.TLSConfigDir, g.Mirrors) != fmt.Sprint(deref(w.PlainHTTP), deref(w.Insecure), w.TLSConfigDir, w.Mirrors) ||
			(g.PlainHTTP == nil) != (w.PlainHTTP == nil) {
			t.Errorf("registry %s: %+v, want %+v\n%s", host, g, w, got)
		}
	}
}

func deref(b *bool) string {
	if b == nil {
		return "unset"
	}
	return fmt.Sprint(*b)
}

func TestWithSbin(t *testing.T) {
	if got := withSbin("/usr/bin:/usr/sbin"); got != "/usr/bin:/usr/sbin:/usr/local/sbin:/sbin" {
		t.Errorf("withSbin = %q", got)
	}
	if got := withSbin(""); got != "/usr/local/sbin:/usr/sbin:/sbin" {
		t.Errorf("withSbin(\"\") = %q", got)
	}
}

// A daemon and a registry start, answer, and leave no process and no
// folder behind when stopped.
func TestDaemonAndRegistryStartAnswerAndStopClean(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test runs buildkitd and needs root")
	}
	ctx := context.Background()
	reg, err := testregistry.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Stop()
	resp, err := http.Get("http://" + reg.Host() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	d, err := Start(ctx, Options{RegistryHosts: []string{reg.Host()}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	c, err := d.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := c.ListWorkers(ctx)
	c.Close()
	if err != nil || len(ws) == 0 {
		t.Fatalf("ListWorkers: %v, %d workers", err, len(ws))
	}
	cfg, err := os.ReadFile(d.root + "/buildkitd.toml")
	if err != nil || !strings.Contains(string(cfg), reg.Host()) {
		t.Errorf("config does not name the registry %s: %v\n%s", reg.Host(), err, cfg)
	}

	daemonPid, regPid := d.proc.Pid(), reg.Pid()
	if err := d.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := reg.Stop(); err != nil {
		t.Errorf("registry Stop: %v", err)
	}
	for name, pid := range map[string]int{"buildkitd": daemonPid, "docker-registry": regPid} {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("%s (pid %d) still exists after Stop: %v", name, pid, err)
		}
	}
	for _, dir := range []string{d.root, d.sockDir, reg.Dir()} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Stop", dir)
		}
	}
}

func TestCleanupStaleRemovesOnlyAbandonedDaemonFolders(t *testing.T) {
	stale, err := os.MkdirTemp("", daemonDirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	live, lock, err := childproc.TempDir(daemonDirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(live)
	defer lock.Close()
	old := time.Now().Add(-time.Hour)
	for _, d := range []string{stale, live} {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	removed := CleanupStale()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale folder %s kept (removed %v)", stale, removed)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("live folder %s removed: %v", live, err)
	}
}

// A killed daemon can leave BuildKit's overlay mount of its snapshots in
// TMPDIR (buildkit-mount*); once its folder is gone, CleanupStale takes the
// mount and its mount point, and leaves a live daemon's alone.
func TestCleanupStaleUnmountsOverlaysOfGoneDaemons(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("mounts need root, as the integration tests do")
	}
	mount := func(stateDir string) string {
		lower := filepath.Join(stateDir, "snapshots", "1", "fs")
		lower2 := filepath.Join(stateDir, "snapshots", "2", "fs")
		for _, d := range []string{lower, lower2} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		mp, err := os.MkdirTemp("", "buildkit-mount")
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("overlay", mp, "overlay", syscall.MS_RDONLY, "lowerdir="+lower2+":"+lower); err != nil {
			t.Fatalf("mount overlay: %v", err)
		}
		return mp
	}
	deadDaemon, err := os.MkdirTemp("", "TestGone")
	if err != nil {
		t.Fatal(err)
	}
	liveDaemon := t.TempDir()
	dead := mount(filepath.Join(deadDaemon, "001", "buildkitd", "state"))
	live := mount(filepath.Join(liveDaemon, "buildkitd", "state"))
	t.Cleanup(func() { syscall.Unmount(live, syscall.MNT_DETACH); os.Remove(live) })
	if err := os.RemoveAll(deadDaemon); err != nil {
		t.Fatal(err)
	}
	removed := unmountOrphans()
	if !slices.Contains(removed, dead) {
		t.Errorf("the overlay of a gone daemon %s was not taken: %v", dead, removed)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("its mount point is still there: %v", err)
	}
	if slices.Contains(removed, live) {
		t.Errorf("the overlay of a live daemon was taken")
	}
}

func TestUnmountUnderTakesMountPointsWhosePathsMountinfoEscapes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("mounts need root, as the integration tests do")
	}
	dir := filepath.Join(t.TempDir(), "a daemon\tfolder")
	mp := filepath.Join(dir, "state", "with space")
	if err := os.MkdirAll(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mp, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mp, syscall.MNT_DETACH) })
	unmountUnder(dir)
	if err := os.RemoveAll(dir); err != nil {
		t.Errorf("%s is still mounted: %v", mp, err)
	}
}
