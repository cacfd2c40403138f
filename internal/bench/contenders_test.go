//go:build bench

package bench

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	contentlocal "github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sys/unix"
)

// baseFinishArgs are the benchmark app's finish-args; the Containerfile's
// prepared metadata (testdata/containerfile/metadata) says the same.
var baseFinishArgs = []string{
	"--share=ipc",
	"--socket=wayland",
	"--socket=fallback-x11",
	"--filesystem=xdg-documents:ro",
	"--talk-name=org.freedesktop.Notifications",
	"--env=BENCH_STYLE=fast",
}

// app is one flatpak.yaml of the benchmark.
type app struct {
	ID         string
	Packages   []string
	FinishArgs []string
}

func mainApp() app {
	return app{ID: mainID, Packages: mainPackages, FinishArgs: baseFinishArgs}
}

// runtimeStoreID is the OCI store the runtime is served from, as
// localbuild names the store of --build-context runtime=oci-layout://...
const runtimeStoreID = "context-runtime"

// env is the benchmark's daemon, fixtures and scratch space.
type env struct {
	t        *testing.T
	c        *client.Client
	rt       harness.RuntimeImage
	rpms     string
	work     string
	pristine string // the runtime's files/, unpacked for the host pipeline
	yamlTmpl *template.Template
	n        int
}

func (e *env) tempDir(what string) string {
	e.n++
	d := filepath.Join(e.work, fmt.Sprintf("%03d-%s", e.n, what))
	if err := os.MkdirAll(d, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// cold empties the daemon's cache and the client's blob pool and imports
// the runtime again, so the next build starts where a fresh daemon with the
// runtime pulled would.
func (e *env) cold(ctx context.Context) error {
	if err := e.c.Prune(ctx, nil, client.PruneAll); err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	// The clients' blob pools (in-process builds', the command's) are
	// caches too; the command's copy of itself for the steps is not (it
	// is made once per version of the tool, see frontendCLI).
	for _, d := range []string{"blobs", filepath.Join("cli-cache", "blobs")} {
		if err := os.RemoveAll(filepath.Join(e.work, d)); err != nil {
			return err
		}
	}
	du, err := e.c.DiskUsage(ctx)
	if err != nil {
		return err
	}
	var left int64
	for _, r := range du {
		left += r.Size
	}
	if left > 1<<20 {
		logf("after prune %d records (%d bytes) are left", len(du), left)
	}
	// The same source the runtime named context turns into, so the
	// frontend's and the Dockerfile frontend's loads find it cached.
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	st := llb.OCILayout("docker.io/library/runtime@"+e.rt.Digest, llb.OCIStore("", runtimeStoreID), llb.Platform(p))
	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return err
	}
	if err := e.unpack(ctx, def, client.SolveOpt{OCIStores: e.runtimeStores()}, "/files"); err != nil {
		return fmt.Errorf("import the runtime: %w", err)
	}
	// Write back what the prune and the import left dirty, so that the
	// next build, whichever contender it is, does not pay for it.
	unix.Sync()
	return nil
}

// unpack solves def and lists the folder dir of the result, which mounts
// it and so unpacks its layers: a solve alone leaves them lazy, and the
// next build would pay for unpacking.
func (e *env) unpack(ctx context.Context, def *llb.Definition, opt client.SolveOpt, dir string) error {
	_, err := e.c.Build(ctx, opt, "", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		res, err := gw.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
		if err != nil {
			return nil, err
		}
		ref, err := res.SingleRef()
		if err != nil {
			return nil, err
		}
		_, err = ref.ReadDir(ctx, gateway.ReadDirRequest{Path: dir})
		return res, err
	}, nil)
	return err
}

// mustCold is cold for a test that cannot go on without it.
func (e *env) mustCold(ctx context.Context) {
	e.t.Helper()
	if err := e.cold(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) runtimeStores() map[string]content.Store {
	store, err := contentlocal.NewStore(e.rt.Dir)
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]content.Store{runtimeStoreID: store}
}

