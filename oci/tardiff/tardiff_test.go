package tardiff

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

type entry struct {
	name, body, link string
	typ              byte
}

func file(name, body string) entry   { return entry{name: name, body: body, typ: tar.TypeReg} }
func dir(name string) entry          { return entry{name: name, typ: tar.TypeDir} }
func symlink(name, to string) entry  { return entry{name: name, link: to, typ: tar.TypeSymlink} }
func hardlink(name, to string) entry { return entry{name: name, link: to, typ: tar.TypeLink} }

func makeTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// extract writes the layers merged into a folder, as Flatpak's commit of
// them holds them.
func extract(t testing.TB, layers ...[]byte) string {
	t.Helper()
	root := t.TempDir()
	for _, l := range layers {
		tr := tar.NewReader(bytes.NewReader(l))
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(root, cleanPath(hdr.Name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			switch hdr.Typeflag {
			case tar.TypeDir:
				os.MkdirAll(p, 0o755)
			case tar.TypeReg:
				dt, _ := io.ReadAll(tr)
				if err := os.WriteFile(p, dt, 0o644); err != nil {
					t.Fatal(err)
				}
			case tar.TypeSymlink:
				os.Symlink(hdr.Linkname, p)
			case tar.TypeLink:
				os.Link(filepath.Join(root, cleanPath(hdr.Linkname)), p)
			}
		}
	}
	return root
}

// apply rebuilds a layer from a delta and the old files under root, as
// Flatpak's flatpak_oci_registry_apply_delta_stream does: every operation,
// and a path opened without following symlinks below root.
func apply(delta []byte, root string) ([]byte, error) {
	if !bytes.HasPrefix(delta, []byte(magic)) {
		return nil, errors.New("no tar-diff header")
	}
	zr, err := zstd.NewReader(bytes.NewReader(delta[len(magic):]))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	r := bufio.NewReader(zr)
	var out bytes.Buffer
	var src *bytes.Reader
	for {
		code, err := r.ReadByte()
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		size, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		switch code {
		case opData:
			if _, err := io.CopyN(&out, r, int64(size)); err != nil {
				return nil, err
			}
		case opOpen:
			name := make([]byte, size)
			if _, err := io.ReadFull(r, name); err != nil {
				return nil, err
			}
			p := filepath.Join(root, cleanPath(string(name)))
			for d := filepath.Dir(p); d != root; d = filepath.Dir(d) {
				if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
					return nil, fmt.Errorf("open %s: %s is not a folder", name, d)
				}
			}
			if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("open %s: not a regular file", name)
			}
			dt, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			src = bytes.NewReader(dt)
		case opCopy:
			if src == nil {
				return nil, errors.New("copy before open")
			}
			if _, err := io.CopyN(&out, src, int64(size)); err != nil {
				return nil, err
			}
		case opAddData:
			for range size {
				a, err1 := src.ReadByte()
				b, err2 := r.ReadByte()
				if err1 != nil || err2 != nil {
					return nil, errors.New("add data past the end")
				}
				out.WriteByte(a + b)
			}
		case opSeek:
			if _, err := src.Seek(int64(size), io.SeekStart); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown operation %d", code)
		}
	}
}

func diffID(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func randomText(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.Intn(26))
	}
	return string(b)
}

// The delta rebuilds the new layer byte for byte from the old image's
// files: unchanged files, one moved, one hard-linked in the old image and
// one in a second old layer are copied; a changed and a new file are
// carried; a file spooled to disk (over spoolLimit) is copied too.
func TestDeltaRebuildsTheLayer(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	lib, data, moved, linked, second := randomText(rng, 5000), randomText(rng, 3000), randomText(rng, 4000), randomText(rng, 2500), randomText(rng, 2200)
	big := randomText(rng, spoolLimit+12345)
	old1 := makeTar(t, dir("files/"), dir("files/lib/"), file("files/lib/libfoo.so.1", lib), file("files/share/data", data),
		file("files/share/old-name", moved), file("files/share/orig", linked), hardlink("files/share/alias", "files/share/orig"),
		file("files/big", big), file("files/lib/changed", randomText(rng, 4000)), symlink("files/lib/libfoo.so", "libfoo.so.1"))
	old2 := makeTar(t, file("metadata", "[Application]\nname=org.example.App\n"), file("files/second", second))
	src := NewSource()
	for _, l := range [][]byte{old1, old2} {
		if err := src.AddLayer(bytes.NewReader(l)); err != nil {
			t.Fatal(err)
		}
	}
	changed, added := randomText(rng, 4100), randomText(rng, 1500)
	newLayer := makeTar(t, dir("files/"), dir("files/lib/"), file("files/lib/libfoo.so.1", lib), file("files/share/data", data),
		file("files/share/new-name", moved), file("files/share/copy", linked), file("files/big", big), file("files/other-second", second),
		file("files/lib/changed", changed), file("files/lib/added", added), file("files/tiny", "x"), file("files/empty", ""),
		symlink("files/lib/libfoo.so", "libfoo.so.1"))

	var delta bytes.Buffer
	st, err := Write(&delta, bytes.NewReader(newLayer), src)
	if err != nil {
		t.Fatal(err)
	}
	if st.DiffID != diffID(newLayer) {
		t.Errorf("DiffID %s, want %s", st.DiffID, diffID(newLayer))
	}
	wantCopied := int64(len(lib) + len(data) + len(moved) + len(linked) + len(big) + len(second))
	if st.Copied != wantCopied {
		t.Errorf("copied %d bytes, want %d", st.Copied, wantCopied)
	}
	if st.Carried >= int64(len(newLayer))-wantCopied+1 || st.Carried < int64(len(changed)+len(added)) {
		t.Errorf("carried %d bytes of a %d-byte layer", st.Carried, len(newLayer))
	}
	if delta.Len() > 12000 {
		t.Errorf("the delta is %d bytes for %d bytes of changed files", delta.Len(), len(changed)+len(added))
	}
	got, err := apply(delta.Bytes(), extract(t, old1, old2))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, newLayer) {
		t.Fatalf("the rebuilt layer differs: %d bytes, want %d", len(got), len(newLayer))
	}
}

