package harness

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/internal/testregistry"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/moby/buildkit/client"
	"github.com/sirupsen/logrus"
)

// BuildkitHostEnv names an existing daemon to use instead of a private one.
const BuildkitHostEnv = "BUILDKIT_HOST"

var (
	state struct {
		cacheDir string
		addr     string
		daemon   *buildkitd.Daemon
		registry *testregistry.Registry
		// authRegistry is the registry behind a token login.
		authRegistry *testregistry.AuthProxy
		// helperDir holds the binary of buildHelper.
		helperDir string
		// atTeardown run after the daemons stop, last added first.
		atTeardown []func()
	}
	teardownOnce sync.Once
)

// AtTeardown has f run when the harness tears down (after the tests, or on
// Ctrl-C or a kill from the CI runner), after buildkitd and the registry
// stopped. Call it from TestMain before Main.
func AtTeardown(f func()) { state.atTeardown = append(state.atTeardown, f) }

// Main sets up the harness, runs the tests and tears down. Call it from
// TestMain:
//
//	func TestMain(m *testing.M) { harness.Main(m) }
func Main(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// m.Run parses the test flags too late for -v to be known in setup.
	if !flag.Parsed() {
		flag.Parse()
	}
	// Stop the daemons on Ctrl-C or a kill from the CI runner; a test
	// timeout panics the process instead, and then Pdeathsig kills them.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "harness: %v: stopping buildkitd and registry\n", sig)
		teardown()
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	defer teardown()

	start := time.Now()
	if err := setup(true); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: integration harness setup: %v\n", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "harness: buildkitd at %s, registry at %s (setup %s)\n",
			state.addr, state.registry.Host(), time.Since(start).Round(time.Millisecond))
	}
	return m.Run()
}

// setup starts what the tests share. The tests need root; building the
// fixtures (make fixtures, make demo) does not: then the daemon runs
// rootless, and missing Debian packages are named for sudo apt-get.
func setup(needRoot bool) error {
	ctx := context.Background()
	if needRoot && os.Geteuid() != 0 {
		return fmt.Errorf("the integration tests need root (buildkitd with runc, debootstrap, overlay mounts); running as uid %d", os.Geteuid())
	}
	// containerd's content store warns on every open that the file system
	// has no fs-verity; that is noise in test output.
	logrus.SetLevel(logrus.ErrorLevel)
	// debootstrap, runc and friends live in sbin, which a user's PATH may lack.
	os.Setenv("PATH", withSbin(os.Getenv("PATH")))
	var err error
	if state.cacheDir, err = buildkitd.DefaultCacheDir(); err != nil {
		return err
	}
	if err := os.MkdirAll(state.cacheDir, 0o755); err != nil {
		return err
	}
	// Folders of earlier runs that were killed (a test timeout does not
	// let teardown run).
	for _, d := range append(buildkitd.CleanupStale(), testregistry.CleanupStale()...) {
		fmt.Fprintf(os.Stderr, "harness: removed %s, left behind by a killed run\n", d)
	}
	if err := EnsureTools(ctx); err != nil {
		return err
	}
	if err := buildHelper(ctx); err != nil {
		return err
	}
	if state.registry, err = testregistry.Start(ctx); err != nil {
		return err
	}
	if state.authRegistry, err = testregistry.StartAuthProxy(state.registry.Host(), AuthRegistryUser, AuthRegistryPassword); err != nil {
		return err
	}
	if host := os.Getenv(BuildkitHostEnv); host != "" {
		// Someone else's daemon: it does not know our registry is plain
		// HTTP, so tests that pull from it need a daemon configured for it.
		state.addr = host
		c, err := client.New(ctx, host)
		if err != nil {
			return fmt.Errorf("%s=%s: %w", BuildkitHostEnv, host, err)
		}
		defer c.Close()
		if _, err := c.ListWorkers(ctx); err != nil {
			return fmt.Errorf("%s=%s does not answer: %w", BuildkitHostEnv, host, err)
		}
		return nil
	}
	state.daemon, err = buildkitd.Start(ctx, buildkitd.Options{
		CacheDir:      state.cacheDir,
		RegistryHosts: []string{state.registry.Host(), state.authRegistry.Host()},
		Debug:         os.Getenv("HARNESS_BUILDKITD_DEBUG") != "",
	})
	if err != nil {
		return err
	}
	state.addr = state.daemon.Addr()
	return nil
}

