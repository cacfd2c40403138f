package integration

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// image is an image read back from an OCI layout.
type image struct {
	manifest ocispecs.Manifest
	config   ocispecs.Image
	// entries are the tar headers of every layer, in order.
	entries []*tar.Header
}

func blobPath(dir string, d ocispecs.Descriptor) string {
	return filepath.Join(dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded())
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dt, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readImage reads the one image of an OCI layout and, when into is not
// empty, unpacks its layers there.
func readImage(t *testing.T, dir, into string) *image {
	t.Helper()
	desc := readIndex(t, dir)
	img := &image{}
	readJSON(t, blobPath(dir, desc), &img.manifest)
	readJSON(t, blobPath(dir, img.manifest.Config), &img.config)
	for _, l := range img.manifest.Layers {
		f, err := os.Open(blobPath(dir, l))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		switch {
		case strings.HasSuffix(l.MediaType, "gzip"):
			gz, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			r = gz
		case strings.HasSuffix(l.MediaType, "zstd"):
			zr, err := zstd.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			r = zr
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			img.entries = append(img.entries, h)
			if into != "" {
				unpackEntry(t, into, h, tr)
			}
		}
		f.Close()
	}
	return img
}

func unpackEntry(t *testing.T, root string, h *tar.Header, r io.Reader) {
	t.Helper()
	name := filepath.Clean("/" + h.Name)
	p := filepath.Join(root, name)
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(p, os.FileMode(h.Mode)&0o7777); err != nil {
			t.Fatal(err)
		}
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o7777)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, r); err != nil {
			t.Fatal(err)
		}
		f.Close()
	case tar.TypeSymlink:
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		if err := os.Symlink(h.Linkname, p); err != nil {
			t.Fatal(err)
		}
	}
}
