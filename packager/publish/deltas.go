package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
	"github.com/flatpak-frontend/flatpak-frontend/oci/tardiff"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Flatpak's OCI deltas (flatpak-oci-specs, image-deltas.md): a repository's
// delta manifests are listed by an image index tagged deltaIndexTag, each
// entry annotated with the image it rebuilds (annotationTarget). A delta
// manifest's layers are tar-diffs, each annotated with the layer it
// rebuilds (its DiffID, annotationTo) and the old image it needs
// (annotationFrom: the DiffID of the old image's last layer, which is what
// Flatpak records in the commit it installed, xa.diff-id).
const (
	deltaIndexTag    = "_deltaindex"
	deltaConfigType  = "application/vnd.redhat.delta.config.v1+json"
	annotationTarget = "io.github.containers.delta.target"
	annotationFrom   = "io.github.containers.delta.from"
	annotationTo     = "io.github.containers.delta.to"
	// annotationSources, this tool's own, on a delta index entry: the
	// images (manifest digests, comma-separated, newest first) its
	// delta manifest rebuilds the target from.
	annotationSources = "org.flatpak-frontend.delta.sources"
)

// DefaultDeltaDepth is how many earlier versions of an image get deltas to
// it: users who skipped updates save too.
const DefaultDeltaDepth = 3

// deltaConfig is every delta manifest's config: an empty JSON object.
var deltaConfig = []byte("{}")

// deltaPair is an image of the index and the one the previous publish
// named for the same repository, tag and Flatpak ref: what users have.
type deltaPair struct {
	repo, ref string
	from, to  string
}

// previousImages are the images the remote's index files in out named
// before this publish: repository -> tag -> Flatpak ref -> digest.
func previousImages(out string) map[string]map[string]map[string]string {
	prev := map[string]map[string]map[string]string{}
	files, _ := filepath.Glob(filepath.Join(out, "index", "static.d", "*", "*.json"))
	for _, f := range files {
		dt, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		resp, err := remoteindex.Parse(dt)
		if err != nil {
			continue
		}
		tag := filepath.Base(filepath.Dir(f))
		for _, r := range resp.Results {
			imgs := r.Images
			for _, l := range r.Lists {
				imgs = append(imgs, l.Images...)
			}
			for _, img := range imgs {
				if prev[r.Name] == nil {
					prev[r.Name] = map[string]map[string]string{}
				}
				if prev[r.Name][tag] == nil {
					prev[r.Name][tag] = map[string]string{}
				}
				prev[r.Name][tag][img.Labels[labels.Ref]] = img.Digest
			}
		}
	}
	return prev
}

// deltaPairs are the images of the new indexes that replace another image
// of the same repository, tag and ref, and every published image by
// repository (the targets a delta index keeps).
func deltaPairs(indexes map[string]map[string]map[string]*remoteindex.Repository, gone map[string]bool, prev map[string]map[string]map[string]string) ([]deltaPair, map[string]map[string]bool) {
	var pairs []deltaPair
	seen := map[deltaPair]bool{}
	published := map[string]map[string]bool{}
	for _, tag := range sortedKeys(indexes) {
		for _, arch := range sortedKeys(indexes[tag]) {
			for _, repo := range sortedKeys(indexes[tag][arch]) {
				r := dropGone(*indexes[tag][arch][repo], gone)
				imgs := r.Images
				for _, l := range r.Lists {
					imgs = append(imgs, l.Images...)
				}
				for _, img := range imgs {
					if published[repo] == nil {
						published[repo] = map[string]bool{}
					}
					published[repo][img.Digest] = true
					ref := img.Labels[labels.Ref]
					from := prev[repo][tag][ref]
					p := deltaPair{repo: repo, ref: ref, from: from, to: img.Digest}
					if from != "" && from != img.Digest && !seen[p] {
						seen[p] = true
						pairs = append(pairs, p)
					}
				}
			}
		}
	}
	return pairs, published
}

