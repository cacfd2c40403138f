package clientbuild

import (
	"context"
	"os"
	"path/filepath"
	"syscall"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// exportStore is the content store the exporter writes the OCI layout in
// dir through. With a pool (a folder of blobs shared by builds, hard links
// to the same files the layouts hold), a blob an earlier build wrote is
// linked in instead of sent again: rebuilds into new folders (build
// --install) and apps that share packages write each blob once.
type exportStore struct {
	content.Store
	dir, pool string
}

func newExportStore(dir, pool string) (content.Store, error) {
	s, err := local.NewStore(dir)
	if err != nil {
		return nil, err
	}
	if pool == "" {
		return s, nil
	}
	if err := os.MkdirAll(pool, 0o755); err != nil {
		return nil, err
	}
	return &exportStore{Store: s, dir: dir, pool: pool}, nil
}

func blobFile(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func pooled(pool string, d digest.Digest) string {
	return filepath.Join(pool, d.Algorithm().String(), d.Encoded())
}

// link hard-links from to to, making to's folder.
func link(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	err := os.Link(from, to)
	if os.IsExist(err) {
		return nil
	}
	return err
}

// fromPool links a pooled blob into the layout; false when the pool has
// none (or it went away meanwhile).
func (s *exportStore) fromPool(d digest.Digest) bool {
	return d.Validate() == nil && link(pooled(s.pool, d), blobFile(s.dir, d)) == nil
}

func (s *exportStore) Info(ctx context.Context, d digest.Digest) (content.Info, error) {
	info, err := s.Store.Info(ctx, d)
	if errdefs.IsNotFound(err) && s.fromPool(d) {
		return s.Store.Info(ctx, d)
	}
	return info, err
}

func (s *exportStore) Writer(ctx context.Context, opts ...content.WriterOpt) (content.Writer, error) {
	var wo content.WriterOpts
	for _, o := range opts {
		if err := o(&wo); err != nil {
			return nil, err
		}
	}
	if wo.Desc.Digest != "" && s.fromPool(wo.Desc.Digest) {
		return nil, errdefs.ErrAlreadyExists
	}
	w, err := s.Store.Writer(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &pooledWriter{Writer: w, s: s}, nil
}

type pooledWriter struct {
	content.Writer
	s *exportStore
}

func (w *pooledWriter) Commit(ctx context.Context, size int64, expected digest.Digest, opts ...content.Opt) error {
	if err := w.Writer.Commit(ctx, size, expected, opts...); err != nil {
		return err
	}
	d := expected
	if d == "" {
		d = w.Digest()
	}
	// Best effort: a blob not pooled is only written again next time.
	link(blobFile(w.s.dir, d), pooled(w.s.pool, d))
	return nil
}

// prunePool removes pooled blobs no layout links to any more (one link:
// the pool's own). A build linking one meanwhile keeps its link.
func prunePool(pool string) {
	algs, _ := os.ReadDir(pool)
	for _, alg := range algs {
		files, _ := os.ReadDir(filepath.Join(pool, alg.Name()))
		for _, f := range files {
			p := filepath.Join(pool, alg.Name(), f.Name())
			var st syscall.Stat_t
			if syscall.Stat(p, &st) == nil && st.Nlink == 1 {
				os.Remove(p)
			}
		}
	}
}
