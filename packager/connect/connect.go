package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/connhelper"
	// BuildKit's connection helpers, registered for client.New: the same
	// addresses buildctl takes.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

// TLS is the client side of TLS to a tcp:// daemon, named as buildctl
// names its flags.
type TLS struct {
	CACert, Cert, Key, ServerName string
	// Dir holds ca.pem (or ca.crt), cert.pem (or tls.crt) and key.pem
	// (or tls.key), instead of the three files.
	Dir string
}

// Options say where to look.
type Options struct {
	// Addr is the daemon's address; AddrFrom says where it came from
	// ("--addr", "$BUILDKIT_HOST") for the line Connect prints.
	Addr, AddrFrom string
	TLS            TLS
	// StateDir keeps a private daemon's state between runs (default: the
	// cache folder's buildkitd-state). CacheDir is the cache folder
	// (default: buildkitd.DefaultCacheDir).
	StateDir, CacheDir string
	// DockerConfig is docker's configuration folder, where buildx keeps
	// its builders (default: $DOCKER_CONFIG, else ~/.docker).
	DockerConfig string
	// Out gets the one line saying which BuildKit is used (default stderr).
	Out io.Writer
}

// Builder is a connected BuildKit.
type Builder struct {
	*client.Client
	// Addr is the address the client talks to; Source says how it was
	// found, as printed.
	Addr, Source string
	stop         func()
}

// Started says the daemon is one Connect started for the command.
func (b *Builder) Started() bool { return b.stop != nil }

// Close closes the client and stops the daemon Connect started, if any.
func (b *Builder) Close() {
	b.Client.Close()
	if b.stop != nil {
		b.stop()
	}
}

// Connect finds a BuildKit (see the package documentation), connects to it
// and checks that it answers.
func Connect(ctx context.Context, o Options) (*Builder, error) {
	if o.Out == nil {
		o.Out = os.Stderr
	}
	if o.Addr != "" {
		from := o.AddrFrom
		if from == "" {
			from = "--addr"
		}
		return dial(ctx, o, o.Addr, o.TLS, from)
	}
	if o.TLS != (TLS{}) {
		return nil, errors.New("--tlscacert, --tlscert, --tlskey, --tlsservername and --tlsdir need --addr tcp://HOST:PORT")
	}
	if ng, node, err := currentBuildxBuilder(o.DockerConfig); err != nil {
		return nil, err
	} else if ng != nil {
		addr, tls, err := buildxEndpoint(ng, node)
		if err != nil {
			return nil, err
		}
		return dial(ctx, o, addr, tls, fmt.Sprintf("the current docker buildx builder %q", ng.Name))
	}
	if bin, err := exec.LookPath("buildkitd"); err == nil {
		return startPrivate(ctx, o, bin, "the buildkitd on PATH, "+bin)
	}
	return startPrivate(ctx, o, "", "the pinned buildkitd "+buildkitd.Version)
}

func dial(ctx context.Context, o Options, addr string, t TLS, source string) (*Builder, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, fmt.Errorf("BuildKit at %s (%s): %w", addr, source, err)
	}
	opts, err := t.clientOpts(addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "BuildKit: %s at %s\n", source, addr)
	c, err := client.New(ctx, addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("BuildKit at %s (%s): %w", addr, source, err)
	}
	if err := check(ctx, c); err != nil {
		c.Close()
		return nil, explain(addr, source, t, err)
	}
	return &Builder{Client: c, Addr: addr, Source: source}, nil
}

// CheckAddr tells an address BuildKit's client can dial (unix://, tcp://,
// or a scheme of a connection helper registered above) from one it would
// fail on with a resolver's error.
func CheckAddr(addr string) error {
	const want = "unix://PATH, tcp://HOST:PORT, docker-container://NAME, podman-container://NAME, kube-pod://POD or ssh://HOST"
	scheme, _, ok := strings.Cut(addr, "://")
	switch {
	case !ok && strings.HasPrefix(addr, "/"):
		return fmt.Errorf("a socket's address starts with unix://: unix://%s", addr)
	case !ok:
		return fmt.Errorf("an address says how to reach the daemon first: %s", want)
	case scheme == "unix" || scheme == "tcp":
		if _, err := url.Parse(addr); err != nil {
			return err
		}
		return nil
	}
	if h, err := connhelper.GetConnectionHelper(addr); err != nil {
		return err
	} else if h != nil {
		return nil
	}
	return fmt.Errorf("no BuildKit address starts with %s://: want %s", scheme, want)
}

// check asks the daemon for its workers, with a deadline: client.New does
// not connect, so a wrong address or certificate shows only here.
func check(ctx context.Context, c *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		return errors.New("the daemon has no workers")
	}
	return nil
}

