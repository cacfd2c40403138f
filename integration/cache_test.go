package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/frontend"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"
)

// TestBuildWithRegistryCacheSkipsInstall is a CI story: one runner builds
// the example app and exports its build cache to a registry
// (--cache-to type=registry,mode=max); a runner with an empty cache builds
// with --cache-from that registry and does not install the packages again.
func TestBuildWithRegistryCacheSkipsInstall(t *testing.T) {
	ctx := context.Background()
	c := harness.Client(t)
	cacheRef := harness.Registry(t) + "/cache/org.example.hello:buildcache"

	first := buildWithCache(t, c, []client.CacheOptionsEntry{{
		Type:  "registry",
		Attrs: map[string]string{"ref": cacheRef, "mode": "max"},
	}}, nil)
	if _, ok := first.install(); !ok {
		t.Fatalf("the first build has no install step; its steps:\n%s", first.names())
	}
	// Every step runs the one helper source: marshalled with a unique ID
	// of its own each time, it would be sent once per step.
	if n := first.count("[internal] load the flatpak-frontend binary"); n != 1 {
		t.Errorf("the first build loaded the helper binary as %d sources, want 1; its steps:\n%s", n, first.names())
	}

	// The second runner: nothing of the first build is left.
	if err := c.Prune(ctx, nil, client.PruneAll); err != nil {
		t.Fatal(err)
	}
	du, err := c.DiskUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(du) != 0 {
		t.Fatalf("the daemon still has %d cache records after prune --all", len(du))
	}

	second := buildWithCache(t, c, nil, []client.CacheOptionsEntry{{
		Type:  "registry",
		Attrs: map[string]string{"ref": cacheRef},
	}})
	v, ok := second.install()
	if !ok {
		t.Fatalf("the second build has no install step; its steps:\n%s", second.names())
	}
	if !v.Cached {
		t.Errorf("with --cache-from the registry, %q ran again instead of coming from the cache; the second build's steps:\n%s", v.Name, second.names())
	}
}

// vertices are a build's steps by digest, as its progress reported them.
type vertices map[string]*client.Vertex

// install is the install step ("install N packages").
func (vs vertices) install() (*client.Vertex, bool) {
	for _, v := range vs {
		if strings.HasPrefix(v.Name, "install ") && strings.Contains(v.Name, " package") {
			return v, true
		}
	}
	return nil, false
}

// count is how many steps have a name starting with prefix.
func (vs vertices) count(prefix string) int {
	n := 0
	for _, v := range vs {
		if strings.HasPrefix(v.Name, prefix) {
			n++
		}
	}
	return n
}

func (vs vertices) names() string {
	var b strings.Builder
	for _, v := range vs {
		state := "ran"
		if v.Cached {
			state = "cached"
		}
		fmt.Fprintf(&b, "  %-6s %s\n", state, v.Name)
	}
	return b.String()
}

// buildWithCache builds the example app in-process, as build does, with
// cache exports and imports (which localbuild.Options do not offer).
func buildWithCache(t *testing.T, c *client.Client, exports, imports []client.CacheOptionsEntry) vertices {
	t.Helper()
	dir := exampleDir(t)
	rt := harness.Runtime(t)
	mounts := map[string]fsutil.FS{}
	for name, d := range map[string]string{"context": dir, "dockerfile": dir, "rpms": harness.RPMRepo(t)} {
		fs, err := fsutil.NewFS(d)
		if err != nil {
			t.Fatal(err)
		}
		mounts[name] = fs
	}
	h, err := localbuild.NewHelper("")
	if err != nil {
		t.Fatal(err)
	}
	mounts[localbuild.HelperContext] = h.FS
	opt := client.SolveOpt{
		FrontendAttrs: map[string]string{
			"filename":        "flatpak.yaml",
			"context:rpms":    "local:rpms",
			"context:runtime": "oci-layout://" + harness.RuntimeStoreID + "@" + rt.Digest,
		},
		LocalMounts:  mounts,
		OCIStores:    rt.OCIStores(t),
		CacheExports: exports,
		CacheImports: imports,
		Exports: []client.ExportEntry{{
			Type:      client.ExporterOCI,
			Attrs:     map[string]string{"tar": "false"},
			OutputDir: filepath.Join(t.TempDir(), "oci"),
		}},
	}
	vs := vertices{}
	ch := make(chan *client.SolveStatus)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for st := range ch {
			for _, v := range st.Vertexes {
				vs[v.Digest.String()] = v
			}
		}
	}()
	_, err = c.Build(context.Background(), opt, "flatpak-frontend", frontend.BuildWith(h.Frontend()), ch)
	<-done
	if err != nil {
		t.Fatalf("build with cache exports %v, imports %v: %v", exports, imports, err)
	}
	return vs
}

// TestBuildCommandExportsAndImportsItsCache is the same CI story through
// `flatpak-frontend build`: the first run of a job names caches that do not
// exist yet, a local one and a registry's (--cache-from), and exports to it and to a registry
// (--cache-to, whose mode is then max: BuildKit's min would leave out the
// install, whose report the frontend reads); runners with an empty daemon then import from either (the
// registry by its reference alone, as buildx takes it) and install nothing.
func TestBuildCommandExportsAndImportsItsCache(t *testing.T) {
	ctx := context.Background()
	c := harness.Client(t)
	fp := harness.Flatpak(t)
	local := filepath.Join(t.TempDir(), "cache")
	ref := harness.Registry(t) + "/cache/org.example.hello:cmd"
	prune := func() {
		t.Helper()
		if err := c.Prune(ctx, nil, client.PruneAll); err != nil {
			t.Fatal(err)
		}
	}
	const installed = "Installing       : hello"

	prune()
	_, stderr := runCmd(t, buildCmd(t, fp, harness.Addr(), "--output", "oci:"+t.TempDir(),
		"--cache-from", "type=local,src="+local, "--cache-from", ref,
		"--cache-to", "type=local,dest="+local, "--cache-to", "type=registry,ref="+ref))
	if !strings.Contains(stderr, "no cache in "+local+" yet") {
		t.Errorf("the first build does not say that %s holds no cache yet:\n%s", local, stderr)
	}
	if !strings.Contains(stderr, installed) {
		t.Fatalf("the first build, on an empty daemon, installed nothing:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(local, "index.json")); err != nil {
		t.Fatalf("--cache-to type=local wrote no cache: %v", err)
	}

	for _, from := range []string{"type=local,src=" + local, ref} {
		prune()
		_, stderr := runCmd(t, buildCmd(t, fp, harness.Addr(), "--output", "oci:"+t.TempDir(), "--cache-from", from))
		if strings.Contains(stderr, installed) || !strings.Contains(stderr, "CACHED") {
			t.Errorf("with --cache-from %s on an empty daemon the packages were installed again:\n%s", from, stderr)
		}
	}
}