// pushDeltas pushes, for each pair whose target has no delta manifest yet,
// the tar-diffs that rebuild the target's layers from the image the pair
// names and from the depth-1 images before it (those its own delta manifest
// was made from), and writes each repository's delta index: the targets
// still published, with their delta manifests. It returns how many delta
// manifests it pushed, and the bytes of their deltas and of the layers
// those stand for. A delta that cannot be made is left out with a
// warning: Flatpak then downloads those layers whole.
func pushDeltas(ctx context.Context, reg name.Registry, ropts []remote.Option, pairs []deltaPair, published map[string]map[string]bool, depth int, warn func(string)) (deltaCounts, error) {
	byRepo := map[string][]deltaPair{}
	for _, p := range pairs {
		byRepo[p.repo] = append(byRepo[p.repo], p)
	}
	var pushed deltaCounts
	for _, repoName := range sortedKeys(published) {
		repo := reg.Repo(repoName)
		idx, err := readDeltaIndex(repo, ropts)
		if err != nil {
			warn(fmt.Sprintf("%s: cannot read its delta index, made again: %v", repoName, err))
			idx = &ocispecs.Index{}
		}
		kept := map[string]ocispecs.Descriptor{}
		sourcesOf := map[string][]string{}
		for _, m := range idx.Manifests {
			t := m.Annotations[annotationTarget]
			if published[repoName][t] {
				kept[t] = m
			}
			if v := m.Annotations[annotationSources]; v != "" {
				sourcesOf[t] = strings.Split(v, ",")
			}
		}
		for _, p := range byRepo[repoName] {
			if _, ok := kept[p.to]; ok {
				continue
			}
			sources := deltaSources(p, sourcesOf[p.from], depth)
			desc, n, err := pushDelta(ctx, repo, ropts, p.to, sources, func(from string, err error) {
				warn(fmt.Sprintf("%s@%s: no delta from %s: %v", repoName, p.to, from, err))
			})
			if err != nil {
				if ctx.Err() != nil {
					return pushed, ctx.Err()
				}
				warn(fmt.Sprintf("%s@%s: no deltas: %v", repoName, p.to, err))
				continue
			}
			if desc != nil {
				kept[p.to] = *desc
				pushed.manifests++
				pushed.deltaBytes += n.deltaBytes
				pushed.layerBytes += n.layerBytes
			}
		}
		if len(kept) == 0 && len(idx.Manifests) == 0 {
			continue
		}
		next := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{}}
		next.SchemaVersion = 2
		for _, t := range sortedKeys(kept) {
			next.Manifests = append(next.Manifests, kept[t])
		}
		dt, err := json.Marshal(next)
		if err != nil {
			return pushed, err
		}
		if err := remote.Put(repo.Tag(deltaIndexTag), rawManifest{dt, types.OCIImageIndex}, ropts...); err != nil {
			return pushed, fmt.Errorf("%s: write the delta index: %w", repoName, err)
		}
	}
	return pushed, nil
}

