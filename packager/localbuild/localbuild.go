package localbuild

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/flatpak-frontend/flatpak-frontend/frontend"
	"github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	"github.com/flatpak-frontend/flatpak-frontend/oci/registryauth"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/ociindex"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/util/progress/progressui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// Options is one build.
type Options struct {
	// File is the flatpak.yaml to build; ContextDir the main build context
	// (default: the file's folder).
	File       string
	ContextDir string
	// BuildArgs are --build-arg NAME=VALUE.
	BuildArgs map[string]string
	// Contexts are --build-context NAME=VALUE with VALUE one of
	// oci-layout://DIR[@DIGEST], docker-image://REF or a local folder.
	Contexts map[string]string
	// Platforms are --platform values.
	Platforms []string
	// Secrets are --secret id=ID,src=FILE.
	Secrets []secretsprovider.Source
	NoCache bool
	// CacheTo and CacheFrom are --cache-to and --cache-from (see
	// CacheEntry): where the build cache is exported to and imported from.
	CacheTo, CacheFrom []client.CacheOptionsEntry
	// Progress is auto, tty, plain or quiet; output goes to ProgressOut
	// (default stderr).
	Progress    string
	ProgressOut io.Writer
	// OCIDir receives the image as an OCI layout directory, when set.
	OCIDir string
	// BlobPool, when set, is a folder of blobs shared by builds (see
	// exportStore); it must be on OCIDir's file system to save anything.
	BlobPool string
	// Push is an image reference to push to, when set.
	Push string
	// Attrs are extra frontend options.
	Attrs map[string]string
	// Helper is the flatpak-frontend binary the build steps run: this
	// program when empty (and $FLATPAK_FRONTEND_HELPER is not set).
	Helper string
}

// Result is what a build produced.
type Result struct {
	// Digest is the image's manifest (or index) digest.
	Digest string
	// Response is the exporter response.
	Response map[string]string
}

// Build solves the spec with the frontend on the daemon behind c.
func Build(ctx context.Context, c *client.Client, o Options) (*Result, error) {
	// The exporter writes into a folder beside OCIDir; only a finished
	// export replaces what OCIDir held (see publishLayout).
	ociDir := o.OCIDir
	if ociDir != "" {
		staging, err := stageDir(ociDir)
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(staging)
		o.OCIDir = staging
	}
	solveOpt, release, err := o.solveOpt()
	if err != nil {
		return nil, err
	}
	defer release()
	h, err := NewHelper(o.Helper)
	if err != nil {
		return nil, err
	}
	solveOpt.LocalMounts[HelperContext] = h.FS
	out := o.ProgressOut
	if out == nil {
		out = os.Stderr
	}
	for _, n := range cacheNotes(o.CacheFrom) {
		fmt.Fprintf(out, "flatpak-frontend: %s\n", n)
	}
	mode := progressui.DisplayMode(o.Progress)
	if mode == "" {
		mode = progressui.AutoMode
	}
	d, err := progressui.NewDisplay(out, mode)
	if err != nil {
		return nil, fmt.Errorf("--progress %s: %w", o.Progress, err)
	}

	ch := make(chan *client.SolveStatus)
	eg, ectx := errgroup.WithContext(ctx)
	var resp *client.SolveResponse
	eg.Go(func() error {
		var err error
		resp, err = c.Build(ectx, *solveOpt, "flatpak-frontend", frontend.BuildWith(h.Frontend()), ch)
		return err
	})
	var warnings []client.VertexWarning
	eg.Go(func() error {
		var err error
		warnings, err = d.UpdateFrom(context.WithoutCancel(ectx), ch)
		return err
	})
	err = eg.Wait()
	printWarnings(out, warnings)
	if err != nil {
		return nil, err
	}
	if o.OCIDir != "" {
		if err := writeIndex(o.OCIDir, resp.ExporterResponse); err != nil {
			return nil, err
		}
		if err := ocilayout.ExposeFlatpakImages(o.OCIDir); err != nil {
			return nil, err
		}
		if err := publishLayout(o.OCIDir, ociDir); err != nil {
			return nil, fmt.Errorf("write the OCI layout %s: %w", ociDir, err)
		}
		if o.BlobPool != "" {
			prunePool(o.BlobPool)
		}
	}
	return &Result{Digest: resp.ExporterResponse["containerimage.digest"], Response: resp.ExporterResponse}, nil
}

