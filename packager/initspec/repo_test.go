package initspec

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	ulzxz "github.com/ulikunitz/xz"
)

// TestDecompressedReadsEachRepodataCompression: createrepo_c writes
// primary.xml as gz (EL), zst (Fedora) or xz (--compress-type=xz), and old
// yum repos as bz2.
func TestDecompressedReadsEachRepodataCompression(t *testing.T) {
	const want = "<metadata/>\n"
	compress := func(w func(io.Writer) io.WriteCloser) []byte {
		var b bytes.Buffer
		zw := w(&b)
		if _, err := io.WriteString(zw, want); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	files := map[string][]byte{
		"primary.xml":    []byte(want),
		"primary.xml.gz": compress(func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }),
		"primary.xml.zst": compress(func(w io.Writer) io.WriteCloser {
			zw, _ := zstd.NewWriter(w)
			return zw
		}),
		"primary.xml.xz": compress(func(w io.Writer) io.WriteCloser {
			zw, _ := ulzxz.NewWriter(w)
			return zw
		}),
		// printf '<metadata/>\n' | bzip2 -9 (the standard library has no bzip2 writer).
		"primary.xml.bz2": {0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0xcc, 0x99, 0x41, 0x74, 0x00, 0x00, 0x01, 0x59, 0x80, 0x00, 0x10, 0x00, 0x00, 0x80, 0x05, 0x26, 0x02, 0x04, 0x00, 0x20, 0x00, 0x31, 0x06, 0x4c, 0x41, 0x06, 0x11, 0xa1, 0x40, 0xca, 0xd5, 0x38, 0x4f, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0xcc, 0x99, 0x41, 0x74},
	}
	for name, dt := range files {
		got, err := decompressed(name, bytes.NewReader(dt))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if _, err := decompressed("primary.xml.lz4", strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "compression of primary.xml.lz4 not supported") {
		t.Errorf("an unknown compression: %v", err)
	}
}
