package affected

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flatpak-frontend/flatpak-frontend/oci/imagesource"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Load reads the images of one source: an OCI layout directory (also
// written oci-layout://DIR) or a registry reference (also docker-image://REF).
func Load(ctx context.Context, source string) ([]*Image, error) {
	dir, ok := imagesource.LayoutDir(source)
	if !ok {
		desc, blobs, err := imagesource.Remote(ctx, source)
		if err != nil {
			return nil, err
		}
		return walk(ctx, source, blobs, []ocispecs.Descriptor{desc})
	}
	dt, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI layout: %w", source, err)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(dt, &idx); err != nil {
		return nil, fmt.Errorf("%s/index.json: %w", dir, err)
	}
	return walk(ctx, source, imagesource.Layout(dir), idx.Manifests)
}
