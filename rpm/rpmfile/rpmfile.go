// Package rpmfile reads an RPM package file: the tags of its header that
// describe the package and its files, and, streaming through the cpio
// payload, the contents of the files a caller asks for. It does not verify
// signatures: it is for looking at a package, not for trusting it.
//
// Payloads compressed with gzip, bzip2 and zstd are read in Go; xz and lzma
// go through the xz command, when there is one.
package rpmfile

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Header tags this package reads (rpmtag.h).
const (
	tagName              = 1000
	tagVersion           = 1001
	tagRelease           = 1002
	tagEpoch             = 1003
	tagSummary           = 1004
	tagDescription       = 1005
	tagLicense           = 1014
	tagURL               = 1020
	tagArch              = 1022
	tagOldFilenames      = 1027
	tagFileModes         = 1030
	tagSourceRPM         = 1044
	tagRequireName       = 1049
	tagDirIndexes        = 1116
	tagBasenames         = 1117
	tagDirNames          = 1118
	tagPayloadCompressor = 1125
)

// Header data types.
const (
	typeInt16       = 3
	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// Package is what the header says.
type Package struct {
	Name, Version, Release, Arch string
	Epoch                        int
	Summary, Description         string
	License, URL, SourceRPM      string
	Requires                     []string
	// Files are the paths the package installs, with their modes.
	Files []File
}

// File is one entry of the package's file list.
type File struct {
	Path string
	Mode fs.FileMode
}

// NVRA is NAME-VERSION-RELEASE.ARCH.
func (p *Package) NVRA() string { return p.Name + "-" + p.Version + "-" + p.Release + "." + p.Arch }

// MaxContent bounds the size of one file Read returns.
const MaxContent = 16 << 20

// Read reads an RPM from r and returns its header, and the contents of the
// regular files for which want(path) is true (absolute paths, as in Files).
// With want nil, the payload is not read.
func Read(r io.Reader, want func(path string) bool) (*Package, map[string][]byte, error) {
	br := bufio.NewReader(r)
	lead := make([]byte, 96)
	if _, err := io.ReadFull(br, lead); err != nil {
		return nil, nil, fmt.Errorf("not an RPM: %w", err)
	}
	if !bytes.Equal(lead[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, nil, errors.New("not an RPM: no RPM lead")
	}
	// The signature header is padded to 8 bytes.
	sig, err := readHeader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("signature header: %w", err)
	}
	if pad := (8 - sig.size%8) % 8; pad > 0 {
		if _, err := br.Discard(pad); err != nil {
			return nil, nil, err
		}
	}
	h, err := readHeader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	p := &Package{
		Name: h.str(tagName), Version: h.str(tagVersion), Release: h.str(tagRelease),
		Arch: h.str(tagArch), Summary: h.str(tagSummary), Description: h.str(tagDescription),
		License: h.str(tagLicense), URL: h.str(tagURL), SourceRPM: h.str(tagSourceRPM),
		Requires: h.strs(tagRequireName),
	}
	if e := h.ints(tagEpoch); len(e) > 0 {
		p.Epoch = int(e[0])
	}
	if p.Name == "" || p.Version == "" {
		return nil, nil, errors.New("header: no name or version")
	}
	names := h.strs(tagOldFilenames)
	if names == nil {
		dirs, bases, idx := h.strs(tagDirNames), h.strs(tagBasenames), h.ints(tagDirIndexes)
		if len(idx) != len(bases) {
			return nil, nil, errors.New("header: file list is inconsistent")
		}
		for i, b := range bases {
			if int(idx[i]) >= len(dirs) || idx[i] < 0 {
				return nil, nil, errors.New("header: file list is inconsistent")
			}
			names = append(names, dirs[idx[i]]+b)
		}
	}
	modes := h.ints(tagFileModes)
	for i, n := range names {
		f := File{Path: n}
		if i < len(modes) {
			f.Mode = unixMode(uint32(modes[i]) & 0xffff)
		}
		p.Files = append(p.Files, f)
	}
	if want == nil {
		return p, nil, nil
	}
	payload, closeFn, err := decompress(br, h.str(tagPayloadCompressor))
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	contents, err := readCpio(payload, want)
	if err != nil {
		return nil, nil, fmt.Errorf("payload: %w", err)
	}
	return p, contents, nil
}

type entry struct {
	tag, typ, off, count int32
}

type header struct {
	entries map[int32]entry
	data    []byte
	size    int
}

func readHeader(r io.Reader) (*header, error) {
	var pre [16]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, err
	}
	if !bytes.Equal(pre[:3], []byte{0x8e, 0xad, 0xe8}) {
		return nil, errors.New("bad header magic")
	}
	n := binary.BigEndian.Uint32(pre[8:])
	size := binary.BigEndian.Uint32(pre[12:])
	if n > 1<<16 || size > 256<<20 {
		return nil, fmt.Errorf("header too large (%d entries, %d bytes)", n, size)
	}
	idx := make([]byte, 16*n)
	if _, err := io.ReadFull(r, idx); err != nil {
		return nil, err
	}
	h := &header{entries: map[int32]entry{}, data: make([]byte, size), size: int(size)}
	if _, err := io.ReadFull(r, h.data); err != nil {
		return nil, err
	}
	for i := uint32(0); i < n; i++ {
		e := idx[16*i:]
		en := entry{
			tag: int32(binary.BigEndian.Uint32(e)), typ: int32(binary.BigEndian.Uint32(e[4:])),
			off: int32(binary.BigEndian.Uint32(e[8:])), count: int32(binary.BigEndian.Uint32(e[12:])),
		}
		if en.off < 0 || int(en.off) > len(h.data) || en.count < 0 {
			return nil, fmt.Errorf("tag %d points outside the header", en.tag)
		}
		h.entries[en.tag] = en
	}
	return h, nil
}