// result is one timed build.
type result struct {
	Seconds float64            `json:"seconds"`
	Steps   []step             `json:"steps,omitempty"`
	Parts   map[string]float64 `json:"parts,omitempty"` // host pipeline
	// CPU is the CPU time buildkitd, its children and the benchmark used
	// (concurrent scenarios).
	CPU float64 `json:"cpu,omitempty"`
	// RSS is the flatpak-frontend command's peak resident memory and
	// DaemonRSS buildkitd's during the build, in MiB (cliBuild).
	RSS       float64 `json:"rss_mib,omitempty"`
	DaemonRSS float64 `json:"daemon_rss_mib,omitempty"`
	// AppBytes is the size of the files installed under /app (floor).
	AppBytes int64  `json:"app_bytes,omitempty"`
	OCI      string `json:"oci"`
	trace    *trace
}

// frontendBuild builds an app with this frontend, in-process, as the
// integration tests do, into the OCI layout out (a new folder when empty).
func (e *env) frontendBuild(ctx context.Context, c *client.Client, a app, out string) (*result, error) {
	dir := e.tempDir("frontend-" + a.ID)
	var b bytes.Buffer
	if err := e.yamlTmpl.Execute(&b, a); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "flatpak.yaml"), b.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if out == "" {
		out = filepath.Join(dir, "oci")
	}
	start := time.Now()
	tr := newTrace(start)
	_, err := localbuild.Build(ctx, c, localbuild.Options{
		File:       filepath.Join(dir, "flatpak.yaml"),
		ContextDir: dir,
		Contexts: map[string]string{
			"rpms":    e.rpms,
			"runtime": "oci-layout://" + e.rt.Dir + "@" + e.rt.Digest,
		},
		Progress:    "rawjson",
		ProgressOut: tr,
		OCIDir:      out,
		// As flatpak-frontend build does: blobs any build wrote are
		// linked, not sent again.
		BlobPool: filepath.Join(e.work, "blobs"),
	})
	d := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("frontend build of %s: %w", a.ID, err)
	}
	return &result{Seconds: d.Seconds(), Steps: tr.steps(), OCI: out, trace: tr}, nil
}

// containerfileBuild builds the main app, with packages pkgs, from
// testdata/containerfile with the Dockerfile frontend built into buildkitd.
func (e *env) containerfileBuild(ctx context.Context, pkgs []string) (*result, error) {
	return e.containerfile(ctx, "containerfile", map[string]string{"PACKAGES": strings.Join(pkgs, " ")})
}

// containerfile builds testdata/NAME/Containerfile, with its build args,
// the runtime and the repo as the named contexts runtime and rpms.
func (e *env) containerfile(ctx context.Context, name string, args map[string]string) (*result, error) {
	cfDir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{"filename": "Containerfile"}
	for k, v := range args {
		attrs["build-arg:"+k] = v
	}
	out := filepath.Join(e.tempDir("containerfile"), "oci")
	daemon := buildkitdPID()
	resetPeakRSS(daemon)
	r, err := e.solveFromDir(ctx, "dockerfile.v0", attrs, cfDir, out, nil)
	if err != nil {
		return nil, fmt.Errorf("Containerfile build: %w", err)
	}
	// The Dockerfile frontend runs inside buildkitd: its memory is in
	// this figure, where this frontend's is the command's.
	r.DaemonRSS = peakRSS(daemon)
	r.OCI = out
	return r, nil
}

// solveFromDir times a build by frontend (with attrs) of dir, both its
// context and the folder of its build file, with the runtime and the repo
// as the named contexts runtime and rpms, exported as an OCI layout to out
// (with the exporter's extra attrs).
func (e *env) solveFromDir(ctx context.Context, frontend string, attrs map[string]string, dir, out string, export map[string]string) (*result, error) {
	dirFS, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	rpmsFS, err := fsutil.NewFS(e.rpms)
	if err != nil {
		return nil, err
	}
	attrs = maps.Clone(attrs)
	attrs["context:runtime"] = "oci-layout://" + runtimeStoreID + "@" + e.rt.Digest
	attrs["context:rpms"] = "local:rpms"
	exportAttrs := map[string]string{"tar": "false"}
	maps.Copy(exportAttrs, export)
	return e.solveTimed(ctx, client.SolveOpt{
		Frontend:      frontend,
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": dirFS, "dockerfile": dirFS, "rpms": rpmsFS},
		OCIStores:     e.runtimeStores(),
		Exports:       []client.ExportEntry{{Type: client.ExporterOCI, Attrs: exportAttrs, OutputDir: out}},
	})
}

