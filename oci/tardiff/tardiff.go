package tardiff

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// MediaType is a tar-diff's media type in a delta manifest.
const MediaType = "application/vnd.tar-diff"

// magic starts every tar-diff; the zstd stream of operations follows.
const magic = "tardf1\n\x00"

// The operations: each is a byte, a uvarint size and, for opData and
// opOpen, size bytes.
const (
	opData    = 0 // emit the bytes
	opOpen    = 1 // the bytes name an old file; its position goes to 0
	opCopy    = 2 // emit size bytes of the old file
	opAddData = 3 // emit old bytes plus the delta's (bsdiff; not written)
	opSeek    = 4 // move in the old file
)

// content is a regular file's content: its digest and size.
type content struct {
	sum  [sha256.Size]byte
	size int64
}

// Source is what a delta may copy from: the regular files of the old image,
// as its layers merged make them (and as Flatpak's commit of it holds them).
type Source struct {
	files  map[string]content   // path -> content
	byData map[content][]string // content -> paths that held it
	other  map[string]bool      // symlinks and special files
	// keep, when set, is the folder that keeps the content of the files
	// a changed file may be described against (by digest); byDir lists
	// the names of the regular files in each folder (sorted once Write
	// looks into it: sorted says so).
	keep   string
	byDir  map[string][]string
	sorted map[string]bool
}

// NewSource is an empty Source; AddLayer fills it.
func NewSource() *Source {
	return &Source{files: map[string]content{}, byData: map[content][]string{}, other: map[string]bool{}}
}

// NewDiffingSource is a Source that also keeps, in the folder dir, the
// content of each regular file of diffable size, so that a changed file is
// written as its difference from the old file at its path (or, for a name
// whose version changed, libfoo.so.1.2.3 to libfoo.so.1.2.4, the file of
// the same folder whose name shares the longest start with it).
func NewDiffingSource(dir string) *Source {
	s := NewSource()
	s.keep, s.byDir, s.sorted = dir, map[string][]string{}, map[string]bool{}
	return s
}

// The sizes of the files a changed file is described against; smaller
// ones are carried (the operations would be as large), larger ones too
// (the difference is found in memory: about three times the size).
const (
	minDiffSize = 128
	maxDiffSize = 32 << 20
)

// ErrUnsupported is returned for a layer a delta cannot describe here.
var ErrUnsupported = errors.New("tardiff: unsupported layer")

// AddLayer reads one layer of the old image (an uncompressed tar), in the
// image's order. Whiteouts are refused (ErrUnsupported): what Flatpak's
// commit of such an image holds is not what merging the layers gives.
func (s *Source) AddLayer(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := cleanPath(hdr.Name)
		if p == "" {
			continue
		}
		if strings.HasPrefix(path.Base(p), ".wh.") {
			return fmt.Errorf("%w: whiteout %s", ErrUnsupported, hdr.Name)
		}
		delete(s.files, p)
		delete(s.other, p)
		switch hdr.Typeflag {
		case tar.TypeReg:
			c, err := s.read(tr, hdr.Size)
			if err != nil {
				return err
			}
			s.add(p, c)
			if s.keep != "" {
				d, name := path.Split(p)
				s.byDir[d] = append(s.byDir[d], name)
				s.sorted[d] = false
			}
		case tar.TypeLink:
			if c, ok := s.files[cleanPath(hdr.Linkname)]; ok {
				s.add(p, c)
			}
		case tar.TypeDir:
		default:
			s.other[p] = true
		}
	}
}

