package buildkitd

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
)

// RegistryBinary is Debian's docker-registry (package docker-registry).
const RegistryBinary = "/usr/bin/docker-registry"

// Registry is a running docker-registry on a loopback port, storing its
// blobs in a temporary folder.
type Registry struct {
	host     string
	dir      string
	logPath  string
	proc     *process
	liveLock *os.File
	stopOnce sync.Once
	stopErr  error
}

// StartRegistry starts a registry on a free 127.0.0.1 port and waits until
// GET /v2/ answers. It speaks plain HTTP: pass [Registry.Host] in
// [Options.RegistryHosts] so buildkitd does too.
func StartRegistry(ctx context.Context) (_ *Registry, retErr error) {
	if _, err := os.Stat(RegistryBinary); err != nil {
		return nil, fmt.Errorf("%s not found (install Debian's docker-registry package): %w", RegistryBinary, err)
	}
	r := &Registry{}
	defer func() {
		if retErr != nil {
			r.Stop()
		}
	}()
	var err error
	if r.dir, err = os.MkdirTemp("", registryDirPrefix); err != nil {
		return nil, err
	}
	if r.liveLock, err = holdLiveLock(r.dir); err != nil {
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
	cmd := exec.Command(RegistryBinary, "serve", cfgPath)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if r.proc, err = startProcess(cmd); err != nil {
		return fmt.Errorf("start docker-registry: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	url := "http://" + r.host + "/v2/"
	for {
		if r.proc.exited() {
			return fmt.Errorf("docker-registry exited during startup: %v%s", r.proc.err, tailFile(r.logPath, 20))
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
			r.proc.stop(time.Second)
			return fmt.Errorf("docker-registry did not answer GET %s: %v%s", url, err, tailFile(r.logPath, 20))
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
			r.stopErr = r.proc.stop(5 * time.Second)
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
