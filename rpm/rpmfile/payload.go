package rpmfile

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"
	"github.com/xi2/xz"
)

// Bounds on what a payload may claim before anything is allocated for it:
// a crafted package costs time as far as its bytes go, never memory it
// only says it has.
const (
	maxName   = 64 << 10  // a cpio entry's path, NUL included
	maxWindow = 128 << 20 // an lzma/xz dictionary or zstd window (rpm's w22 uses 128 MiB)
)

// Decompress wraps r, compressed with comp as rpm names compressors
// (PAYLOADCOMPRESSOR: gzip, bzip2, zstd, xz, lzma, or uncompressed; ""
// is gzip when it looks like it), in the reader that decompresses it, with
// bounds on the memory a crafted stream may claim. The returned close
// releases what the reader holds (zstd's goroutines). Package files'
// payloads and repositories' metadata are read with it.
func Decompress(r io.Reader, comp string) (io.Reader, func(), error) {
	br := bufio.NewReader(r)
	if comp == "" { // no tag: rpm's own rule is gzip when it looks like it
		if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
			comp = "gzip"
		} else {
			comp = "uncompressed"
		}
	}
	nop := func() {}
	switch comp {
	case "uncompressed":
		return br, nop, nil
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case "bzip2":
		return bzip2.NewReader(br), nop, nil
	case "zstd":
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxWindow),
			zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case "xz":
		zr, err := xz.NewReader(br, maxWindow)
		if err != nil {
			return nil, nil, err
		}
		return zr, nop, nil
	case "lzma":
		// The legacy .lzma header: properties, then the dictionary size
		// the decoder allocates at once.
		hdr, err := br.Peek(5)
		if err != nil {
			return nil, nil, err
		}
		if dict := binary.LittleEndian.Uint32(hdr[1:]); dict > maxWindow {
			return nil, nil, fmt.Errorf("lzma dictionary of %d bytes (at most %d here)", dict, maxWindow)
		}
		zr, err := lzma.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, nop, nil
	}
	return nil, nil, fmt.Errorf("unknown compressor %q", comp)
}

// cpioReader walks rpm's cpio archive: "newc" entries (070701, 070702)
// and the stripped entries (07070X) of rpm 4.12's large-file payloads,
// which carry only an index into the header's file list, whose sizes
// and modes then stand for theirs. Every entry starts 4-aligned.
type cpioReader struct {
	r     io.Reader
	pos   int64
	files []payloadFile // from the header, for stripped entries
}

// payloadFile is what a stripped entry takes from the header.
type payloadFile struct {
	path string
	mode uint32
	size int64  // the bytes in the payload (0 for all but one of a hard-link group)
	link uint64 // the hard-link group (device and inode), 0 when alone
}

// entry is one member of the archive, positioned at its contents.
type entry struct {
	payloadFile
	trailer bool
}

func (c *cpioReader) read(p []byte) error {
	n, err := io.ReadFull(c.r, p)
	c.pos += int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (c *cpioReader) skip(n int64) error {
	got, err := io.CopyN(io.Discard, c.r, n)
	c.pos += got
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (c *cpioReader) align() error { return c.skip((4 - c.pos%4) % 4) }

func (c *cpioReader) next() (*entry, error) {
	if err := c.align(); err != nil {
		return nil, err
	}
	var magic [6]byte
	if err := c.read(magic[:]); err != nil {
		return nil, fmt.Errorf("ends at byte %d, before its trailer: %w", c.pos, err)
	}
	switch string(magic[:]) {
	case "07070X":
		var idx [8]byte
		if err := c.read(idx[:]); err != nil {
			return nil, fmt.Errorf("at byte %d: stripped cpio header: %w", c.pos, err)
		}
		i, err := strconv.ParseUint(string(idx[:]), 16, 32)
		if err != nil || i >= uint64(len(c.files)) {
			return nil, fmt.Errorf("at byte %d: stripped entry for file %q of %d", c.pos, idx, len(c.files))
		}
		return &entry{payloadFile: c.files[i]}, c.align()
	case "070701", "070702":
	default:
		return nil, fmt.Errorf("at byte %d: not a cpio entry (%q)", c.pos-6, magic)
	}
	var hdr [13 * 8]byte
	if err := c.read(hdr[:]); err != nil {
		return nil, fmt.Errorf("at byte %d: cpio header: %w", c.pos, err)
	}
	var field [13]uint64
	for i := range field {
		v, err := strconv.ParseUint(string(hdr[8*i:8*i+8]), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("at byte %d: cpio header field %d: %q", c.pos, i, hdr[8*i:8*i+8])
		}
		field[i] = v
	}
	ino, mode, nlink, size, devMajor, devMinor, nameSize := field[0], field[1], field[4], field[6], field[7], field[8], field[11]
	if nameSize == 0 || nameSize > maxName {
		return nil, fmt.Errorf("at byte %d: cpio entry name of %d bytes", c.pos, nameSize)
	}
	name := make([]byte, nameSize)
	if err := c.read(name); err != nil {
		return nil, fmt.Errorf("at byte %d: cpio entry name: %w", c.pos, err)
	}
	e := &entry{payloadFile: payloadFile{mode: uint32(mode), size: int64(size)}}
	path := string(bytes.TrimRight(name, "\x00"))
	if path == "TRAILER!!!" {
		e.trailer = true
		return e, nil
	}
	e.path = "/" + strings.TrimPrefix(strings.TrimPrefix(path, "."), "/")
	if nlink > 1 {
		e.link = devMajor<<48 | devMinor<<32 | ino | 1<<63
	}
	return e, c.align()
}

// readPayload keeps the contents of the wanted regular files. A hard-link
// group's contents come once, with its last member in the archive; the
// members before it have none and share them.
func readPayload(r io.Reader, files []payloadFile, want func(string) bool) (map[string][]byte, error) {
	c := &cpioReader{r: r, files: files}
	out := map[string][]byte{}
	pending := map[uint64][]string{} // link members waiting for the group's contents
	for {
		e, err := c.next()
		if err != nil {
			return nil, err
		}
		if e.trailer {
			for _, names := range pending { // a group of empty files
				for _, n := range names {
					out[n] = []byte{}
				}
			}
			return out, nil
		}
		regular := unixMode(e.mode&0xffff).Type() == 0
		keep := regular && e.size <= MaxContent && (want(e.path) || len(pending[e.link]) > 0)
		if regular && e.link != 0 && e.size == 0 {
			if want(e.path) {
				pending[e.link] = append(pending[e.link], e.path)
			}
			continue
		}
		if !keep {
			if err := c.skip(e.size); err != nil {
				return nil, fmt.Errorf("%s: %w", e.path, err)
			}
			continue
		}
		dt := make([]byte, e.size)
		if err := c.read(dt); err != nil {
			return nil, fmt.Errorf("%s: %w", e.path, err)
		}
		if want(e.path) {
			out[e.path] = dt
		}
		for _, n := range pending[e.link] {
			out[n] = dt
		}
		delete(pending, e.link)
	}
}