// read hashes a file's content, keeping it when it is of a size a changed
// file is described against.
func (s *Source) read(r io.Reader, size int64) (content, error) {
	h := sha256.New()
	if s.keep == "" || size < minDiffSize || size > maxDiffSize {
		n, err := io.Copy(h, r)
		c := content{size: n}
		h.Sum(c.sum[:0])
		return c, err
	}
	f, err := os.CreateTemp(s.keep, ".new-")
	if err != nil {
		return content{}, err
	}
	n, err := io.Copy(io.MultiWriter(h, f), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	c := content{size: n}
	h.Sum(c.sum[:0])
	if err == nil {
		err = os.Rename(f.Name(), s.keptPath(c))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return c, err
}

func (s *Source) keptPath(c content) string {
	return filepath.Join(s.keep, hex.EncodeToString(c.sum[:]))
}

// diffBase is the old file a changed file at p of size n is described
// against, and its content: the file at p, or the one of p's folder whose
// name shares the longest start with p's (at least half of it).
func (s *Source) diffBase(p string, n int64) (string, []byte, bool) {
	if s.keep == "" || n < minDiffSize || n > maxDiffSize {
		return "", nil, false
	}
	from := ""
	if _, ok := s.files[p]; ok {
		from = p
	} else {
		// In the folder's names sorted, the longest start shared with
		// name is shared with a name next to its place.
		d, name := path.Split(p)
		names := s.byDir[d]
		if !s.sorted[d] {
			slices.Sort(names)
			s.sorted[d] = true
		}
		i, _ := slices.BinarySearch(names, name)
		best := 0
		for _, other := range names[max(i-1, 0):min(i+2, len(names))] {
			k := commonPrefix(name, other)
			if k > best && 2*k >= len(name) && s.files[d+other] != (content{}) {
				from, best = d+other, k
			}
		}
	}
	if from == "" || !s.openable(from) {
		return "", nil, false
	}
	c := s.files[from]
	if c.size < minDiffSize || c.size > maxDiffSize {
		return "", nil, false
	}
	old, err := os.ReadFile(s.keptPath(c))
	if err != nil || int64(len(old)) != c.size {
		return "", nil, false
	}
	return from, old, true
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func (s *Source) add(p string, c content) {
	s.files[p] = c
	s.byData[c] = append(s.byData[c], p)
}

// find is a path of the old image whose file has content c, preferring
// want: one still holding it, under no symlink.
func (s *Source) find(c content, want string) (string, bool) {
	if s.files[want] == c && s.openable(want) {
		return want, true
	}
	for _, p := range s.byData[c] {
		if s.files[p] == c && s.openable(p) {
			return p, true
		}
	}
	return "", false
}

// openable is true when no folder above p is a symlink or a special file
// (Flatpak resolves the path in its commit without following links).
func (s *Source) openable(p string) bool {
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if s.other[d] || s.files[d] != (content{}) {
			return false
		}
	}
	return true
}

// HasContentID is true when the layer (an uncompressed tar) holds a
// regular file at ContentIDPath.
func HasContentID(layer io.Reader) (bool, error) {
	tr := tar.NewReader(layer)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if cleanPath(hdr.Name) == ContentIDPath && hdr.Typeflag == tar.TypeReg {
			return true, nil
		}
	}
}

// cleanPath is a tar entry's name as a relative path without . or ..
// ("" for the top).
func cleanPath(name string) string {
	p := path.Clean("/" + name)
	return strings.TrimPrefix(p, "/")
}

// Stats says what a delta holds.
type Stats struct {
	// DiffID is the digest of the uncompressed tar the delta rebuilds.
	DiffID string
	// Copied is the bytes of file content copied from the old image;
	// Carried the bytes the delta carries (before compression).
	Copied, Carried int64
	// Diffed is the size of the changed files written as their
	// difference from an old file.
	Diffed int64
}

// Write writes the delta that rebuilds layer (an uncompressed tar) from the
// old image's files to w. Files of layer whose content old has are copied,
// the rest is carried. A sparse entry (its stored bytes are not its
// content) gives ErrUnsupported.
func Write(w io.Writer, layer io.Reader, old *Source) (Stats, error) {
	if _, err := io.WriteString(w, magic); err != nil {
		return Stats{}, err
	}
	// A level above the layers' default: a delta is written once and
	// downloaded by every user (on two library updates 4% smaller, at
	// 1.7 times the time; the best level, 10% at ten times).
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return Stats{}, err
	}
	d := &deltaWriter{w: zw}
	rec := &recorder{r: layer, h: sha256.New()}
	st, err := d.write(rec, old)
	if err != nil {
		zw.Close()
		return Stats{}, err
	}
	if err := zw.Close(); err != nil {
		return Stats{}, err
	}
	st.DiffID = "sha256:" + hex.EncodeToString(rec.h.Sum(nil))
	return st, nil
}

