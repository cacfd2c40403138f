package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Store is the layout's blobs as a read-only containerd content store:
// what a BuildKit client serves an oci-layout:// build context from (the
// daemon asks it for Info and ReaderAt only). Unlike containerd's local
// store it writes nothing into the layout (no ingest folder), and it
// serves an OCI archive as well as a folder. What would change the store
// fails with errdefs.ErrNotImplemented.
func (l *Local) Store() content.Store { return store{l} }

type store struct{ l *Local }

func (s store) stat(d digest.Digest) (fs.FileInfo, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", s.l.Path, err, errdefs.ErrInvalidArgument)
	}
	fi, err := fs.Stat(s.l.Files, blobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: blob %s: %w", s.l.Path, d, errdefs.ErrNotFound)
	}
	return fi, err
}

func (s store) Info(_ context.Context, d digest.Digest) (content.Info, error) {
	fi, err := s.stat(d)
	if err != nil {
		return content.Info{}, err
	}
	return content.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime(), UpdatedAt: fi.ModTime()}, nil
}

func (s store) ReaderAt(_ context.Context, desc ocispecs.Descriptor) (content.ReaderAt, error) {
	fi, err := s.stat(desc.Digest)
	if err != nil {
		return nil, err
	}
	f, err := s.l.Files.Open(blobPath(desc.Digest))
	if err != nil {
		return nil, err
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		f.Close()
		return nil, fmt.Errorf("%s: blob %s cannot be read at an offset", s.l.Path, desc.Digest)
	}
	return readerAt{ReaderAt: ra, Closer: f, size: fi.Size()}, nil
}

type readerAt struct {
	io.ReaderAt
	io.Closer
	size int64
}

func (r readerAt) Size() int64 { return r.size }

func (s store) Walk(context.Context, content.WalkFunc, ...string) error {
	return fmt.Errorf("listing the blobs of %s: %w", s.l.Path, errdefs.ErrNotImplemented)
}

func (s store) Update(context.Context, content.Info, ...string) (content.Info, error) {
	return content.Info{}, s.readOnly()
}
func (s store) Delete(context.Context, digest.Digest) error { return s.readOnly() }
func (s store) Status(context.Context, string) (content.Status, error) {
	return content.Status{}, errdefs.ErrNotFound
}
func (s store) ListStatuses(context.Context, ...string) ([]content.Status, error) { return nil, nil }
func (s store) Abort(context.Context, string) error                               { return errdefs.ErrNotFound }
func (s store) Writer(context.Context, ...content.WriterOpt) (content.Writer, error) {
	return nil, s.readOnly()
}

func (s store) readOnly() error {
	return fmt.Errorf("%s is read only: %w", s.l.Path, errdefs.ErrNotImplemented)
}
