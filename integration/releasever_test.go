package integration

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
)

// TestReleaseVerFillsTheReposURLs is a repo whose URL has dnf's
// $releasever, as Fedora's repo files write them, on a runtime whose rpm
// database has no system-release package to detect it from: the build
// fails naming the repo until the spec gives releasever, and then
// installs from the URL it makes.
func TestReleaseVerFillsTheReposURLs(t *testing.T) {
	files := http.FileServer(http.Dir(harness.RPMRepo(t)))
	var mu sync.Mutex
	var asked []string
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		rest, ok := strings.CutPrefix(r.URL.Path, "/41/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = "/" + rest
		files.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, tc := range []struct {
		name, runtimeID string
		runtime         harness.RuntimeImage
	}{
		{"dnf", harness.RuntimeID, harness.Runtime(t)},
		{"dnf5", harness.MinimalRuntimeID, harness.MinimalRuntime(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := func(extra string) string {
				return `id: org.example.Hello
runtime-name: ` + tc.runtimeID + `
runtime-version: "1"
command: hello
packages: [hello]
repos:
  - name: versioned
    baseurl: http://` + ln.Addr().String() + `/$releasever/
` + extra
			}
			contexts := map[string]string{"runtime": "oci-layout://" + tc.runtime.Dir + "@" + tc.runtime.Digest}
			_, err := build(t, buildOpts{dir: writeSpec(t, spec("")), file: "flatpak.yaml", noRuntimeContext: true, contexts: contexts})
			if err == nil {
				t.Fatal("built from a $releasever URL with no release version to put in it")
			}
			if msg := err.Error(); !strings.Contains(msg, "repo versioned: the installer has no release version for $releasever in http://") ||
				!strings.Contains(msg, "give one with releasever:") {
				t.Errorf("the error does not name the repo and the key that fixes it: %v", err)
			}
			if lines := sourceLines(err); !slices.Contains(lines, 8) {
				t.Errorf("the error points at lines %v, not the baseurl's (8)", lines)
			}

			mu.Lock()
			asked = nil
			mu.Unlock()
			res, err := build(t, buildOpts{dir: writeSpec(t, spec("releasever: 41\n")), file: "flatpak.yaml", noRuntimeContext: true, contexts: contexts})
			if err != nil {
				t.Fatal(err)
			}
			flatpakImportable(t, res.oci, helloRef)
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(strings.Join(asked, " "), "/41/repodata/repomd.xml") {
				t.Errorf("the installer asked for %q, never /41/repodata/repomd.xml", asked)
			}
		})
	}
}
