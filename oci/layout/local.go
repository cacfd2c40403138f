package ocilayout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Local is an OCI layout on this machine, read from its folder or, in
// place, from an OCI archive of it.
type Local struct {
	// Path is the folder or the archive, as given.
	Path string
	// Files holds the layout's files: index.json, oci-layout, blobs/.
	Files fs.FS
	close func() error
}

// OpenLocal opens the layout at p: a folder, or a file that is an OCI
// archive (see OpenArchive for what else it may be, and the error then).
func OpenLocal(p string) (*Local, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such OCI layout folder or OCI archive: %w", p, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return dirLocal(p), nil
	}
	a, err := OpenArchive(p)
	if err != nil {
		return nil, err
	}
	return &Local{Path: p, Files: a, close: a.Close}, nil
}

// dirLocal is the layout of the folder dir.
func dirLocal(dir string) *Local {
	return &Local{Path: dir, Files: os.DirFS(dir), close: func() error { return nil }}
}

// IsArchive reports whether the layout is read from an OCI archive.
func (l *Local) IsArchive() bool {
	_, ok := l.Files.(*Archive)
	return ok
}

// Close releases the archive's file.
func (l *Local) Close() error { return l.close() }

// Index reads the layout's index.json.
func (l *Local) Index() (*ocispecs.Index, error) {
	dt, err := fs.ReadFile(l.Files, indexFile)
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI layout: %w", l.Path, err)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(dt, &idx); err != nil {
		return nil, fmt.Errorf("%s/index.json: %w", l.Path, err)
	}
	return &idx, nil
}

// Open opens the blob d names (the image sources' Blobs).
func (l *Local) Open(_ context.Context, d ocispecs.Descriptor) (io.ReadCloser, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, err
	}
	return l.Files.Open(blobPath(d.Digest))
}

// blobPath is where blob d is in a layout.
func blobPath(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

// ReadBlob reads blob d as JSON into v.
func (l *Local) ReadBlob(d digest.Digest, v any) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("%s: %w", l.Path, err)
	}
	dt, err := fs.ReadFile(l.Files, blobPath(d))
	if err != nil {
		return fmt.Errorf("%s: %w", l.Path, err)
	}
	if err := json.Unmarshal(dt, v); err != nil {
		return fmt.Errorf("%s: blob %s: %w", l.Path, d, err)
	}
	return nil
}

// Reachable returns every blob ds reach: manifests, indexes, configs,
// layers and subjects.
func (l *Local) Reachable(ds []ocispecs.Descriptor) (map[digest.Digest]bool, error) {
	seen := map[digest.Digest]bool{}
	var walk func(ds []ocispecs.Descriptor) error
	walk = func(ds []ocispecs.Descriptor) error {
		for _, d := range ds {
			if seen[d.Digest] {
				continue
			}
			seen[d.Digest] = true
			switch d.MediaType {
			case ocispecs.MediaTypeImageIndex, ocispecs.MediaTypeImageManifest,
				"application/vnd.docker.distribution.manifest.list.v2+json",
				"application/vnd.docker.distribution.manifest.v2+json":
			default:
				continue
			}
			// Both kinds in one: an index has manifests, a manifest a
			// config and layers.
			var m struct {
				Manifests []ocispecs.Descriptor `json:"manifests"`
				Config    *ocispecs.Descriptor  `json:"config"`
				Layers    []ocispecs.Descriptor `json:"layers"`
				Subject   *ocispecs.Descriptor  `json:"subject"`
			}
			if err := l.ReadBlob(d.Digest, &m); err != nil {
				return err
			}
			next := append(m.Manifests, m.Layers...)
			for _, p := range []*ocispecs.Descriptor{m.Config, m.Subject} {
				if p != nil {
					next = append(next, *p)
				}
			}
			if err := walk(next); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(ds); err != nil {
		return nil, err
	}
	return seen, nil
}
