package affected

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	flabels "github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/oci/imagesource"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/sbom"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Query is NAME or NAME<VERSION: the package, and optionally the first
// version that is not affected ([EPOCH:]VERSION[-RELEASE]).
type Query struct {
	Name  string
	Below *rpmver.EVR
}

// ParseQuery reads NAME[<VERSION].
func ParseQuery(s string) (Query, error) {
	name, ver, hasVer := strings.Cut(s, "<")
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t=>") {
		return Query{}, fmt.Errorf("--package %q: want NAME or NAME<VERSION, such as openssl-libs<1:3.1.4-1", s)
	}
	q := Query{Name: name}
	if hasVer {
		evr, err := rpmver.Parse(strings.TrimSpace(ver))
		if err != nil {
			return Query{}, fmt.Errorf("--package %q: %q is not a version ([EPOCH:]VERSION[-RELEASE])", s, ver)
		}
		q.Below = &evr
	}
	return q, nil
}

func (q Query) String() string {
	if q.Below == nil {
		return q.Name
	}
	return q.Name + "<" + q.Below.String()
}

// Matches says whether p is the package asked for, in an affected version.
func (q Query) Matches(p manifest.Package) bool {
	if p.Name != q.Name {
		return false
	}
	if q.Below == nil {
		return true
	}
	have := p.EVR()
	return rpmver.CompareEVR(have, *q.Below) < 0
}

// Image is one image manifest and the packages it records.
type Image struct {
	// Source is the layout or reference it was found under.
	Source string
	Digest digest.Digest
	// Platform is the manifest's platform in its index, if any.
	Platform *ocispecs.Platform
	// Ref is the Flatpak ref (org.flatpak.ref label), Runtime the app's
	// runtime from its metadata label; either may be "".
	Ref, Runtime string
	// From is where Packages were read: the label or "sbom".
	From     string
	Packages []manifest.Package
	// several: the source holds other images too.
	several bool
}

// Name is how output names the image: the source, and the platform when
// the source holds several images.
func (img *Image) Name() string {
	s := img.Source
	if img.several && img.Platform != nil {
		s += " (" + img.Platform.OS + "/" + img.Platform.Architecture + ")"
	}
	return s
}

// Find returns the packages of img that q matches.
func (q Query) Find(img *Image) []manifest.Package {
	var out []manifest.Package
	for _, p := range img.Packages {
		if q.Matches(p) {
			out = append(out, p)
		}
	}
	return out
}

// Describe says where a matched package sits, for output.
func (img *Image) Describe(p manifest.Package) string {
	if p.Origin == manifest.App {
		return "bundled"
	}
	if r, err := flatpakref.Parse(img.Ref); err != nil || r.IsRuntime() || img.Runtime == "" {
		return "runtime"
	}
	return "runtime " + img.Runtime
}

const (
	refTypeAnnotation   = "vnd.docker.reference.type"
	refDigestAnnotation = "vnd.docker.reference.digest"
	attestationManifest = "attestation-manifest"
	predicateAnnotation = "in-toto.io/predicate-type"
	maxBlob             = 64 << 20
)

// walk loads every image reachable from roots.
func walk(ctx context.Context, source string, s imagesource.Blobs, roots []ocispecs.Descriptor) ([]*Image, error) {
	w := &walker{source: source, s: s, seen: map[digest.Digest]bool{}, atts: map[digest.Digest][]ocispecs.Descriptor{}}
	var manifests []ocispecs.Descriptor
	if err := w.collect(ctx, roots, &manifests); err != nil {
		return nil, err
	}
	var out []*Image
	for _, d := range manifests {
		img, err := w.image(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("%s: image %s: %w", source, d.Digest, err)
		}
		out = append(out, img)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no image manifest found", source)
	}
	for _, img := range out {
		img.several = len(out) > 1
	}
	return out, nil
}

type walker struct {
	source string
	s      imagesource.Blobs
	seen   map[digest.Digest]bool
	// atts maps an image manifest to its attestation manifests.
	atts map[digest.Digest][]ocispecs.Descriptor
}

func (w *walker) collect(ctx context.Context, ds []ocispecs.Descriptor, out *[]ocispecs.Descriptor) error {
	for _, d := range ds {
		switch d.MediaType {
		case ocispecs.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
			var idx ocispecs.Index
			if err := w.json(ctx, d, &idx); err != nil {
				return err
			}
			if err := w.collect(ctx, idx.Manifests, out); err != nil {
				return err
			}
		case ocispecs.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json":
			if d.Annotations[refTypeAnnotation] == attestationManifest {
				target := digest.Digest(d.Annotations[refDigestAnnotation])
				w.atts[target] = append(w.atts[target], d)
				continue
			}
			if !w.seen[d.Digest] {
				w.seen[d.Digest] = true
				*out = append(*out, d)
			}
		}
	}
	return nil
}

func (w *walker) json(ctx context.Context, d ocispecs.Descriptor, v any) error {
	if d.Size > maxBlob {
		return fmt.Errorf("blob %s is %d bytes, too big for metadata", d.Digest, d.Size)
	}
	rc, err := w.s.Open(ctx, d)
	if err != nil {
		return err
	}
	dt, err := io.ReadAll(io.LimitReader(rc, maxBlob))
	rc.Close()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(dt, v); err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	return nil
}

func (w *walker) image(ctx context.Context, d ocispecs.Descriptor) (*Image, error) {
	var mf ocispecs.Manifest
	if err := w.json(ctx, d, &mf); err != nil {
		return nil, err
	}
	var cfg ocispecs.Image
	if err := w.json(ctx, mf.Config, &cfg); err != nil {
		return nil, err
	}
	img := &Image{Source: w.source, Digest: d.Digest, Platform: d.Platform}
	labels := cfg.Config.Labels
	img.Ref = labels[flabels.Ref]
	if md := labels[flabels.Metadata]; md != "" {
		if kf, err := keyfile.Parse([]byte(md)); err == nil {
			img.Runtime, _ = kf.String("Application", "runtime")
		}
	}
	if v, ok := labels[manifest.Label]; ok {
		pkgs, err := manifest.Decode(v)
		if err != nil {
			return nil, err
		}
		img.From, img.Packages = "label", pkgs
		return img, nil
	}
	for _, ad := range w.atts[d.Digest] {
		var am ocispecs.Manifest
		if err := w.json(ctx, ad, &am); err != nil {
			return nil, err
		}
		for _, l := range am.Layers {
			if l.Annotations[predicateAnnotation] != sbom.PredicateType {
				continue
			}
			var stmt struct {
				Predicate json.RawMessage `json:"predicate"`
			}
			if err := w.json(ctx, l, &stmt); err != nil {
				return nil, err
			}
			pkgs, err := sbom.Packages(stmt.Predicate)
			if err != nil {
				return nil, err
			}
			img.From, img.Packages = "sbom", pkgs
			return img, nil
		}
	}
	return nil, fmt.Errorf("records no packages: no %s label and no SPDX attestation (was it built by flatpak-frontend?)", manifest.Label)
}