// solveTimed runs the solve opt describes and times it, with its steps.
func (e *env) solveTimed(ctx context.Context, opt client.SolveOpt) (*result, error) {
	start := time.Now()
	tr := newTrace(start)
	ch := make(chan *client.SolveStatus)
	done := make(chan struct{})
	go func() { tr.consume(ch); close(done) }()
	_, err := e.c.Solve(ctx, nil, opt, ch)
	d := time.Since(start)
	<-done
	if err != nil {
		return nil, err
	}
	return &result{Seconds: d.Seconds(), Steps: tr.steps(), trace: tr}, nil
}

// prepareHostRuntime unpacks the runtime image's files/ once; every host
// pipeline run copies it.
func (e *env) prepareHostRuntime(ctx context.Context) (err error) {
	e.pristine, err = unpackRuntime(ctx, e.rt, filepath.Join(e.work, "runtime-tree"))
	return err
}

// toolsBuild is the classic pipeline on the host: dnf --installroot of
// the main app with packages pkgs into a copy of the runtime tree, flatpak
// build-finish, build-export and build-bundle --oci.
func (e *env) toolsBuild(ctx context.Context, t *testing.T, pkgs []string) (*result, error) {
	work := e.tempDir("flatpak-tools")
	root := filepath.Join(work, "root")
	home := filepath.Join(work, "home")
	build := filepath.Join(work, "build")
	out := filepath.Join(work, "oci")
	fp := harness.Flatpak(t) // its ostree repo receives the export
	for _, d := range []string{root, home, build} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// Debian's rpm keeps its database in ~/.rpmdb; the runtime's is where
	// Fedora keeps it.
	if err := os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath /usr/lib/sysimage/rpm\n"), 0o644); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "HOME="+home)
	parts := map[string]float64{}
	timed := func(name string, f func() error) error {
		start := time.Now()
		err := f()
		parts[name] += time.Since(start).Seconds()
		return err
	}
	start := time.Now()
	steps := []struct {
		name string
		f    func() error
	}{
		{"copy runtime tree", func() error { return e.copyRuntimeTree(ctx, root) }},
		{"dnf --installroot", func() error {
			args := []string{"-y", "--installroot=" + root, "--releasever=1",
				"--setopt=install_weak_deps=False", "--setopt=keepcache=True",
				"--setopt=reposdir=/dev/null", "--repofrompath=bench,file://" + e.rpms,
				"--setopt=bench.gpgcheck=0", "install"}
			return runCmd(ctx, "", env, "dnf", append(args, pkgs...)...)
		}},
		{"flatpak build-finish", func() error {
			if err := os.Rename(filepath.Join(root, "app"), filepath.Join(build, "files")); err != nil {
				return err
			}
			md := "[Application]\nname=" + mainID + "\nruntime=" + harness.RuntimeID + "/x86_64/" + harness.RuntimeBranch +
				"\nsdk=" + harness.RuntimeID + "/x86_64/" + harness.RuntimeBranch + "\n"
			if err := os.WriteFile(filepath.Join(build, "metadata"), []byte(md), 0o644); err != nil {
				return err
			}
			_, err := fp.Command(append([]string{"build-finish", "--command=bench"}, append(baseFinishArgs, build)...)...)
			return err
		}},
		{"flatpak build-export", func() error {
			_, err := fp.Command("build-export", fp.Repo, build, "stable")
			return err
		}},
		{"flatpak build-bundle --oci", func() error {
			_, err := fp.Command("build-bundle", "--oci", fp.Repo, out, mainID, "stable")
			return err
		}},
	}
	for _, s := range steps {
		if err := timed(s.name, s.f); err != nil {
			return nil, fmt.Errorf("host pipeline, %s: %w", s.name, err)
		}
	}
	d := time.Since(start)
	// The copy is large; remove it outside the timing.
	exec.Command("rm", "-rf", root).Run()
	return &result{Seconds: d.Seconds(), Parts: parts, OCI: out}, nil
}

