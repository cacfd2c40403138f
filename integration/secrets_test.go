package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/klauspost/compress/zstd"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
)

// authRepo serves the test RPM repository over HTTP on 127.0.0.1 with
// basic auth. The private buildkitd runs steps on the host network, so the
// install step reaches it.
type authRepo struct {
	url            string
	authorized     atomic.Int64
	unauthorized   atomic.Int64
	user, password string
}

func startAuthRepo(t *testing.T, user, password string) *authRepo {
	t.Helper()
	r := &authRepo{user: user, password: password}
	files := http.FileServer(http.Dir(harness.RPMRepo(t)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, p, ok := req.BasicAuth()
		if !ok || u != r.user || p != r.password {
			r.unauthorized.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="repo"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r.authorized.Add(1)
		files.ServeHTTP(w, req)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r.url = "http://" + ln.Addr().String() + "/"
	return r
}

func secretSpec(url string) string {
	return `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: hello
packages:
  - hello
repos:
  - name: private
    baseurl: ` + url + `
    secret: repocreds
`
}

// buildWithSecret builds a spec with the repocreds secret read from a file
// holding creds ("" passes no secret).
func buildWithSecret(t *testing.T, yaml, creds string, noCache bool) (*buildResult, error) {
	t.Helper()
	return buildWithSecretOn(t, harness.Client(t), yaml, creds, noCache)
}

func buildWithSecretOn(t *testing.T, c *client.Client, yaml, creds string, noCache bool) (*buildResult, error) {
	t.Helper()
	return buildWithSecretContexts(t, c, yaml, creds, noCache, nil)
}

// buildWithSecretContexts is buildWithSecretOn with more named contexts.
func buildWithSecretContexts(t *testing.T, c *client.Client, yaml, creds string, noCache bool, contexts map[string]string) (*buildResult, error) {
	t.Helper()
	dir := writeSpec(t, yaml)
	var secrets []secretsprovider.Source
	if creds != "" {
		f := filepath.Join(t.TempDir(), "creds")
		if err := os.WriteFile(f, []byte(creds), 0o600); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, secretsprovider.Source{ID: "repocreds", FilePath: f})
	}
	rt := harness.Runtime(t)
	all := map[string]string{"runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest}
	for k, v := range contexts {
		all[k] = v
	}
	var log bytes.Buffer
	out := filepath.Join(t.TempDir(), "oci")
	res, err := localbuild.Build(context.Background(), c, localbuild.Options{
		File:        filepath.Join(dir, "flatpak.yaml"),
		ContextDir:  dir,
		Contexts:    all,
		Secrets:     secrets,
		NoCache:     noCache,
		Progress:    "plain",
		ProgressOut: &log,
		OCIDir:      out,
	})
	t.Logf("build log:\n%s", log.String())
	if err != nil {
		return &buildResult{log: log.String()}, err
	}
	return &buildResult{oci: out, log: log.String(), digest: res.Digest}, nil
}

// TestBuildFromAuthenticatedRepoKeepsTheSecretOut is the story of a
// packager whose RPMs sit behind basic auth: --secret id=repocreds gives
// the credentials, the build installs from the repo, and the password is
// nowhere in the image: no layer (decompressed), no config or label, no
// manifest, nor the build log.
func TestBuildFromAuthenticatedRepoKeepsTheSecretOut(t *testing.T) {
	const user, password = "packager", "s3cr3t-Pa55w0rd-7f1c9a"
	repo := startAuthRepo(t, user, password)

	// Without the secret: a clear error naming it.
	_, err := buildWithSecret(t, secretSpec(repo.url), "", true)
	if err == nil {
		t.Fatal("the build succeeded without the secret")
	}
	if !strings.Contains(err.Error(), "repocreds") {
		t.Errorf("the error does not name the secret repocreds: %v", err)
	}

	// With a wrong password: dnf fails, and the error names the repo.
	_, err = buildWithSecret(t, secretSpec(repo.url), user+":wrong", true)
	if err == nil {
		t.Fatal("the build succeeded with a wrong password")
	}
	if !strings.Contains(err.Error(), "private") && !strings.Contains(err.Error(), repo.url) {
		t.Errorf("the error does not name the repo: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the password: %v", err)
	}

	// With it: the build works, through the authenticated server.
	before := repo.authorized.Load()
	res, err := buildWithSecret(t, secretSpec(repo.url), user+":"+password, true)
	if err != nil {
		t.Fatal(err)
	}
	if repo.authorized.Load() == before {
		t.Fatal("the repo server saw no authenticated request")
	}
	img := readImage(t, res.oci, "")
	found := false
	for _, h := range img.entries {
		if h.Name == "files/bin/hello" {
			found = true
		}
	}
	if !found {
		t.Error("the image has no files/bin/hello")
	}

	for _, needle := range []string{password, user + ":" + password} {
		if where := grepLayout(t, res.oci, needle); len(where) > 0 {
			t.Errorf("the secret %q is in the exported image: %s", needle, strings.Join(where, ", "))
		}
		if strings.Contains(res.log, needle) {
			t.Errorf("the secret %q is in the build log", needle)
		}
	}
	for k, v := range img.config.Config.Labels {
		if strings.Contains(v, password) || strings.Contains(k, password) {
			t.Errorf("label %s holds the secret", k)
		}
	}
	mustVerify(t, res.oci)
}

// grepLayout returns the files of an OCI layout (every blob, gzip and zstd
// blobs also decompressed) that contain needle.
func grepLayout(t *testing.T, dir, needle string) []string {
	t.Helper()
	var hits []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(dt, []byte(needle)) {
			hits = append(hits, p)
		}
		var plain []byte
		switch {
		case len(dt) > 2 && dt[0] == 0x1f && dt[1] == 0x8b:
			zr, err := gzip.NewReader(bytes.NewReader(dt))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			plain, err = io.ReadAll(zr)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		case len(dt) > 4 && bytes.Equal(dt[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}):
			zr, err := zstd.NewReader(bytes.NewReader(dt))
			if err != nil {
				return err
			}
			plain, err = io.ReadAll(zr)
			zr.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		if plain != nil && bytes.Contains(plain, []byte(needle)) {
			hits = append(hits, p+" (decompressed)")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestSecretIsNotKeptInTheDaemonState builds from the authenticated repo on
// a daemon of its own and searches its whole state folder (cache and
// history databases, content store, snapshots, cache mounts such as dnf's)
// for the password.
func TestSecretIsNotKeptInTheDaemonState(t *testing.T) {
	const user, password = "packager", "daemon-state-Pa55-41d2e8"
	repo := startAuthRepo(t, user, password)
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "buildkitd")
	d := privateDaemon(t, root)
	c, err := d.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := buildWithSecretOn(t, c, secretSpec(repo.url), user+":"+password, false); err != nil {
		t.Fatal(err)
	}
	var hits []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		dt, err := io.ReadAll(io.LimitReader(f, 256<<20))
		if err == nil && bytes.Contains(dt, []byte(password)) {
			hits = append(hits, p)
		}
		return nil
	})
	if len(hits) > 0 {
		t.Errorf("the password is kept in the daemon's state: %s", strings.Join(hits, ", "))
	}
}
