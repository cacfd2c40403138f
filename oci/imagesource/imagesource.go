package imagesource

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/distribution/reference"
	"github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	"github.com/flatpak-frontend/flatpak-frontend/oci/registryauth"
	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Blobs opens the blobs of a source by descriptor.
type Blobs interface {
	Open(ctx context.Context, d ocispecs.Descriptor) (io.ReadCloser, error)
}

// LayoutOf returns the OCI layout a source names: oci-layout://PATH[:TAG][@DIGEST]
// (a tag or digest picks images of its index.json), skopeo's
// oci-archive:PATH[:NAME], or an existing folder or file. PATH is a layout
// folder or an OCI archive of one (ocilayout.OpenLocal opens either).
func LayoutOf(source string) (ocilayout.Ref, bool) {
	if r, ok := ocilayout.ParseRef(source); ok {
		return r, true
	}
	if p, ok := strings.CutPrefix(source, "oci-archive:"); ok {
		// As skopeo reads it: the path ends at the first colon, and any
		// name follows (a Flatpak ref too).
		p, name, _ := strings.Cut(p, ":")
		return ocilayout.Ref{Dir: p, Tag: name}, true
	}
	if _, err := os.Stat(source); err == nil {
		return ocilayout.Ref{Dir: source}, true
	}
	return ocilayout.Ref{}, false
}

// Remote resolves a registry reference and returns its descriptor (an
// image manifest or index) and its blobs.
func Remote(ctx context.Context, ref string) (ocispecs.Descriptor, Blobs, error) {
	ref = strings.TrimPrefix(ref, "docker-image://")
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return ocispecs.Descriptor{}, nil, fmt.Errorf("%s: neither an OCI layout directory nor an image reference: %w", ref, err)
	}
	hosts, err := registryhosts.Load()
	if err != nil {
		return ocispecs.Descriptor{}, nil, err
	}
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: hosts.Hosts(registryauth.Authorizer())})
	name, desc, err := resolver.Resolve(ctx, named.String())
	if err != nil {
		return ocispecs.Descriptor{}, nil, fmt.Errorf("%s: %w", ref, err)
	}
	f, err := resolver.Fetcher(ctx, name)
	if err != nil {
		return ocispecs.Descriptor{}, nil, fmt.Errorf("%s: %w", ref, err)
	}
	return desc, remoteBlobs{f}, nil
}

type remoteBlobs struct{ f remotes.Fetcher }

func (r remoteBlobs) Open(ctx context.Context, d ocispecs.Descriptor) (io.ReadCloser, error) {
	return r.f.Fetch(ctx, d)
}
