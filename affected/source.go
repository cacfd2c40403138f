package affected

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/distribution/reference"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Load reads the images of one source: an OCI layout directory (also
// written oci-layout://DIR) or a registry reference (also docker-image://REF).
func Load(ctx context.Context, source string) ([]*Image, error) {
	if dir, ok := strings.CutPrefix(source, "oci-layout://"); ok {
		return loadLayout(ctx, source, dir)
	}
	if st, err := os.Stat(source); err == nil && st.IsDir() {
		return loadLayout(ctx, source, source)
	}
	return loadRegistry(ctx, source, strings.TrimPrefix(source, "docker-image://"))
}

type layout string

func (l layout) fetch(_ context.Context, d ocispecs.Descriptor) ([]byte, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(string(l), "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded()))
}

func loadLayout(ctx context.Context, source, dir string) ([]*Image, error) {
	dt, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI layout: %w", source, err)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(dt, &idx); err != nil {
		return nil, fmt.Errorf("%s/index.json: %w", dir, err)
	}
	return walk(ctx, source, layout(dir), idx.Manifests)
}

type registry struct {
	f remotes.Fetcher
}

func (r registry) fetch(ctx context.Context, d ocispecs.Descriptor) ([]byte, error) {
	rc, err := r.f.Fetch(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxBlob))
}

// loadRegistry reads ref anonymously; registries on localhost are spoken
// to over plain HTTP, as docker and BuildKit do.
func loadRegistry(ctx context.Context, source, ref string) ([]*Image, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: neither an OCI layout directory nor an image reference: %w", source, err)
	}
	ref = named.String()
	resolver := docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(docker.WithPlainHTTP(docker.MatchLocalhost)),
	})
	name, desc, err := resolver.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	f, err := resolver.Fetcher(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return walk(ctx, source, registry{f}, []ocispecs.Descriptor{desc})
}