// solveOpt is the solve's options; release closes the OCI archives its
// contexts read from, once the solve is over.
func (o Options) solveOpt() (opt *client.SolveOpt, release func(), err error) {
	if err := o.Check(); err != nil {
		return nil, nil, err
	}
	var closers []io.Closer
	release = func() {
		for _, c := range closers {
			c.Close()
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	file, err := filepath.Abs(o.File)
	if err != nil {
		return nil, nil, err
	}
	ctxDir := o.ContextDir
	if ctxDir == "" {
		ctxDir = filepath.Dir(file)
	}
	ctxFS, err := fsutil.NewFS(ctxDir)
	if err != nil {
		return nil, nil, fmt.Errorf("build context: %w", err)
	}
	fileFS, err := fsutil.NewFS(filepath.Dir(file))
	if err != nil {
		return nil, nil, err
	}
	attrs := map[string]string{"filename": filepath.Base(file)}
	for k, v := range o.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	if len(o.Platforms) > 0 {
		attrs["platform"] = strings.Join(o.Platforms, ",")
	}
	if o.NoCache {
		attrs["no-cache"] = ""
	}
	maps.Copy(attrs, o.Attrs)
	opt = &client.SolveOpt{
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": fileFS},
		OCIStores:     map[string]content.Store{},
		FrontendAttrs: attrs,
		CacheExports:  o.CacheTo,
		CacheImports:  o.CacheFrom,
		// The user's registry logins, for the daemon's pulls and --push,
		// as docker buildx and buildctl attach them.
		Session: []session.Attachable{registryauth.Session()},
	}
	for name, v := range o.Contexts {
		c, err := AddContext(opt, name, v)
		if err != nil {
			return nil, nil, fmt.Errorf("--build-context %s=%s: %w", name, v, err)
		}
		if c != nil {
			closers = append(closers, c)
		}
	}
	if len(o.Secrets) > 0 {
		store, err := secretsprovider.NewStore(o.Secrets)
		if err != nil {
			return nil, nil, fmt.Errorf("--secret: %w", err)
		}
		opt.Session = append(opt.Session, secretsprovider.NewSecretProvider(store))
	}
	if o.OCIDir != "" {
		store, err := newExportStore(o.OCIDir, o.BlobPool)
		if err != nil {
			return nil, nil, err
		}
		opt.Exports = append(opt.Exports, client.ExportEntry{
			Type: client.ExporterOCI,
			// zstd: BuildKit's gzip is single-threaded and the slowest
			// part of an export; flatpak imports zstd layers.
			Attrs:       map[string]string{"tar": "false", "compression": "zstd"},
			OutputStore: store,
		})
	}
	if o.Push != "" {
		opt.Exports = append(opt.Exports, client.ExportEntry{
			Type:  client.ExporterImage,
			Attrs: map[string]string{"name": o.Push, "push": "true"},
		})
	}
	return opt, release, nil
}

// printWarnings lists the build's warnings after its progress, each with
// the spec lines it is about, as buildx does.
func printWarnings(w io.Writer, warnings []client.VertexWarning) {
	if len(warnings) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%d warning%s found:\n", len(warnings), map[bool]string{true: "", false: "s"}[len(warnings) == 1])
	for _, wn := range warnings {
		where := ""
		if wn.SourceInfo != nil && len(wn.Range) > 0 {
			where = fmt.Sprintf(" (%s:%d)", wn.SourceInfo.Filename, wn.Range[0].Start.Line)
		}
		fmt.Fprintf(w, " - %s%s\n", wn.Short, where)
		for _, d := range wn.Detail {
			fmt.Fprintf(w, "   %s\n", d)
		}
	}
}

// AddContext maps one named context the way buildx does: an OCI layout
// (a folder, or here also an OCI archive of one) becomes an OCI store of
// the session, a folder a local mount. The closer, when not nil, closes the
// archive once the solve is over.
func AddContext(opt *client.SolveOpt, name, v string) (io.Closer, error) {
	switch {
	case strings.HasPrefix(v, ocilayout.RefPrefix):
		r, _ := ocilayout.ParseRef(v)
		l, err := ocilayout.OpenLocal(r.Dir)
		if err != nil {
			return nil, err
		}
		dgst := r.Digest
		if dgst == "" {
			dgst, err = imageDigest(l, r.Tag)
			if err != nil {
				l.Close()
				return nil, err
			}
		}
		storeID := "context-" + name
		opt.OCIStores[storeID] = l.Store()
		opt.FrontendAttrs["context:"+name] = "oci-layout://" + storeID + "@" + dgst
		return l, nil
	case strings.Contains(v, "://"):
		opt.FrontendAttrs["context:"+name] = v
	default:
		fs, err := fsutil.NewFS(v)
		if err != nil {
			return nil, err
		}
		opt.LocalMounts[name] = fs
		opt.FrontendAttrs["context:"+name] = "local:" + name
	}
	return nil, nil
}

// LayoutRef is the Flatpak ref an OCI layout's image is annotated with.
func LayoutRef(dir string) (string, error) {
	l, err := ocilayout.OpenLocal(dir)
	if err != nil {
		return "", err
	}
	defer l.Close()
	idx, err := l.Index()
	if err != nil {
		return "", err
	}
	d, err := flatpakImage(dir, idx)
	if err != nil {
		return "", err
	}
	return d.Annotations[ocispecs.AnnotationRefName], nil
}

// LayoutDigest is the digest of the image an OCI layout (a folder or an
// OCI archive) holds: see imageDigest.
func LayoutDigest(p string) (string, error) {
	l, err := ocilayout.OpenLocal(p)
	if err != nil {
		return "", err
	}
	defer l.Close()
	return imageDigest(l, "")
}

// imageDigest is the digest of the image of l index.json names tag, or
// without a tag of the one image l holds: the one entry of index.json, or
// the one named with a Flatpak ref.
func imageDigest(l *ocilayout.Local, tag string) (string, error) {
	idx, err := l.Index()
	if err != nil {
		return "", err
	}
	if tag != "" {
		ms, err := ocilayout.Ref{Dir: l.Path, Tag: tag}.Select(idx)
		if err != nil {
			return "", err
		}
		return ms[0].Digest.String(), nil
	}
	if len(idx.Manifests) == 1 {
		return idx.Manifests[0].Digest.String(), nil
	}
	d, err := flatpakImage(l.Path, idx)
	if err != nil {
		return "", err
	}
	return d.Digest.String(), nil
}

// flatpakImage is the one image of a layout named with a Flatpak ref.
func flatpakImage(dir string, idx *ocispecs.Index) (*ocispecs.Descriptor, error) {
	var found []ocispecs.Descriptor
	for _, m := range idx.Manifests {
		if ref := m.Annotations[ocispecs.AnnotationRefName]; strings.Count(ref, "/") == 3 {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%s holds %d images named with a Flatpak ref; name one with oci-layout://%s@DIGEST", dir, len(found), dir)
	}
	return &found[0], nil
}

// writeIndex records the exported image in the layout's index.json, as
// the client does for an export to a folder (it does not for a store).
func writeIndex(dir string, resp map[string]string) error {
	dt, err := base64.StdEncoding.DecodeString(resp[exptypes.ExporterImageDescriptorKey])
	if err != nil || len(dt) == 0 {
		return fmt.Errorf("the export named no image descriptor")
	}
	var desc ocispecs.Descriptor
	if err := json.Unmarshal(dt, &desc); err != nil {
		return err
	}
	names := []ociindex.NameOrTag{ociindex.Tag("latest")}
	if n := resp[exptypes.ExporterImageNameKey]; n != "" {
		names = nil
		for _, name := range strings.Split(n, ",") {
			names = append(names, ociindex.Name(name))
		}
	}
	return ociindex.NewStoreIndex(dir).Put(desc, names...)
}