// explain turns a failed first call into what to check.
func explain(addr, source string, t TLS, err error) error {
	msg := err.Error()
	usesTLS := t != (TLS{})
	// With TLS 1.3 the server checks the client's certificate after the
	// handshake, so a refusal reaches the client as a closed connection.
	refused := strings.Contains(msg, "bad certificate") || strings.Contains(msg, "certificate required") ||
		(usesTLS && (strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF")))
	hint := ""
	switch {
	case strings.Contains(msg, "certificate signed by unknown authority"), strings.Contains(msg, "x509"):
		hint = "the daemon's certificate is not signed by the CA given: check --tlscacert (or ca.pem in --tlsdir) and --tlsservername"
	case refused && t.Cert == "" && t.Dir == "":
		hint = "the daemon refused this client's certificate: it asks for one, give --tlscert and --tlskey (or --tlsdir)"
	case refused:
		hint = "the daemon refused this client's certificate: check --tlscert and --tlskey (or --tlsdir), signed by the CA the daemon trusts"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		hint = "the daemon does not speak TLS there: leave out the --tls options"
	case !usesTLS && strings.Contains(msg, "tcp://") && (strings.Contains(msg, "EOF") || strings.Contains(msg, "connection reset")):
		hint = "the daemon closed the connection: does it want TLS (--tlscacert, --tlscert, --tlskey)?"
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such file"):
		hint = "nothing listens there: is buildkitd running?"
	}
	if hint != "" {
		return fmt.Errorf("BuildKit at %s (%s): %s: %w", addr, source, hint, err)
	}
	return fmt.Errorf("BuildKit at %s (%s): %w", addr, source, err)
}

func (t TLS) clientOpts(addr string) ([]client.ClientOpt, error) {
	if t.Dir != "" {
		if t.CACert != "" || t.Cert != "" || t.Key != "" {
			return nil, errors.New("--tlsdir and --tlscacert/--tlscert/--tlskey: give one or the other")
		}
		var err error
		if t.CACert, err = oneOf(t.Dir, "ca.pem", "ca.crt"); err != nil {
			return nil, err
		}
		if t.Cert, err = oneOf(t.Dir, "cert.pem", "tls.crt"); err != nil {
			return nil, err
		}
		if t.Key, err = oneOf(t.Dir, "key.pem", "tls.key"); err != nil {
			return nil, err
		}
	}
	if t == (TLS{}) {
		return nil, nil
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", addr, err)
	}
	if u.Scheme != "tcp" {
		return nil, fmt.Errorf("--addr %s: TLS options need a tcp:// address", addr)
	}
	if (t.Cert == "") != (t.Key == "") {
		return nil, errors.New("--tlscert and --tlskey go together")
	}
	for _, f := range []struct{ flag, path string }{{"--tlscacert", t.CACert}, {"--tlscert", t.Cert}, {"--tlskey", t.Key}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return nil, fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	var opts []client.ClientOpt
	if t.ServerName == "" {
		t.ServerName = u.Hostname()
	}
	if t.CACert != "" {
		opts = append(opts, client.WithServerConfig(t.ServerName, t.CACert))
	} else {
		opts = append(opts, client.WithServerConfigSystem(t.ServerName))
	}
	if t.Cert != "" {
		opts = append(opts, client.WithCredentials(t.Cert, t.Key))
	}
	return opts, nil
}

func oneOf(dir string, names ...string) (string, error) {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("--tlsdir %s: has none of %s", dir, strings.Join(names, ", "))
}

// startPrivate starts a private daemon for this command (rootless unless
// run by root), keeping its state between runs so the next build is warm.
// One private daemon per state folder: a second command waits for the
// first.
func startPrivate(ctx context.Context, o Options, bin, source string) (_ *Builder, retErr error) {
	cache := o.CacheDir
	if cache == "" {
		var err error
		if cache, err = buildkitd.DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	state := o.StateDir
	if state == "" {
		state = filepath.Join(cache, "buildkitd-state")
	}
	if bin == "" {
		if _, err := exec.LookPath("go"); err != nil {
			if _, ok := buildkitd.Built(cache); !ok {
				return nil, fmt.Errorf("no BuildKit found: pass --addr (or set BUILDKIT_HOST) to a buildkitd, create a docker buildx builder, put buildkitd on PATH (from https://github.com/moby/buildkit/releases, or your distribution's buildkit package), or install Go so that the pinned buildkitd %s can be built into %s", buildkitd.Version, cache)
			}
		}
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	unlock, err := buildkitd.LockFile(ctx, state+".lock")
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			unlock()
		}
	}()
	mode := "as root"
	if os.Geteuid() != 0 {
		mode = "rootless"
	}
	fmt.Fprintf(o.Out, "BuildKit: %s, started privately (%s, state in %s)\n", source, mode, state)
	// The registry settings the packager's BuildKit, podman and docker
	// have (TLS certificates, plain HTTP, mirrors): a daemon of ours knows
	// its registries as theirs do.
	registries, err := registryhosts.Load()
	if err != nil {
		return nil, err
	}
	d, err := buildkitd.Start(ctx, buildkitd.Options{Root: state, CacheDir: cache, Binary: bin, Registries: registries})
	if err != nil {
		return nil, err
	}
	c, err := d.Client(ctx)
	if err != nil {
		d.Stop()
		return nil, err
	}
	return &Builder{Client: c, Addr: d.Addr(), Source: source, stop: func() { d.Stop(); unlock() }}, nil
}
