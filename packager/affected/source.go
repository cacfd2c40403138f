package affected

import (
	"context"

	"github.com/flatpak-frontend/flatpak-frontend/oci/imagesource"
	"github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Load reads the images of one source: an OCI layout directory or an OCI
// archive of one (also written oci-layout://PATH, with :TAG or @DIGEST for
// one of its images) or a registry reference (also docker-image://REF).
func Load(ctx context.Context, source string) ([]*Image, error) {
	r, ok := imagesource.LayoutOf(source)
	if !ok {
		desc, blobs, err := imagesource.Remote(ctx, source)
		if err != nil {
			return nil, err
		}
		return walk(ctx, source, blobs, []ocispecs.Descriptor{desc})
	}
	l, err := ocilayout.OpenLocal(r.Dir)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	idx, err := l.Index()
	if err != nil {
		return nil, err
	}
	ms, err := r.Select(idx)
	if err != nil {
		return nil, err
	}
	return walk(ctx, source, l, ms)
}
