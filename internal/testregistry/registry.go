package testregistry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/packager/childproc"
)

// Binary is Debian's docker-registry (package docker-registry).
const Binary = "/usr/bin/docker-registry"

// dirPrefix names the registries' temporary folders.
const dirPrefix = "registry-"

// Registry is a running docker-registry on a loopback port, storing its
// blobs in a temporary folder.
type Registry struct {
	host     string
	dir      string
	logPath  string
	proc     *childproc.Process
	liveLock *os.File
	stopOnce sync.Once
	stopErr  error
}

// Start starts a registry on a free 127.0.0.1 port and waits until GET /v2/
// answers. It speaks plain HTTP: pass [Registry.Host] in buildkitd's
// Options.RegistryHosts so the daemon does too.
func Start(ctx context.Context) (_ *Registry, retErr error) {
	if _, err := os.Stat(Binary); err != nil {
		return nil, fmt.Errorf("%s not found (install Debian's docker-registry package): %w", Binary, err)
	}
	r := &Registry{}
	defer func() {
		if retErr != nil {
			r.Stop()
		}
	}()
	var err error
	if r.dir, r.liveLock, err = childproc.TempDir(dirPrefix); err != nil {
		return nil, err
	}
	r.logPath = filepath.Join(r.dir, "registry.log")
	// The free port is found by binding :0 and closing; another process
	// could take it in between, so retry a few times.
	for attempt := 0; ; attempt++ {
		err = r.start(ctx)
		if err == nil {
			return r, nil
		}
		if attempt == 3 || ctx.Err() != nil {
			return nil, err
		}
	}
}

func (r *Registry) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	r.host = "127.0.0.1:" + strconv.Itoa(port)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(r.dir, "storage"), r.host)
	cfgPath := filepath.Join(r.dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	logf, err := os.Create(r.logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(Binary, "serve", cfgPath)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if r.proc, err = childproc.Start(cmd); err != nil {
		return fmt.Errorf("start docker-registry: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	url := "http://" + r.host + "/v2/"
	for {
		if r.proc.Exited() {
			return fmt.Errorf("docker-registry exited during startup: %v%s", r.proc.Err(), childproc.TailFile(r.logPath, 20))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			r.proc.Stop(time.Second)
			return fmt.Errorf("docker-registry did not answer GET %s: %v%s", url, err, childproc.TailFile(r.logPath, 20))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Host is "127.0.0.1:PORT", the registry part of image references.
func (r *Registry) Host() string { return r.host }

// Stop terminates the registry and removes its storage. It is safe to call
// more than once.
func (r *Registry) Stop() error {
	r.stopOnce.Do(func() {
		if r.proc != nil {
			r.stopErr = r.proc.Stop(5 * time.Second)
		}
		if r.dir != "" {
			if err := os.RemoveAll(r.dir); err != nil && r.stopErr == nil {
				r.stopErr = err
			}
		}
		if r.liveLock != nil {
			r.liveLock.Close()
		}
	})
	return r.stopErr
}

// Pid is the registry's process ID.
func (r *Registry) Pid() int { return r.proc.Pid() }

// Dir is the registry's temporary folder (its config and storage).
func (r *Registry) Dir() string { return r.dir }

// CleanupStale removes the folders of registries whose test run was
// killed before it could stop them, and returns them.
func CleanupStale() []string { return childproc.RemoveAbandoned(dirPrefix, nil) }
