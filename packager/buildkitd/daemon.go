package buildkitd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
	"github.com/flatpak-frontend/flatpak-frontend/packager/childproc"
	"github.com/moby/buildkit/client"
	"github.com/moby/sys/mountinfo"
)

// Options configure [Start].
type Options struct {
	// Root is the daemon's state folder. Empty: a temporary folder that
	// Stop removes.
	Root string
	// CacheDir is the cache root for [Ensure]. Empty: [DefaultCacheDir].
	CacheDir string
	// Registries are the packager's registry settings (TLS certificates,
	// plain HTTP, mirrors): see oci/registryhosts.
	Registries registryhosts.Config
	// RegistryHosts are registries ("127.0.0.1:5000") the daemon reaches over
	// plain HTTP, such as the tests' (internal/testregistry).
	RegistryHosts []string
	// Debug turns on buildkitd's debug log.
	Debug bool
	// Binary is the buildkitd to run. Empty: the pinned [Version], built
	// into CacheDir by [Ensure] when it is not there.
	Binary string
	// TCP is an extra address to listen on ("tcp://127.0.0.1:1234"),
	// with TLS when TLS is set, as a shared build farm's daemon does.
	TCP string
	TLS ServerTLS
}

// ServerTLS is the daemon's side of TLS on [Options.TCP]: its certificate
// and key, and the CA that client certificates must be signed by.
type ServerTLS struct {
	CACert, Cert, Key string
}

// Daemon is a running private buildkitd.
type Daemon struct {
	addr     string
	root     string
	ownsRoot bool
	sockDir  string
	logPath  string
	proc     *childproc.Process
	liveLock *os.File // held while the daemon's folders are in use, see CleanupStale
	rootless bool
	stopOnce sync.Once
	stopErr  error
}

// How long Start waits for the daemon to answer, and Stop waits after
// SIGTERM before SIGKILL.
const (
	startTimeout = 2 * time.Minute
	stopGrace    = 10 * time.Second
)