func readJSON(path string, v any) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(dt, v)
}

func blobPath(dir string, d ocispecs.Descriptor) string {
	return filepath.Join(dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded())
}

// imageSize is the compressed size of an OCI layout's one image: its
// layers, as a registry stores them and Flatpak downloads them.
func imageSize(dir string) (layers int64, n int, err error) {
	var idx ocispecs.Index
	if err := readJSON(filepath.Join(dir, "index.json"), &idx); err != nil {
		return 0, 0, err
	}
	if len(idx.Manifests) != 1 {
		return 0, 0, fmt.Errorf("%s holds %d manifests", dir, len(idx.Manifests))
	}
	var mf ocispecs.Manifest
	if err := readJSON(blobPath(dir, idx.Manifests[0]), &mf); err != nil {
		return 0, 0, err
	}
	for _, l := range mf.Layers {
		layers += l.Size
	}
	return layers, len(mf.Layers), nil
}

// archBuild builds harness.NativeSpec (the compiled app of the foreign-arch
// tests) for one platform, from nothing (--no-cache),
// on the multi-arch test runtime: on this x86_64 machine linux/arm64 is
// the foreign build (the runtime's x86_64 installer with --forcearch) and
// linux/amd64 the native one.
func (e *env) archBuild(ctx context.Context, t testing.TB, platform string) (*result, error) {
	dir := e.tempDir("arch-" + strings.ReplaceAll(platform, "/", "-"))
	if err := os.WriteFile(filepath.Join(dir, "flatpak.yaml"), []byte(harness.NativeSpec), 0o644); err != nil {
		return nil, err
	}
	// The fixtures first: made on first use (the arm64 runtime takes a
	// minute and a half), they are no part of the build's time.
	contexts := map[string]string{
		"rpms":    harness.NativeRPMRepo(t),
		"runtime": "oci-layout://" + harness.MultiArchRuntime(t),
	}
	start := time.Now()
	tr := newTrace(start)
	_, err := localbuild.Build(ctx, e.c, localbuild.Options{
		File:        filepath.Join(dir, "flatpak.yaml"),
		ContextDir:  dir,
		Contexts:    contexts,
		Platforms:   []string{platform},
		NoCache:     true,
		Progress:    "rawjson",
		ProgressOut: tr,
		OCIDir:      filepath.Join(dir, "oci"),
	})
	if err != nil {
		return nil, fmt.Errorf("build for %s: %w", platform, err)
	}
	return &result{Seconds: time.Since(start).Seconds(), Steps: tr.steps(), OCI: filepath.Join(dir, "oci"), trace: tr}, nil
}

// imageHas reports whether an OCI layout's one image holds path (as its
// layers name it, without a leading "./" or "/").
func imageHas(dir, path string) (bool, error) {
	var idx ocispecs.Index
	if err := readJSON(filepath.Join(dir, "index.json"), &idx); err != nil {
		return false, err
	}
	if len(idx.Manifests) != 1 {
		return false, fmt.Errorf("%s holds %d manifests", dir, len(idx.Manifests))
	}
	var mf ocispecs.Manifest
	if err := readJSON(blobPath(dir, idx.Manifests[0]), &mf); err != nil {
		return false, err
	}
	for _, l := range mf.Layers {
		found, err := layerHas(blobPath(dir, l), path)
		if err != nil || found {
			return found, err
		}
	}
	return false, nil
}

// layerHas reports whether a layer blob (gzip, zstd or plain tar) holds path.
func layerHas(blob, path string) (bool, error) {
	f, err := os.Open(blob)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r, err := compression.DecompressStream(f)
	if err != nil {
		return false, fmt.Errorf("%s: %w", blob, err)
	}
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("%s: %w", blob, err)
		}
		if strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/") == path {
			return true, nil
		}
	}
}