// buildHelper builds the flatpak-frontend binary that in-process builds
// run in their build steps (a test binary cannot be that binary), static as
// the frontend image's, and names it in $FLATPAK_FRONTEND_HELPER.
func buildHelper(ctx context.Context) error {
	if os.Getenv(localbuild.HelperEnv) != "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "ffe-helper-")
	if err != nil {
		return err
	}
	state.helperDir = dir
	bin := filepath.Join(dir, "flatpak-frontend")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "github.com/flatpak-frontend/flatpak-frontend/cmd/flatpak-frontend")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the flatpak-frontend binary for the build steps: %v\n%s", err, out)
	}
	return os.Setenv(localbuild.HelperEnv, bin)
}

func teardown() {
	teardownOnce.Do(func() {
		if state.helperDir != "" {
			os.RemoveAll(state.helperDir)
		}
		if state.daemon != nil {
			if err := state.daemon.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "harness: stopping buildkitd: %v\n", err)
			}
		}
		if state.registry != nil {
			if err := state.registry.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "harness: stopping registry: %v\n", err)
			}
		}
		if state.authRegistry != nil {
			_ = state.authRegistry.Close()
		}
		for i := len(state.atTeardown) - 1; i >= 0; i-- {
			state.atTeardown[i]()
		}
	})
}

func mustBeSetUp(t testing.TB) {
	t.Helper()
	if state.addr == "" {
		t.Fatal("harness not set up: call harness.Main(m) from TestMain")
	}
}

// Addr is the address of the BuildKit daemon the tests use.
func Addr() string { return state.addr }

// CacheDir is the cache root the fixtures and the buildkitd binaries live in.
func CacheDir() string { return state.cacheDir }

// Client returns a client of the harness's daemon, closed when t ends.
func Client(t testing.TB) *client.Client {
	t.Helper()
	mustBeSetUp(t)
	c, err := client.New(context.Background(), state.addr)
	if err != nil {
		t.Fatalf("connect to buildkitd at %s: %v", state.addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Registry returns the host:port of the harness's registry. The private
// daemon pulls from it over plain HTTP.
func Registry(t testing.TB) string {
	t.Helper()
	mustBeSetUp(t)
	return state.registry.Host()
}

// The login of AuthRegistry.
const (
	AuthRegistryUser     = "packager"
	AuthRegistryPassword = "s3cret"
)

// AuthRegistry returns the harness's registry behind a token login
// (AuthRegistryUser, AuthRegistryPassword), as Docker Hub and quay.io ask
// for one, on a host:port of its own; it counts the requests that came
// with a token.
func AuthRegistry(t testing.TB) *testregistry.AuthProxy {
	t.Helper()
	mustBeSetUp(t)
	return state.authRegistry
}

// DockerConfig writes a docker config folder (for $DOCKER_CONFIG) that
// logs in to the hosts given, as `docker login` records it.
func DockerConfig(t testing.TB, logins map[string][2]string) string {
	t.Helper()
	auths := map[string]map[string]string{}
	for host, up := range logins {
		auths[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(up[0] + ":" + up[1]))}
	}
	dt, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), dt, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// DaemonLog is the private daemon's log file ("" with BUILDKIT_HOST), worth
// printing when a solve fails obscurely.
func DaemonLog() string {
	if state.daemon == nil {
		return ""
	}
	return state.daemon.LogPath()
}

// BuildFixtures builds (or finds in the cache) the test runtime and the test
// RPM repo outside of a test, with its own daemon unless BUILDKIT_HOST is
// set: make fixtures and make demo use it. It returns the runtime's OCI
// layout folder and the repo folder.
func BuildFixtures(ctx context.Context) (runtimeDir, repoDir string, err error) {
	defer teardown()
	if err := setup(false); err != nil {
		return "", "", err
	}
	if repoDir, err = buildCached(rpmsKey, buildRPMs); err != nil {
		return "", "", err
	}
	rt, err := buildCached(runtimeKey, buildRuntime)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(rt, "oci"), repoDir, nil
}

// BuildGHexFixtures is BuildFixtures for the real app: the GTK runtime's
// OCI layout folder and the GHex RPM repo (make demo-ghex).
func BuildGHexFixtures(ctx context.Context) (runtimeDir, repoDir string, err error) {
	if os.Geteuid() != 0 {
		return "", "", fmt.Errorf("the GTK runtime and GHex's RPMs are made with debootstrap and chroot, which need root: run make demo-ghex as root (make demo does not)")
	}
	defer teardown()
	if err := setup(false); err != nil {
		return "", "", err
	}
	ghex, err := buildCached(ghexKey, buildGHexRepo)
	if err != nil {
		return "", "", err
	}
	rt, err := buildCached(gtkRuntimeKey, buildGtkRuntime)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(rt, "oci"), filepath.Join(ghex, "repo"), nil
}
