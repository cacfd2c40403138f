package localbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// exportStore is the content store the exporter writes the OCI layout in
// dir through. With a pool (a folder of blobs shared by builds, hard links
// to the same files the layouts hold), a blob an earlier build wrote is
// linked in instead of sent again: rebuilds into new folders (build
// --install) and apps that share packages write each blob once. Builds
// running at the same time, in this process or others, take turns on
// each blob (a lock file per blob), so the second finds what the first
// wrote.
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
	// Writers of the same blob take turns; one without a digest is alone.
	unlock := func() {}
	if d := wo.Desc.Digest; d != "" && d.Validate() == nil {
		if s.fromPool(d) {
			return nil, errdefs.ErrAlreadyExists
		}
		var err error
		if unlock, err = lockBlob(ctx, s.pool, d); err != nil {
			return nil, err
		}
		if s.fromPool(d) {
			unlock()
			return nil, errdefs.ErrAlreadyExists
		}
	}
	w, err := s.Store.Writer(ctx, opts...)
	if err != nil {
		unlock()
		return nil, err
	}
	return &pooledWriter{Writer: w, s: s, unlock: sync.OnceFunc(unlock)}, nil
}

type pooledWriter struct {
	content.Writer
	s      *exportStore
	unlock func()
}

func (w *pooledWriter) Commit(ctx context.Context, size int64, expected digest.Digest, opts ...content.Opt) error {
	defer w.unlock()
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

func (w *pooledWriter) Close() error {
	defer w.unlock()
	return w.Writer.Close()
}

// locksDir holds the pool's lock files; prunePool leaves it alone.
const locksDir = "locks"

// lockBlob waits until no other writer, in this process or another, holds
// d's lock, and takes it. The holder removes the lock file before letting
// go, so a waiter that got a file since removed tries again with a new one.
func lockBlob(ctx context.Context, pool string, d digest.Digest) (unlock func(), err error) {
	dir := filepath.Join(pool, locksDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, d.Algorithm().String()+"-"+d.Encoded())
	for {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		for {
			err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
			if err != unix.EWOULDBLOCK && err != unix.EINTR {
				break
			}
			select {
			case <-ctx.Done():
				f.Close()
				return nil, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		var held, now unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(p, &now) == nil && held.Ino == now.Ino {
			return func() {
				os.Remove(p)
				f.Close()
			}, nil
		}
		f.Close()
	}
}

// prunePool removes pooled blobs no layout links to any more (one link:
// the pool's own). A build linking one meanwhile keeps its link.
func prunePool(pool string) {
	algs, _ := os.ReadDir(pool)
	for _, alg := range algs {
		if alg.Name() == locksDir {
			continue
		}
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
