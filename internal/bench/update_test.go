//go:build bench

package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/flatpak-frontend/flatpak-frontend/packager/publish"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// countingRegistry is a reverse proxy in front of the harness registry that
// counts the bytes of the blobs it serves: what Flatpak downloads.
type countingRegistry struct {
	addr  string
	blobs atomic.Int64
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func startCountingRegistry(t *testing.T, reg string) *countingRegistry {
	t.Helper()
	target, _ := url.Parse("http://" + reg)
	c := &countingRegistry{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method == http.MethodGet && strings.Contains(r.Request.URL.Path, "/blobs/") {
			r.Body = countingBody{r.Body, &c.blobs}
		}
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: proxy}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c.addr = ln.Addr().String()
	return c
}

// updateDownload is what a user's `flatpak update` downloads from the app
// a (built from the repo rpms) to the app b (from rpmsB), and the new
// image's compressed size; pushed is what the registry received for the
// new image: the blobs (layers and config) that its repository did not
// have, as a push sends only those (each blob is checked with a HEAD
// first). The app a and the runtime pushed to the registry and published
// as a remote, installed by Flatpak from it; b pushed, published; Flatpak
// updates. Blob bytes are counted by a proxy that the remote's index names
// as the registry.
func (e *env) updateDownload(ctx context.Context, t *testing.T, a app, rpms string, b app, rpmsB string) (fetched, size, pushed int64, err error) {
	reg := harness.Registry(t)
	prefix := fmt.Sprintf("bench%d", time.Now().UnixNano()%1e9)
	appRepo, rtRepo := prefix+"/app", prefix+"/platform"
	if out, err := exec.Command("skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests",
		"oci:"+e.rt.Dir, "docker://"+reg+"/"+rtRepo+":latest").CombinedOutput(); err != nil {
		return 0, 0, 0, fmt.Errorf("push the runtime: %v\n%s", err, out)
	}
	push := func(a app, rpms string) error {
		dir := e.tempDir("push-" + a.ID)
		var y bytes.Buffer
		if err := e.yamlTmpl.Execute(&y, a); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "flatpak.yaml"), y.Bytes(), 0o644); err != nil {
			return err
		}
		_, err := localbuild.Build(ctx, e.c, localbuild.Options{
			File: filepath.Join(dir, "flatpak.yaml"), ContextDir: dir,
			Contexts: map[string]string{"rpms": rpms, "runtime": "oci-layout://" + e.rt.Dir + "@" + e.rt.Digest},
			Progress: "quiet", Push: reg + "/" + appRepo + ":latest",
		})
		return err
	}
	proxy := startCountingRegistry(t, reg)
	out := e.tempDir("remote")
	pub := func() error {
		_, err := publish.Publish(ctx, publish.Options{Registry: reg, Insecure: true, RegistryURL: "http://" + proxy.addr + "/",
			Repositories: []string{appRepo, rtRepo}, Out: out, Deltas: true})
		return err
	}
	if err := push(a, rpms); err != nil {
		return 0, 0, 0, err
	}
	if err := pub(); err != nil {
		return 0, 0, 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, 0, err
	}
	srv := &http.Server{Handler: publish.Handler(out)}
	go srv.Serve(ln)
	defer srv.Close()
	fp := harness.Flatpak(t)
	if _, err := fp.Command("--user", "remote-add", "--no-gpg-verify", "bench", "oci+http://"+ln.Addr().String()); err != nil {
		return 0, 0, 0, err
	}
	if _, err := fp.Command("--user", "install", "-y", "--noninteractive", "bench", a.ID); err != nil {
		return 0, 0, 0, err
	}
	ref, err := name.ParseReference(reg+"/"+appRepo+":latest", name.Insecure)
	if err != nil {
		return 0, 0, 0, err
	}
	had, err := blobSizes(ctx, ref)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := push(b, rpmsB); err != nil {
		return 0, 0, 0, err
	}
	if err := pub(); err != nil {
		return 0, 0, 0, err
	}
	before := proxy.blobs.Load()
	if _, err := fp.Command("--user", "update", "-y", "--noninteractive"); err != nil {
		return 0, 0, 0, err
	}
	fetched = proxy.blobs.Load() - before
	has, err := blobSizes(ctx, ref)
	if err != nil {
		return 0, 0, 0, err
	}
	for d, n := range has.sizes {
		if d != has.config {
			size += n
		}
		if _, ok := had.sizes[d]; !ok {
			pushed += n
		}
	}
	return fetched, size, pushed, nil
}

// imageBlobs are the sizes of an image's layers and config by digest.
type imageBlobs struct {
	sizes  map[string]int64
	config string
}

// blobSizes are the blobs of an image in the registry.
func blobSizes(ctx context.Context, ref name.Reference) (imageBlobs, error) {
	img, err := remote.Image(ref, remote.WithContext(ctx))
	if err != nil {
		return imageBlobs{}, err
	}
	mf, err := img.Manifest()
	if err != nil {
		return imageBlobs{}, err
	}
	b := imageBlobs{sizes: map[string]int64{mf.Config.Digest.String(): mf.Config.Size}, config: mf.Config.Digest.String()}
	for _, l := range mf.Layers {
		b.sizes[l.Digest.String()] = l.Size
	}
	return b, nil
}

// TestBenchUpdateDownload runs only the update-download scenario:
// go test -tags bench -run TestBenchUpdateDownload -v ./internal/bench/
func TestBenchUpdateDownload(t *testing.T) {
	e := newEnv(t)
	a := mainApp()
	b := a
	b.Packages = append(slices.Clone(a.Packages), "bench-plugin-1")
	fetched, size, pushed, err := e.updateDownload(context.Background(), t, a, e.rpms, b, e.rpms)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("update_download_vs_image: %s (%d of %d bytes)\n", ratio(float64(fetched), float64(size)), fetched, size)
	fmt.Printf("update_push_vs_image: %s (%d bytes)\n", ratio(float64(pushed), float64(size)), pushed)
}
