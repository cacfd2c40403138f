package ocilayout

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Archive is an OCI archive (an uncompressed tar of an OCI layout, as
// docker buildx's --output type=oci,dest=FILE and skopeo's oci-archive:
// write it) read in place: an fs.FS of its regular files, each read
// straight from its bytes in the archive, so a layer is never copied out.
type Archive struct {
	f       *os.File
	entries map[string]archiveEntry
}

type archiveEntry struct {
	hdr *tar.Header
	off int64
}

// Compressed archives, by their first bytes.
var compressions = []struct {
	magic      []byte
	name, tool string
}{
	{[]byte{0x1f, 0x8b}, "gzip", "gunzip"},
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, "zstd", "unzstd"},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, "xz", "unxz"},
	{[]byte("BZh"), "bzip2", "bunzip2"},
}

// OpenArchive indexes the archive at p. It fails, saying what p is and how
// to make an OCI layout of it, for a compressed tar, a docker save archive
// or any file that is no OCI archive.
func OpenArchive(p string) (*Archive, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	a, err := indexArchive(f, p)
	if err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

func indexArchive(f *os.File, p string) (*Archive, error) {
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	for _, c := range compressions {
		if bytes.HasPrefix(head[:n], c.magic) {
			return nil, fmt.Errorf("%s is compressed with %s: an OCI archive is read uncompressed (%s it first)", p, c.name, c.tool)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	a := &Archive{f: f, entries: map[string]archiveEntry{}}
	// tar.Reader seeks past each entry's data on an *os.File, so only
	// the headers are read; the data starts where the reader stands
	// after Next.
	tr := tar.NewReader(f)
	links := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(a.entries) == 0 {
				return nil, fmt.Errorf("%s: neither an OCI layout folder nor an OCI archive (a tar of one): %w", p, err)
			}
			return nil, fmt.Errorf("%s: a broken tar: %w", p, err)
		}
		name := cleanName(h.Name)
		switch h.Typeflag {
		case tar.TypeReg:
			if sparse(h) {
				return nil, fmt.Errorf("%s: %s is a sparse file, which an OCI archive does not hold", p, h.Name)
			}
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, err
			}
			a.entries[name] = archiveEntry{hdr: h, off: off}
		case tar.TypeLink:
			links[name] = cleanName(h.Linkname)
		}
	}
	for name, target := range links {
		if e, ok := a.entries[target]; ok {
			a.entries[name] = e
		}
	}
	if _, ok := a.entries[indexFile]; !ok {
		if hint := ArchiveHint(p); hint != "" {
			return nil, fmt.Errorf("%s is %s", p, hint)
		}
		return nil, fmt.Errorf("%s: a tar without index.json, so no OCI archive", p)
	}
	return a, nil
}

const indexFile = "index.json"

// cleanName is a tar entry's name as an fs.FS path ("./blobs/x/" is
// "blobs/x").
func cleanName(n string) string {
	n = strings.TrimPrefix(path.Clean("/"+n), "/")
	if n == "" {
		return "."
	}
	return n
}

// sparse reports a GNU or PAX sparse file, whose bytes in the archive are
// not the file's.
func sparse(h *tar.Header) bool {
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return h.Typeflag == tar.TypeGNUSparse
}

// Open opens one regular file of the archive.
func (a *Archive) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := a.entries[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &archiveFile{SectionReader: io.NewSectionReader(a.f, e.off, e.hdr.Size), info: e.hdr.FileInfo()}, nil
}

// Close closes the archive's file.
func (a *Archive) Close() error { return a.f.Close() }

type archiveFile struct {
	*io.SectionReader
	info fs.FileInfo
}

func (f *archiveFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *archiveFile) Close() error               { return nil }

var _ fs.FS = (*Archive)(nil)