// A tar with bytes after its end blocks (a writer padding to a record) is
// rebuilt with them.
func TestDeltaKeepsTrailingBytes(t *testing.T) {
	layer := append(makeTar(t, file("files/a", strings.Repeat("a", 100))), make([]byte, 8192)...)
	var delta bytes.Buffer
	st, err := Write(&delta, bytes.NewReader(layer), NewSource())
	if err != nil {
		t.Fatal(err)
	}
	got, err := apply(delta.Bytes(), t.TempDir())
	if err != nil || !bytes.Equal(got, layer) || st.DiffID != diffID(layer) {
		t.Fatalf("rebuilt %d bytes of %d (%v)", len(got), len(layer), err)
	}
}

// A file under a symlinked folder of the old image is not copied: Flatpak
// opens the path in its commit without following links.
func TestDeltaCopiesNothingThroughASymlink(t *testing.T) {
	body := strings.Repeat("content ", 100)
	old := makeTar(t, dir("files/real/"), file("files/real/f", body), symlink("files/link", "real"))
	src := NewSource()
	if err := src.AddLayer(bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	// Another old layer puts a file where the first had a folder's file.
	if err := src.AddLayer(bytes.NewReader(makeTar(t, file("files/real/f", "replaced")))); err != nil {
		t.Fatal(err)
	}
	layer := makeTar(t, file("files/link/f", body))
	var delta bytes.Buffer
	st, err := Write(&delta, bytes.NewReader(layer), src)
	if err != nil {
		t.Fatal(err)
	}
	if st.Copied != 0 {
		t.Errorf("copied %d bytes from a replaced file or through a symlink", st.Copied)
	}
	got, err := apply(delta.Bytes(), extract(t, old))
	if err != nil || !bytes.Equal(got, layer) {
		t.Fatalf("rebuilt: %v", err)
	}
}

func TestDeltaRefusesWhiteoutsAndSparseFiles(t *testing.T) {
	if err := NewSource().AddLayer(bytes.NewReader(makeTar(t, file("files/.wh.gone", "")))); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a whiteout in the old image: %v", err)
	}
	// An old GNU sparse entry (Go's writer writes none): a GNU header
	// whose type is made 'S', its checksum made again.
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "files/sparse", Typeflag: tar.TypeReg, Size: 1, Format: tar.FormatGNU}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("x"))
	tw.Close()
	raw := b.Bytes()
	raw[156] = tar.TypeGNUSparse
	copy(raw[148:156], "        ")
	sum := 0
	for _, c := range raw[:512] {
		sum += int(c)
	}
	copy(raw[148:156], fmt.Sprintf("%06o\x00 ", sum))
	if _, err := Write(io.Discard, bytes.NewReader(raw), NewSource()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a sparse entry: %v", err)
	}
	if _, err := Write(io.Discard, strings.NewReader("not a tar, and not 512 bytes long"), NewSource()); err == nil {
		t.Error("no error for a layer that is not a tar")
	}
}

func TestHasContentID(t *testing.T) {
	for _, c := range []struct {
		layer []byte
		want  bool
	}{
		{makeTar(t, file("metadata", "[Application]\n"), file("./"+ContentIDPath, "sha256:x\n")), true},
		{makeTar(t, file("metadata", "[Application]\n")), false},
		{makeTar(t, dir(ContentIDPath+"/")), false},
	} {
		if got, err := HasContentID(bytes.NewReader(c.layer)); err != nil || got != c.want {
			t.Errorf("HasContentID = %v, %v; want %v", got, err, c.want)
		}
	}
}