// strs reads a string, string array or i18n string tag.
func (h *header) strs(tag int32) []string {
	e, ok := h.entries[tag]
	if !ok || (e.typ != typeString && e.typ != typeStringArray && e.typ != typeI18NString) {
		return nil
	}
	d := h.data[e.off:]
	out := make([]string, 0, min(int(e.count), len(d)))
	for range e.count {
		i := bytes.IndexByte(d, 0)
		if i < 0 {
			return out
		}
		out = append(out, string(d[:i]))
		d = d[i+1:]
	}
	return out
}

func (h *header) str(tag int32) string {
	if s := h.strs(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

func (h *header) ints(tag int32) []int64 {
	e, ok := h.entries[tag]
	if !ok {
		return nil
	}
	size := map[int32]int{typeInt16: 2, typeInt32: 4}[e.typ]
	if size == 0 || int(e.off)+size*int(e.count) > len(h.data) {
		return nil
	}
	out := make([]int64, e.count)
	for i := range out {
		b := h.data[int(e.off)+size*i:]
		if size == 2 {
			out[i] = int64(binary.BigEndian.Uint16(b))
		} else {
			out[i] = int64(int32(binary.BigEndian.Uint32(b)))
		}
	}
	return out
}

func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & 0o170000 {
	case 0o040000:
		mode |= fs.ModeDir
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o100000:
	default:
		mode |= fs.ModeIrregular
	}
	return mode
}

func decompress(r io.Reader, comp string) (io.Reader, func(), error) {
	switch comp {
	case "", "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("payload: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case "bzip2":
		return bzip2.NewReader(r), func() {}, nil
	case "zstd":
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("payload: %w", err)
		}
		return zr, zr.Close, nil
	case "xz", "lzma":
		// No xz decoder in the module graph: the xz command reads both.
		cmd := exec.Command("xz", "--decompress", "--stdout", "--format="+map[string]string{"xz": "xz", "lzma": "lzma"}[comp])
		cmd.Stdin = r
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, fmt.Errorf("payload is %s-compressed and the xz command is not available: %w", comp, err)
		}
		return out, func() { out.Close(); cmd.Wait() }, nil
	}
	return nil, nil, fmt.Errorf("payload: unknown compressor %q", comp)
}

// readCpio reads a "newc" cpio archive, keeping the wanted regular files.
func readCpio(r io.Reader, want func(string) bool) (map[string][]byte, error) {
	out := map[string][]byte{}
	var hdr [110]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, err
		}
		if string(hdr[:6]) != "070701" && string(hdr[:6]) != "070702" {
			return nil, fmt.Errorf("unsupported cpio header %q", hdr[:6])
		}
		field := func(i int) (int64, error) {
			return strconv.ParseInt(string(hdr[6+8*i:14+8*i]), 16, 64)
		}
		mode, err1 := field(1)
		size, err2 := field(6)
		nameSize, err3 := field(11)
		if err := errors.Join(err1, err2, err3); err != nil || size < 0 || nameSize <= 0 || nameSize > 1<<16 {
			return nil, fmt.Errorf("bad cpio header: %v", err)
		}
		name := make([]byte, nameSize+pad4(110+nameSize))
		if _, err := io.ReadFull(r, name); err != nil {
			return nil, err
		}
		path := string(bytes.TrimRight(name[:nameSize], "\x00"))
		if path == "TRAILER!!!" {
			return out, nil
		}
		path = "/" + strings.TrimPrefix(strings.TrimPrefix(path, "."), "/")
		skip := size + pad4(size)
		if mode&0o170000 == 0o100000 && want(path) && size <= MaxContent {
			dt := make([]byte, size)
			if _, err := io.ReadFull(r, dt); err != nil {
				return nil, err
			}
			out[path] = dt
			skip -= size
		}
		if _, err := io.CopyN(io.Discard, r, skip); err != nil {
			return nil, err
		}
	}
}

func pad4(n int64) int64 { return (4 - n%4) % 4 }
