package localbuild

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// store is an export store writing into work/name, pooling in work/pool.
func store(t *testing.T, work, name string) content.Store {
	t.Helper()
	s, err := newExportStore(filepath.Join(work, name), filepath.Join(work, "pool"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func blobDesc(blob []byte) ocispecs.Descriptor {
	return ocispecs.Descriptor{Digest: digest.FromBytes(blob), Size: int64(len(blob))}
}

func TestExportStoreSharesBlobsThroughThePool(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	pool := filepath.Join(work, "pool")
	blob := []byte("a layer")
	desc := blobDesc(blob)

	first := store(t, work, "a")
	if err := content.WriteBlob(ctx, first, "x", bytes.NewReader(blob), desc); err != nil {
		t.Fatal(err)
	}
	if inode(t, blobFile(filepath.Join(work, "a"), desc.Digest)) != inode(t, pooled(pool, desc.Digest)) {
		t.Fatal("the written blob was not linked into the pool")
	}

	// A second build into another folder finds it without writing it.
	second := store(t, work, "b")
	if _, err := second.Writer(ctx, content.WithRef("y"), content.WithDescriptor(desc)); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("Writer of a pooled blob: %v, want already exists", err)
	}
	if info, err := second.Info(ctx, desc.Digest); err != nil || info.Size != desc.Size {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	if inode(t, blobFile(filepath.Join(work, "b"), desc.Digest)) != inode(t, pooled(pool, desc.Digest)) {
		t.Fatal("the pooled blob was not linked into the second layout")
	}
	if _, err := second.Info(ctx, digest.FromString("other")); !errdefs.IsNotFound(err) {
		t.Fatalf("Info of an unknown blob: %v", err)
	}

	// Pruning keeps what a layout links to and drops the rest.
	prunePool(pool)
	if _, err := os.Stat(pooled(pool, desc.Digest)); err != nil {
		t.Fatal("pruning removed a blob layouts use")
	}
	os.RemoveAll(filepath.Join(work, "a"))
	os.RemoveAll(filepath.Join(work, "b"))
	prunePool(pool)
	if _, err := os.Stat(pooled(pool, desc.Digest)); err == nil {
		t.Fatal("pruning kept a blob no layout uses")
	}
}

func TestExportStoresWriteABlobOnceAtATime(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	pool := filepath.Join(work, "pool")
	blob := []byte("a shared layer")
	desc := blobDesc(blob)
	a, b := store(t, work, "a"), store(t, work, "b")

	// While a writes the blob, b waits for it, then finds it pooled.
	wa, err := a.Writer(ctx, content.WithRef("a"), content.WithDescriptor(desc))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := b.Writer(ctx, content.WithRef("b"), content.WithDescriptor(desc))
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second writer did not wait for the first: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := wa.Write(blob); err != nil {
		t.Fatal(err)
	}
	if err := wa.Commit(ctx, desc.Size, desc.Digest); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second writer after the first committed: %v, want already exists", err)
	}
	if _, err := os.Stat(blobFile(filepath.Join(work, "b"), desc.Digest)); err != nil {
		t.Fatal("the second layout did not get the blob")
	}

	// A writer given up on lets the next one write.
	other := []byte("another layer")
	od := blobDesc(other)
	w, err := a.Writer(ctx, content.WithRef("a2"), content.WithDescriptor(od))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := b.Writer(short, content.WithRef("b2"), content.WithDescriptor(od)); err == nil {
		t.Fatal("a writer got a blob another one holds")
	}
	w.Close()
	if err := content.WriteBlob(ctx, b, "b3", bytes.NewReader(other), od); err != nil {
		t.Fatalf("after the first writer closed: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(pool, locksDir)); len(ents) != 0 {
		t.Errorf("lock files left: %v", ents)
	}
}
