package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/oci/imagesource"
	"github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Problem is one way an image breaks Flatpak's rules.
type Problem struct {
	// Image names the image: the source and, when known, its Flatpak ref.
	Image string
	// Where is the label, layer entry or file the problem is in.
	Where string
	// Msg says what is wrong and what would be right.
	Msg string
}

func (p Problem) String() string { return p.Image + ": " + p.Where + ": " + p.Msg }

// Report is what Check found in one source.
type Report struct {
	// Source is the layout directory or image reference checked.
	Source string
	// Refs are the Flatpak refs of the images checked.
	Refs []string
	// Problems is empty for a valid image.
	Problems []Problem
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Limits on what is read into memory.
const (
	maxJSONBlob    = 64 << 20
	maxMetadata    = 16 << 20
	maxRefNameList = 1000
)

// Media types of manifests and indexes, OCI and Docker.
const (
	dockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

func isManifest(mt string) bool { return mt == ocispecs.MediaTypeImageManifest || mt == dockerManifest }
func isIndex(mt string) bool    { return mt == ocispecs.MediaTypeImageIndex || mt == dockerManifestList }

// Check verifies every Flatpak image of source: an OCI layout directory
// (also written oci-layout://DIR, with :TAG or @DIGEST for one of its
// images) or a registry reference (also docker-image://REF; registries on
// localhost are spoken to over plain HTTP). The error is for a source that
// cannot be read at all; everything wrong with what could be read is a
// Problem.
func Check(ctx context.Context, source string) (*Report, error) {
	if r, ok := imagesource.LayoutOf(source); ok {
		return CheckLayout(ctx, r)
	}
	return CheckRemote(ctx, source)
}

// CheckLayout verifies the images of an OCI layout directory or OCI
// archive (those r names).
func CheckLayout(ctx context.Context, r ocilayout.Ref) (*Report, error) {
	dir := r.Dir
	l, err := ocilayout.OpenLocal(dir)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	dt, err := fs.ReadFile(l.Files, "index.json")
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI layout: %w", dir, err)
	}
	c := &checker{ctx: ctx, src: l, rep: &Report{Source: dir}}
	var idx ocispecs.Index
	if err := json.Unmarshal(dt, &idx); err != nil {
		c.problem(dir, "index.json", "not valid JSON: %v", err)
		return c.rep, nil
	}
	if _, err := fs.Stat(l.Files, "oci-layout"); err != nil {
		c.problem(dir, "oci-layout", "missing: an OCI layout has an oci-layout file with its version")
	}
	named := map[digest.Digest]string{}
	for _, d := range idx.Manifests {
		if isManifest(d.MediaType) {
			named[d.Digest] = d.Annotations[ocispecs.AnnotationRefName]
		}
	}
	selected, err := r.Select(&idx)
	if err != nil {
		return nil, err
	}
	c.walk(dir, selected, 0)
	if len(c.images) == 0 {
		c.problem(dir, "index.json", "no image manifest")
	}
	for _, im := range c.images {
		if im.ref == "" {
			continue
		}
		name, top := named[im.digest]
		switch {
		case !top:
			c.problem(im.name, "index.json", "the image manifest %s is not listed in index.json, so flatpak build-import-bundle --oci does not find it; list it with annotation %s=%s", im.digest, ocispecs.AnnotationRefName, im.ref)
		case name == "":
			c.problem(im.name, "index.json", "the image manifest %s has no %s annotation; flatpak build-import-bundle --oci needs one, e.g. %q", im.digest, ocispecs.AnnotationRefName, im.ref)
		}
		// Any name will do: build-import-bundle takes the one named image
		// manifest and reads the ref from its org.flatpak.ref label.
		// buildctl and buildx name an OCI layout's image "latest".
	}
	return c.rep, nil
}

// CheckRemote verifies the image (or every image of the index) ref names
// in a registry, read anonymously.
func CheckRemote(ctx context.Context, ref string) (*Report, error) {
	desc, blobs, err := imagesource.Remote(ctx, ref)
	if err != nil {
		return nil, err
	}
	c := &checker{ctx: ctx, src: blobs, rep: &Report{Source: ref}}
	c.walk(ref, []ocispecs.Descriptor{desc}, 0)
	if len(c.images) == 0 {
		c.problem(ref, "manifest", "no image manifest")
	}
	return c.rep, nil
}

type checker struct {
	ctx    context.Context
	src    imagesource.Blobs
	rep    *Report
	images []*imageInfo
	seen   map[digest.Digest]bool
}

type imageInfo struct {
	digest digest.Digest
	name   string
	ref    string
}

func (c *checker) problem(image, where, format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{Image: image, Where: where, Msg: fmt.Sprintf(format, args...)})
}

