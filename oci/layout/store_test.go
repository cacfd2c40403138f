package ocilayout

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestStoreServesBlobsReadOnly: the content store BuildKit reads a build
// context through gives a blob's size and bytes at any offset, from a
// folder and from an OCI archive alike; a blob it lacks is ErrNotFound,
// and it takes no writes (and so leaves no ingest folder in the layout).
func TestStoreServesBlobsReadOnly(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	dir, d := miniLayout(t, body)
	for _, src := range []string{dir, tarOf(t, dir)} {
		l, err := OpenLocal(src)
		if err != nil {
			t.Fatal(err)
		}
		s := l.Store()
		info, err := s.Info(t.Context(), d)
		if err != nil || info.Size != int64(len(body)) || info.Digest != d {
			t.Errorf("%s: Info %+v, %v", src, info, err)
		}
		ra, err := s.ReaderAt(t.Context(), ocispecs.Descriptor{Digest: d})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if n, err := ra.ReadAt(buf, 9993); n != 5 || err != nil || string(buf) != "34567" || ra.Size() != int64(len(body)) {
			t.Errorf("%s: ReadAt %q (%d, %v), size %d", src, buf[:n], n, err, ra.Size())
		}
		ra.Close()
		missing := digest.FromString("missing")
		if _, err := s.Info(t.Context(), missing); !errdefs.IsNotFound(err) {
			t.Errorf("%s: Info of a blob it lacks: %v", src, err)
		}
		if _, err := s.ReaderAt(t.Context(), ocispecs.Descriptor{Digest: missing}); !errdefs.IsNotFound(err) {
			t.Errorf("%s: ReaderAt of a blob it lacks: %v", src, err)
		}
		if _, err := s.Writer(t.Context()); !errdefs.IsNotImplemented(err) {
			t.Errorf("%s: Writer: %v", src, err)
		}
		if err := s.Delete(t.Context(), d); !errdefs.IsNotImplemented(err) {
			t.Errorf("%s: Delete: %v", src, err)
		}
		l.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "ingest")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the layout folder got an ingest folder: %v", err)
	}
}
