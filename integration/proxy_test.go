package integration

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// proxiedHost is a repo's host that no resolver knows (.invalid): only a
// proxy reaches it.
const proxiedHost = "rpms.flatpak-frontend.invalid"

// startProxy serves dir as http://proxiedHost/ to clients that send their
// requests through it, as an HTTP forward proxy does, counting them.
func startProxy(t *testing.T, dir string, count *atomic.Int32) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	files := http.FileServer(http.Dir(dir))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() || r.URL.Host != proxiedHost {
			http.Error(w, "this proxy reaches "+proxiedHost+" only", http.StatusBadGateway)
			return
		}
		count.Add(1)
		files.ServeHTTP(w, r)
	})}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestReposThroughTheBuildArgsProxy: a packager behind a proxy gives it as
// docker's CLI does, build args http_proxy and the like; the installer
// reaches the network repo through it. The proxy is in neither the image
// nor the install's cache key: another proxy reuses the install.
func TestReposThroughTheBuildArgsProxy(t *testing.T) {
	repo := t.TempDir()
	writeRepo(t, repo, "hello", "hello-data")
	var first, second atomic.Int32
	proxy1, proxy2 := startProxy(t, repo, &first), startProxy(t, repo, &second)
	yaml := `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: hello
packages: [hello]
repos:
  - name: behind-proxy
    baseurl: http://` + proxiedHost + `/
`
	dir := writeSpec(t, yaml)
	if _, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml"}); err == nil {
		t.Fatal("a repo no resolver knows was reached without the proxy")
	}
	res, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml", args: map[string]string{"http_proxy": proxy1, "NO_PROXY": "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Load() == 0 {
		t.Fatal("nothing came through the proxy")
	}
	flatpakImportable(t, res.oci, "app/org.example.Hello/x86_64/stable")
	img := readImage(t, res.oci, "")
	cfg, err := json.Marshal(img.config)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), proxy1) {
		t.Errorf("the image's config holds the proxy:\n%s", cfg)
	}

	res, err = build(t, buildOpts{dir: dir, file: "flatpak.yaml", args: map[string]string{"http_proxy": proxy2}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.log, "Complete!") {
		t.Errorf("another proxy installed again:\n%s", lastLines(res.log, 30))
	}
}