// walk checks the image manifests among ds, descending into indexes. Index
// entries that are attestations (vnd.docker.reference.type) are skipped.
func (c *checker) walk(name string, ds []ocispecs.Descriptor, depth int) {
	for _, d := range ds {
		switch {
		case d.Annotations["vnd.docker.reference.type"] != "":
		case isManifest(d.MediaType):
			// An image listed at the top and inside an index (see
			// ocilayout.ExposeFlatpakImages) is checked once.
			if c.seen[d.Digest] {
				continue
			}
			if c.seen == nil {
				c.seen = map[digest.Digest]bool{}
			}
			c.seen[d.Digest] = true
			c.image(name, d)
		case isIndex(d.MediaType):
			if depth > 4 {
				c.problem(name, "index "+d.Digest.String(), "indexes nested more than 4 deep")
				continue
			}
			var idx ocispecs.Index
			if err := c.readJSON(d, &idx); err != nil {
				c.problem(name, "index "+d.Digest.String(), "%v", err)
				continue
			}
			c.walk(name, idx.Manifests, depth+1)
		}
	}
}

// readJSON reads a blob that must match its descriptor and be JSON.
func (c *checker) readJSON(d ocispecs.Descriptor, v any) error {
	if d.Size > maxJSONBlob {
		return fmt.Errorf("blob %s is %d bytes, more than a manifest or config may be", d.Digest, d.Size)
	}
	rc, err := c.src.Open(c.ctx, d)
	if err != nil {
		return fmt.Errorf("blob %s cannot be read: %v", d.Digest, err)
	}
	defer rc.Close()
	dt, err := io.ReadAll(io.LimitReader(rc, maxJSONBlob+1))
	if err != nil {
		return fmt.Errorf("blob %s cannot be read: %v", d.Digest, err)
	}
	if int64(len(dt)) != d.Size {
		return fmt.Errorf("blob %s is %d bytes, its descriptor says %d", d.Digest, len(dt), d.Size)
	}
	if got := d.Digest.Algorithm().FromBytes(dt); got != d.Digest {
		return fmt.Errorf("blob %s has digest %s: the blob is corrupt", d.Digest, got)
	}
	if err := json.Unmarshal(dt, v); err != nil {
		return fmt.Errorf("blob %s is not valid JSON: %v", d.Digest, err)
	}
	return nil
}

// image checks one image manifest.
func (c *checker) image(source string, d ocispecs.Descriptor) {
	where := "manifest " + d.Digest.String()
	var mf ocispecs.Manifest
	if err := c.readJSON(d, &mf); err != nil {
		c.problem(source, where, "%v", err)
		return
	}
	var cfg ocispecs.Image
	if err := c.readJSON(mf.Config, &cfg); err != nil {
		c.problem(source, "config "+mf.Config.Digest.String(), "%v", err)
		return
	}
	im := &imageInfo{digest: d.Digest, name: source}
	ref := cfg.Config.Labels[labelRef]
	if ref == "" && !hasFlatpakLabel(cfg.Config.Labels) {
		c.problem(source, where, "no %s label: not a Flatpak image", labelRef)
		c.images = append(c.images, im)
		return
	}
	if ref != "" {
		im.name = source + " (" + ref + ")"
	}
	im.ref = ref
	c.images = append(c.images, im)
	c.rep.Refs = append(c.rep.Refs, ref)

	lc := c.checkLabels(im.name, cfg)
	tree := c.checkLayers(im.name, mf, cfg, lc)
	c.checkContent(im.name, lc, tree)
}

func hasFlatpakLabel(l map[string]string) bool {
	for k := range l {
		if strings.HasPrefix(k, "org.flatpak.") {
			return true
		}
	}
	return false
}
