package ocilayout

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// ExposeFlatpakImages names every image manifest of the layout in dir with
// its Flatpak ref and lists it in index.json: top-level manifests get the
// ref.name annotation from their org.flatpak.ref label, and image manifests
// inside top-level indexes are added next to them.
func ExposeFlatpakImages(dir string) error {
	idx, err := ReadIndex(dir)
	if err != nil {
		return err
	}
	var added []ocispecs.Descriptor
	for i, d := range idx.Manifests {
		switch d.MediaType {
		case ocispecs.MediaTypeImageManifest:
			if err := name(dir, &idx.Manifests[i]); err != nil {
				return err
			}
		case ocispecs.MediaTypeImageIndex:
			var child ocispecs.Index
			if err := ReadBlob(dir, d.Digest, &child); err != nil {
				return err
			}
			for _, m := range child.Manifests {
				if m.MediaType != ocispecs.MediaTypeImageManifest || m.Annotations["vnd.docker.reference.type"] != "" {
					continue
				}
				m.Annotations = clone(m.Annotations)
				if err := name(dir, &m); err != nil {
					return err
				}
				if m.Annotations[ocispecs.AnnotationRefName] != "" && !listed(idx.Manifests, m.Digest) {
					added = append(added, m)
				}
			}
		}
	}
	idx.Manifests = append(idx.Manifests, added...)
	dt, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), dt, 0o644)
}

// name sets the ref.name of an image manifest descriptor to the image's
// Flatpak ref, when it has one.
func name(dir string, d *ocispecs.Descriptor) error {
	var mf ocispecs.Manifest
	if err := ReadBlob(dir, d.Digest, &mf); err != nil {
		return err
	}
	var img ocispecs.Image
	if err := ReadBlob(dir, mf.Config.Digest, &img); err != nil {
		return err
	}
	if ref := img.Config.Labels[labels.Ref]; ref != "" {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[ocispecs.AnnotationRefName] = ref
	}
	return nil
}

func listed(ds []ocispecs.Descriptor, dg digest.Digest) bool {
	return slices.ContainsFunc(ds, func(d ocispecs.Descriptor) bool {
		return d.Digest == dg && d.MediaType == ocispecs.MediaTypeImageManifest
	})
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ReadIndex reads the index.json of the layout folder dir.
func ReadIndex(dir string) (*ocispecs.Index, error) {
	return dirLocal(dir).Index()
}

// ReadBlob reads blob d of the layout folder dir as JSON into v.
func ReadBlob(dir string, d digest.Digest, v any) error {
	return dirLocal(dir).ReadBlob(d, v)
}

// Blobs returns every blob the index.json of the layout folder dir reaches.
func Blobs(dir string) (map[digest.Digest]bool, error) {
	l := dirLocal(dir)
	idx, err := l.Index()
	if err != nil {
		return nil, err
	}
	return l.Reachable(idx.Manifests)
}