// recorder reads the layer, hashing every byte (the DiffID) and keeping
// those read while not skipping: the bytes the delta must carry as they
// are (headers, padding, the end of the archive).
type recorder struct {
	r    io.Reader
	h    hash.Hash
	kept bytes.Buffer
	skip bool
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	if !r.skip {
		r.kept.Write(p[:n])
	}
	return n, err
}

// spoolLimit is the size above which a file's content is kept in a
// temporary file, not in memory, until it is known whether old has it.
const spoolLimit = 1 << 20

func (d *deltaWriter) write(rec *recorder, old *Source) (Stats, error) {
	var st Stats
	tr := tar.NewReader(rec)
	var spool *os.File
	defer func() {
		if spool != nil {
			spool.Close()
			os.Remove(spool.Name())
		}
	}()
	var buf bytes.Buffer
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, err
		}
		if isSparse(hdr) {
			return st, fmt.Errorf("%w: sparse file %s", ErrUnsupported, hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
			continue // any content stays in rec.kept
		}
		// The content: read (not kept) while hashing, held until it is
		// known whether old has it.
		if err := d.carry(&rec.kept, &st); err != nil {
			return st, err
		}
		rec.skip = true
		h := sha256.New()
		var held io.Reader
		var n int64
		if hdr.Size <= spoolLimit {
			buf.Reset()
			n, err = io.Copy(io.MultiWriter(h, &buf), tr)
			held = &buf
		} else {
			if spool == nil {
				if spool, err = os.CreateTemp("", "tardiff-"); err != nil {
					return st, err
				}
			}
			if _, err = spool.Seek(0, io.SeekStart); err == nil {
				if err = spool.Truncate(0); err == nil {
					n, err = io.Copy(io.MultiWriter(h, spool), tr)
				}
			}
			if err == nil {
				_, err = spool.Seek(0, io.SeekStart)
			}
			held = spool
		}
		rec.skip = false
		if err != nil {
			return st, err
		}
		c := content{size: n}
		h.Sum(c.sum[:0])
		p := cleanPath(hdr.Name)
		if from, ok := old.find(c, p); ok && n > int64(len(from))+16 {
			if err := d.op(opOpen, uint64(len(from)), []byte(from)); err != nil {
				return st, err
			}
			if err := d.op(opCopy, uint64(n), nil); err != nil {
				return st, err
			}
			st.Copied += n
			continue
		}
		if from, oldData, ok := old.diffBase(p, n); ok {
			// The content whole: buf's, or the spool's read.
			newData := buf.Bytes()
			if held == spool {
				newData = make([]byte, n)
				if _, err := io.ReadFull(spool, newData); err != nil {
					return st, err
				}
			}
			if runs := alignedRuns(oldData, newData); len(runs) > 0 && 2*diffCost(oldData, newData, runs) < len(newData) {
				written, err := d.writeDiff(from, oldData, newData, diffOps(oldData, newData, runs), &st)
				if err != nil {
					return st, err
				}
				if written {
					continue
				}
			}
			held = bytes.NewReader(newData)
		}
		if err := d.op(opData, uint64(n), nil); err != nil {
			return st, err
		}
		if _, err := io.CopyN(d.w, held, n); err != nil {
			return st, err
		}
		st.Carried += n
	}
	// The end of the archive, and anything after it.
	if _, err := io.Copy(io.Discard, rec); err != nil {
		return st, err
	}
	return st, d.carry(&rec.kept, &st)
}

// isSparse is true for an entry stored sparse (GNU or PAX).
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

type deltaWriter struct {
	w   io.Writer
	tmp [binary.MaxVarintLen64 + 1]byte
}

// op writes an operation; data, when given, is its size bytes.
func (d *deltaWriter) op(code byte, size uint64, data []byte) error {
	d.tmp[0] = code
	n := binary.PutUvarint(d.tmp[1:], size)
	if _, err := d.w.Write(d.tmp[:1+n]); err != nil {
		return err
	}
	if data != nil {
		_, err := d.w.Write(data)
		return err
	}
	return nil
}

// carry writes the kept bytes as one data operation and empties them.
func (d *deltaWriter) carry(kept *bytes.Buffer, st *Stats) error {
	if kept.Len() == 0 {
		return nil
	}
	st.Carried += int64(kept.Len())
	if err := d.op(opData, uint64(kept.Len()), kept.Bytes()); err != nil {
		return err
	}
	kept.Reset()
	return nil
}
