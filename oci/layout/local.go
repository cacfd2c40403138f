package ocilayout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

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
		return nil, fmt.Errorf("%s: no such OCI layout folder or OCI archive", p)
	}
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return &Local{Path: p, Files: os.DirFS(p), close: func() error { return nil }}, nil
	}
	a, err := OpenArchive(p)
	if err != nil {
		return nil, err
	}
	return &Local{Path: p, Files: a, close: a.Close}, nil
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
	return l.Files.Open("blobs/" + d.Digest.Algorithm().String() + "/" + d.Digest.Encoded())
}