// Start builds buildkitd if needed (see [Ensure]), starts it and waits until
// it lists its workers. The daemon must be stopped with [Daemon.Stop]; it is
// also killed if this process dies.
//
// Run by a user other than root, the daemon runs rootless, as BuildKit
// documents: inside rootlesskit's user namespace (subordinate ids from
// /etc/subuid and /etc/subgid, mapped by newuidmap and newgidmap), where
// the overlayfs snapshotter and runc work without privileges.
func Start(ctx context.Context, opts Options) (_ *Daemon, retErr error) {
	var rootless []string
	if os.Geteuid() != 0 {
		var err error
		if rootless, err = RootlessCommand(); err != nil {
			return nil, err
		}
	}
	bin := opts.Binary
	if bin == "" {
		cacheDir := opts.CacheDir
		if cacheDir == "" {
			var err error
			if cacheDir, err = DefaultCacheDir(); err != nil {
				return nil, err
			}
		}
		var err error
		if bin, _, err = Ensure(ctx, cacheDir); err != nil {
			return nil, err
		}
	}
	runc, err := lookSbin("runc")
	if err != nil {
		return nil, fmt.Errorf("runc not found (install it: apt-get install runc): %w", err)
	}

	d := &Daemon{root: opts.Root, rootless: rootless != nil}
	defer func() {
		if retErr != nil {
			d.Stop()
		}
	}()
	if d.root == "" {
		if d.root, d.liveLock, err = childproc.TempDir(daemonDirPrefix); err != nil {
			return nil, err
		}
		d.ownsRoot = true
	} else if err := os.MkdirAll(d.root, 0o700); err != nil {
		return nil, err
	}
	// Unix socket paths are limited to 108 bytes: keep the socket in a
	// short temporary folder whatever Root is.
	if d.sockDir, err = os.MkdirTemp("", "bkd-"); err != nil {
		return nil, err
	}
	if d.ownsRoot {
		if err := os.WriteFile(filepath.Join(d.root, sockDirRecordName), []byte(d.sockDir), 0o644); err != nil {
			return nil, err
		}
	}
	d.addr = "unix://" + filepath.Join(d.sockDir, "buildkitd.sock")
	d.logPath = filepath.Join(d.root, "buildkitd.log")

	// A transfer cut short (a client interrupted while it sent an OCI
	// layout's blob) leaves a partial ingest that the next transfer of that
	// blob tries to resume, which a client's content store cannot do
	// ("unsupported offset"). No transfer spans two daemon runs: drop them.
	ingests, _ := filepath.Glob(filepath.Join(d.root, "state", "*", "content", "ingest", "*"))
	for _, p := range ingests {
		os.RemoveAll(p)
	}
	cfgPath := filepath.Join(d.root, "buildkitd.toml")
	cfg, err := configTOML(opts, runc, d.sockDir)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(d.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy

	args := []string{
		"--config", cfgPath,
		"--root", filepath.Join(d.root, "state"),
		"--addr", d.addr,
		"--oci-worker=true",
		"--containerd-worker=false",
		"--oci-worker-snapshotter=overlayfs",
		"--oci-worker-binary", runc,
		// Host networking: no CNI setup needed, and RUN steps can reach
		// a registry on the loopback interface.
		"--oci-worker-net=host",
	}
	if opts.TCP != "" {
		args = append(args, "--addr", opts.TCP)
		if opts.TLS.Cert != "" {
			args = append(args, "--tlscert", opts.TLS.Cert, "--tlskey", opts.TLS.Key, "--tlscacert", opts.TLS.CACert)
		}
	}
	if opts.Debug {
		args = append(args, "--debug")
	}
	if rootless != nil {
		// Build steps share the daemon's PID namespace: a user namespace
		// cannot mount a fresh /proc for each (BuildKit's rootless docs).
		args = append(args, "--oci-worker-no-process-sandbox")
		args = append(append(rootless, "--state-dir", filepath.Join(d.sockDir, "rootlesskit"), bin), args...)
		bin = args[0]
		args = args[1:]
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// runc and the tools buildkitd calls live in sbin.
	cmd.Env = append(os.Environ(), "PATH="+withSbin(os.Getenv("PATH")))
	if rootless != nil {
		// Rootless buildkitd and runc keep sockets and state in
		// XDG_RUNTIME_DIR (root's /run otherwise): a private one, so
		// that two daemons never meet there.
		cmd.Env = append(cmd.Env, "XDG_RUNTIME_DIR="+d.sockDir)
	}
	if d.proc, err = childproc.Start(cmd); err != nil {
		return nil, fmt.Errorf("start buildkitd: %w", err)
	}
	if err := d.waitReady(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Daemon) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var lastErr error
	for {
		if d.proc.Exited() {
			return fmt.Errorf("buildkitd exited during startup: %v%s", d.proc.Err(), childproc.TailFile(d.logPath, 30))
		}
		c, err := client.New(ctx, d.addr)
		if err == nil {
			var ws []*client.WorkerInfo
			ws, err = c.ListWorkers(ctx)
			c.Close()
			if err == nil && len(ws) > 0 {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("no workers")
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("buildkitd did not answer at %s: %v%s", d.addr, lastErr, childproc.TailFile(d.logPath, 30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Addr is the daemon's address, "unix:///.../buildkitd.sock".
func (d *Daemon) Addr() string { return d.addr }

// Rootless reports whether the daemon runs in a user namespace, started by
// a user other than root.
func (d *Daemon) Rootless() bool { return d.rootless }

// LogPath is the file the daemon logs to.
func (d *Daemon) LogPath() string { return d.logPath }

// Client connects a new client to the daemon; the caller closes it.
func (d *Daemon) Client(ctx context.Context) (*client.Client, error) {
	return client.New(ctx, d.addr)
}

// Stop terminates the daemon (SIGTERM, then SIGKILL after a grace period),
// unmounts whatever it left mounted and removes the folders Start created.
// It is safe to call more than once.
func (d *Daemon) Stop() error {
	d.stopOnce.Do(func() {
		if d.proc != nil {
			d.stopErr = d.proc.Stop(stopGrace)
		}
		if d.root != "" {
			killContainers(d.root)
			unmountUnder(d.root)
		}
		if d.ownsRoot {
			remove := os.RemoveAll
			if d.rootless {
				remove = removeRootless
			}
			if err := remove(d.root); err != nil && d.stopErr == nil {
				d.stopErr = err
			}
		}
		if d.liveLock != nil {
			d.liveLock.Close()
		}
		if d.sockDir != "" {
			os.RemoveAll(d.sockDir)
		}
	})
	return d.stopErr
}

func configTOML(opts Options, runc, sockDir string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "debug = %v\n\n", opts.Debug)
	// The trace socket beside the main one, not in the shared /run/buildkit
	// (which a rootless daemon cannot write, and two daemons would share).
	fmt.Fprintf(&b, "[otel]\n  socketPath = %s\n\n", strconv.Quote(filepath.Join(sockDir, "otel-grpc.sock")))
	// Modest GC: tests and local builds should not fill the disk, but a
	// runtime image (hundreds of MB) must fit.
	b.WriteString("[worker.oci]\n  gc = true\n  reservedSpace = \"2GB\"\n  maxUsedSpace = \"20GB\"\n  minFreeSpace = \"5GB\"\n\n")
	b.WriteString("[worker.containerd]\n  enabled = false\n\n")
	registries, err := opts.Registries.WithPlainHTTP(opts.RegistryHosts...).TOML()
	if err != nil {
		return "", fmt.Errorf("registry settings: %w", err)
	}
	b.WriteString(registries)
	return b.String(), nil
}

func withSbin(path string) string {
	for _, want := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if !strings.Contains(":"+path+":", ":"+want+":") {
			path += ":" + want
		}
	}
	return strings.TrimPrefix(path, ":")
}

// unmountUnder lazily unmounts every mount point below dir, deepest first,
// and every bind mount of something below dir elsewhere (containerd's
// temporary /tmp/containerd-mount* of a snapshot, when the daemon was killed
// while applying a layer). A killed daemon can leave such mounts behind, and
// RemoveAll cannot delete a mounted folder.
func unmountUnder(dir string) {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	infos, err := mountinfo.GetMounts(nil)
	if err != nil {
		return
	}
	var mounts, tempMounts []string
	for _, m := range infos {
		switch mp := m.Mountpoint; {
		case mp == dir || strings.HasPrefix(mp, dir+"/"):
			mounts = append(mounts, mp)
		case strings.HasPrefix(m.Root, dir+"/"), overlayOf(m, dir):
			// The mount's source lies in dir (a bind mount of it; this
			// only equals the host path when dir's file system is
			// mounted at /, the usual case), or it is an overlay of its
			// snapshots (BuildKit's TMPDIR/buildkit-mount* of a daemon
			// killed while it read a snapshot).
			mounts = append(mounts, mp)
			if isTempMount(mp) {
				tempMounts = append(tempMounts, mp)
			}
		}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, mp := range mounts {
		_ = syscall.Unmount(mp, syscall.MNT_DETACH)
	}
	for _, mp := range tempMounts {
		_ = os.Remove(mp) // only if empty
	}
}

// overlayOf reports whether m is an overlay whose layers lie in dir.
func overlayOf(m *mountinfo.Info, dir string) bool {
	return m.FSType == "overlay" && strings.Contains(m.VFSOptions, "="+dir+"/")
}

// isTempMount reports whether mp is a temporary mount point that
// containerd or BuildKit made in TMPDIR for a snapshot.
func isTempMount(mp string) bool {
	b := filepath.Base(mp)
	return strings.HasPrefix(b, "containerd-mount") || strings.HasPrefix(b, "buildkit-mount")
}