// deltaSources are the images a delta to p.to is made from: p.from, then
// the images p.from's own deltas came from (earlier the older), depth in
// all, none twice and never the target.
func deltaSources(p deltaPair, earlier []string, depth int) []string {
	out := []string{p.from}
	for _, d := range earlier {
		if len(out) >= depth {
			break
		}
		if d != p.to && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out[:min(len(out), max(depth, 1))]
}

func readDeltaIndex(repo name.Repository, ropts []remote.Option) (*ocispecs.Index, error) {
	desc, err := remote.Get(repo.Tag(deltaIndexTag), ropts...)
	if err != nil {
		if missing(err) {
			return &ocispecs.Index{}, nil
		}
		return nil, err
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(desc.Manifest, &idx); err != nil {
		return nil, err
	}
	return &idx, nil
}

// deltaCounts are delta manifests pushed, the bytes of their deltas and
// of the layers those stand for.
type deltaCounts struct {
	manifests              int
	deltaBytes, layerBytes int64
}

// pushDelta pushes the tar-diffs that rebuild the layers of the image
// target from each of the images sources, and their manifest; nil when no
// layer has a delta worth its size. A source that cannot be used is
// skipped (skipped says why).
func pushDelta(ctx context.Context, repo name.Repository, ropts []remote.Option, target string, sources []string, skipped func(string, error)) (*ocispecs.Descriptor, deltaCounts, error) {
	newImg, err := remote.Image(repo.Digest(target), ropts...)
	if err != nil {
		return nil, deltaCounts{}, err
	}
	newCfg, err := newImg.ConfigFile()
	if err != nil {
		return nil, deltaCounts{}, err
	}
	newLayers, err := newImg.Layers()
	if err != nil {
		return nil, deltaCounts{}, err
	}
	if len(newLayers) != len(newCfg.RootFS.DiffIDs) {
		return nil, deltaCounts{}, fmt.Errorf("the image has %d layers and %d DiffIDs", len(newLayers), len(newCfg.RootFS.DiffIDs))
	}
	dir, err := os.MkdirTemp("", "flatpak-frontend-delta-")
	if err != nil {
		return nil, deltaCounts{}, err
	}
	defer os.RemoveAll(dir)
	// Each new layer is read from the registry once, however many images
	// its deltas are made from.
	for i, l := range newLayers {
		newLayers[i] = &localLayer{Layer: l, path: filepath.Join(dir, fmt.Sprintf("layer-%d.tar", i))}
	}
	mf := ocispecs.Manifest{
		MediaType:   ocispecs.MediaTypeImageManifest,
		Config:      ocispecs.Descriptor{MediaType: deltaConfigType, Digest: digest.FromBytes(deltaConfig), Size: int64(len(deltaConfig))},
		Layers:      []ocispecs.Descriptor{},
		Annotations: map[string]string{annotationTarget: target},
	}
	mf.SchemaVersion = 2
	var used []string
	var n deltaCounts
	for _, from := range sources {
		layers, replaced, err := deltaLayers(repo, ropts, from, newLayers, newCfg.RootFS.DiffIDs, dir)
		if err != nil {
			if ctx.Err() != nil {
				return nil, deltaCounts{}, ctx.Err()
			}
			skipped(from, err)
			continue
		}
		mf.Layers = append(mf.Layers, layers...)
		used = append(used, from)
		for _, l := range layers {
			n.deltaBytes += l.Size
		}
		n.layerBytes += replaced
	}
	if len(mf.Layers) == 0 {
		return nil, deltaCounts{}, nil
	}
	if err := remote.WriteLayer(repo, static.NewLayer(deltaConfig, deltaConfigType), ropts...); err != nil {
		return nil, deltaCounts{}, fmt.Errorf("push the delta config: %w", err)
	}
	dt, err := json.Marshal(mf)
	if err != nil {
		return nil, deltaCounts{}, err
	}
	d := digest.FromBytes(dt)
	if err := remote.Put(repo.Digest(d.String()), rawManifest{dt, types.OCIManifestSchema1}, ropts...); err != nil {
		return nil, deltaCounts{}, fmt.Errorf("push the delta manifest: %w", err)
	}
	return &ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageManifest, Digest: d, Size: int64(len(dt)),
		Annotations: map[string]string{annotationTarget: target, annotationSources: strings.Join(used, ",")}}, n, nil
}

// deltaLayers pushes the tar-diffs that rebuild each of the new layers
// from the image from, and returns their descriptors (those smaller than
// the layer itself) and the bytes of the layers they stand for.
func deltaLayers(repo name.Repository, ropts []remote.Option, from string, newLayers []v1.Layer, diffIDs []v1.Hash, dir string) ([]ocispecs.Descriptor, int64, error) {
	oldImg, err := remote.Image(repo.Digest(from), ropts...)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read the old image: %w", err)
	}
	oldCfg, err := oldImg.ConfigFile()
	if err != nil {
		return nil, 0, err
	}
	if len(oldCfg.RootFS.DiffIDs) == 0 {
		return nil, 0, fmt.Errorf("the old image has no layers")
	}
	// What Flatpak recorded when it installed the old image.
	fromID := oldCfg.RootFS.DiffIDs[len(oldCfg.RootFS.DiffIDs)-1].String()
	oldLayers, err := oldImg.Layers()
	if err != nil {
		return nil, 0, err
	}
	// Flatpak finds the delta by fromID alone: it must be this image's.
	if ok, err := hasContentID(oldLayers[len(oldLayers)-1]); err != nil {
		return nil, 0, fmt.Errorf("read the old image: %w", err)
	} else if !ok {
		return nil, 0, fmt.Errorf("its last layer has no %s (built by another tool or an older flatpak-frontend): other versions may share that layer, and Flatpak would apply the delta to them", tardiff.ContentIDPath)
	}
	// The old image's files a changed file may be described against.
	keep, err := os.MkdirTemp(dir, "old-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(keep)
	src := tardiff.NewDiffingSource(keep)
	for _, l := range oldLayers {
		if err := readLayer(l, src.AddLayer); err != nil {
			return nil, 0, fmt.Errorf("read the old image: %w", err)
		}
	}
	var out []ocispecs.Descriptor
	var replaced int64
	for i, l := range newLayers {
		size, err := l.Size()
		if err != nil {
			return nil, 0, err
		}
		path := filepath.Join(dir, "delta")
		var st tardiff.Stats
		err = readLayer(l, func(r io.Reader) error {
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			st, err = tardiff.Write(f, r, src)
			return errors.Join(err, f.Close())
		})
		if err != nil {
			return nil, 0, fmt.Errorf("layer %d: %w", i, err)
		}
		// The delta must rebuild what the image says the layer is.
		if want := diffIDs[i].String(); st.DiffID != want {
			return nil, 0, fmt.Errorf("layer %d reads as %s, its config says %s", i, st.DiffID, want)
		}
		blob, err := newFileBlob(path)
		if err != nil {
			return nil, 0, err
		}
		if blob.size >= size {
			continue // the layer itself is as small
		}
		if err := remote.WriteLayer(repo, blob, ropts...); err != nil {
			return nil, 0, fmt.Errorf("push the delta of layer %d: %w", i, err)
		}
		out = append(out, ocispecs.Descriptor{MediaType: tardiff.MediaType, Digest: blob.digest, Size: blob.size,
			Annotations: map[string]string{annotationFrom: fromID, annotationTo: st.DiffID}})
		replaced += size
	}
	return out, replaced, nil
}

// hasContentID is true when the layer holds tardiff.ContentIDPath.
func hasContentID(l v1.Layer) (bool, error) {
	var found bool
	err := readLayer(l, func(r io.Reader) (err error) {
		found, err = tardiff.HasContentID(r)
		return err
	})
	return found, err
}

// readLayer calls read with a layer's uncompressed tar.
func readLayer(l v1.Layer, read func(io.Reader) error) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	err = read(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return err
}

// rawManifest is a manifest or index to push as it is.
type rawManifest struct {
	data      []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.data, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// fileBlob is a file pushed as a blob as it is (remote.WriteLayer takes a
// layer; a tar-diff is compressed already and no tar).
type fileBlob struct {
	path   string
	digest digest.Digest
	size   int64
}

func newFileBlob(path string) (*fileBlob, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dg := digest.Canonical.Digester()
	n, err := io.Copy(dg.Hash(), f)
	if err != nil {
		return nil, err
	}
	return &fileBlob{path: path, digest: dg.Digest(), size: n}, nil
}

func (b *fileBlob) Digest() (v1.Hash, error)             { return v1.NewHash(b.digest.String()) }
func (b *fileBlob) DiffID() (v1.Hash, error)             { return b.Digest() }
func (b *fileBlob) Compressed() (io.ReadCloser, error)   { return os.Open(b.path) }
func (b *fileBlob) Uncompressed() (io.ReadCloser, error) { return os.Open(b.path) }
func (b *fileBlob) Size() (int64, error)                 { return b.size, nil }
func (b *fileBlob) MediaType() (types.MediaType, error)  { return tardiff.MediaType, nil }

// localLayer is a layer read from the registry once: its first whole read
// is kept at path, and later reads come from there.
type localLayer struct {
	v1.Layer
	path string
}

func (l *localLayer) Uncompressed() (io.ReadCloser, error) {
	if f, err := os.Open(l.path); err == nil {
		return f, nil
	}
	rc, err := l.Layer.Uncompressed()
	if err != nil {
		return nil, err
	}
	f, err := os.Create(l.path + ".part")
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &keepingReader{rc: rc, f: f, path: l.path}, nil
}

// keepingReader reads rc, writing what it reads to f, which becomes path
// once rc was read to its end and closed without an error.
type keepingReader struct {
	rc   io.ReadCloser
	f    *os.File
	path string
	end  bool
	werr error
}

func (k *keepingReader) Read(p []byte) (int, error) {
	n, err := k.rc.Read(p)
	if n > 0 && k.werr == nil {
		_, k.werr = k.f.Write(p[:n])
	}
	if err == io.EOF {
		k.end = true
	}
	return n, err
}

func (k *keepingReader) Close() error {
	err := k.rc.Close()
	ferr := k.f.Close()
	if k.end && err == nil && ferr == nil && k.werr == nil && os.Rename(k.f.Name(), k.path) == nil {
		return nil
	}
	os.Remove(k.f.Name())
	return err
}
