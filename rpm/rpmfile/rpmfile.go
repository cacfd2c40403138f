package rpmfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
	rpmutils "github.com/sassoftware/go-rpmutils"
)

// Package is what the header says.
type Package struct {
	rpmver.NEVRA
	Summary, Description    string
	License, URL, SourceRPM string
	Requires                []string
	// Files are the paths the package installs, with their modes.
	Files []File
	// Deps are the package's dependencies of every kind, in the header's
	// order within a kind.
	Deps []Dep
	// Vendor, Group, Packager and BuildHost are the header's strings of
	// those names; BuildTime its build time (Unix seconds).
	Vendor, Group, Packager, BuildHost string
	BuildTime                          int64
	// InstalledSize is the size of the files installed, ArchiveSize that
	// of the uncompressed payload.
	InstalledSize, ArchiveSize uint64
	// HeaderStart and HeaderEnd are the byte offsets in the file of the
	// (main) header, after the lead and the signature header.
	HeaderStart, HeaderEnd int64
}

// File is one entry of the package's file list.
type File struct {
	Path string
	Mode fs.FileMode
	// Ghost: the package owns the path but its payload has no file for
	// it (%ghost).
	Ghost bool
}

// DepKind is the kind of a dependency, named as repodata names it.
type DepKind string

// The kinds of dependency, in the order of the header's tags.
const (
	Provides    DepKind = "provides"
	Requires    DepKind = "requires"
	Conflicts   DepKind = "conflicts"
	Obsoletes   DepKind = "obsoletes"
	Recommends  DepKind = "recommends"
	Suggests    DepKind = "suggests"
	Supplements DepKind = "supplements"
	Enhances    DepKind = "enhances"
)

// depTags are the header's name, flags and version tags of each kind.
var depTags = []struct {
	kind                 DepKind
	name, flags, version int
}{
	{Provides, rpmutils.PROVIDENAME, rpmutils.PROVIDEFLAGS, rpmutils.PROVIDEVERSION},
	{Requires, rpmutils.REQUIRENAME, rpmutils.REQUIREFLAGS, rpmutils.REQUIREVERSION},
	{Conflicts, rpmutils.CONFLICTNAME, rpmutils.CONFLICTFLAGS, rpmutils.CONFLICTVERSION},
	{Obsoletes, rpmutils.OBSOLETENAME, rpmutils.OBSOLETEFLAGS, rpmutils.OBSOLETEVERSION},
	{Recommends, 5046, 5048, 5047},
	{Suggests, 5049, 5051, 5050},
	{Supplements, 5052, 5054, 5053},
	{Enhances, 5055, 5057, 5056},
}

// Dep is one dependency: a name (a capability, a file, or a rich
// dependency in parentheses), rpm's RPMSENSE flags, and the EVR it is
// compared with ("" for none).
type Dep struct {
	Kind  DepKind
	Name  string
	Flags uint32
	EVR   string
}

// tagPayloadSize is rpm 6's RPMTAG_PAYLOADSIZE: the uncompressed payload's
// size, in the main header.
const tagPayloadSize = 5112

// RPMSENSE flags of a dependency (rpm's rpmds.h).
const (
	SenseLess       = 1 << 1
	SenseGreater    = 1 << 2
	SenseEqual      = 1 << 3
	SensePrereq     = 1 << 6
	SenseScriptPre  = 1 << 9
	SenseScriptPost = 1 << 10
	SenseRPMLib     = 1 << 24
)

// MaxContent bounds the size of one file Read returns.
const MaxContent = 16 << 20

// Read reads an RPM from r and returns its header, and the contents of the
// regular files for which want(path) is true (absolute paths, as in Files).
// With want nil, the payload is not read.
func Read(r io.Reader, want func(path string) bool) (p *Package, contents map[string][]byte, err error) {
	// go-rpmutils trusts the header's offsets and counts (it slices with
	// them): a damaged or hostile header is an error here, not a crash.
	defer func() {
		if v := recover(); v != nil {
			p, contents, err = nil, nil, fmt.Errorf("damaged RPM header: %v", v)
		}
	}()
	return read(r, want)
}

// readHeaders reads the lead and both headers, refusing sizes no real RPM
// has before anything is allocated for them. sigEnd is where the main
// header starts.
func readHeaders(r io.Reader) (hdrs []byte, sigEnd int, err error) {
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, 96); err != nil {
		return nil, 0, err
	}
	for i, name := range []string{"signature header", "header"} {
		var intro [16]byte
		if i == 1 {
			sigEnd = buf.Len()
		}
		if _, err := io.ReadFull(r, intro[:]); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", name, err)
		}
		if !bytes.Equal(intro[:3], []byte{0x8e, 0xad, 0xe8}) {
			return nil, 0, fmt.Errorf("%s: bad magic", name)
		}
		n, size := binary.BigEndian.Uint32(intro[8:]), binary.BigEndian.Uint32(intro[12:])
		if n > 1<<16 || size > 256<<20 {
			return nil, 0, fmt.Errorf("%s too large (%d entries, %d bytes)", name, n, size)
		}
		if i == 0 {
			size = (size + 7) / 8 * 8 // the signature header is padded to 8 bytes
		}
		buf.Write(intro[:])
		// Copied, not allocated up front: a claimed size costs memory
		// only as far as the bytes are really there.
		want := int64(n)*16 + int64(size)
		if got, err := io.CopyN(&buf, r, want); err != nil {
			return nil, 0, fmt.Errorf("%s: %d of %d bytes: %w", name, got, want, err)
		}
	}
	return buf.Bytes(), sigEnd, nil
}

func read(r io.Reader, want func(path string) bool) (*Package, map[string][]byte, error) {
	hdrs, sigEnd, err := readHeaders(r)
	if err != nil {
		return nil, nil, fmt.Errorf("not an RPM, or a damaged one: %w", err)
	}
	mr := io.MultiReader(bytes.NewReader(hdrs), r)
	rpm, err := rpmutils.ReadRpm(mr)
	if err != nil {
		return nil, nil, fmt.Errorf("not an RPM, or a damaged one: %w", err)
	}
	h := rpm.Header
	str := func(tag int) string {
		s, _ := h.GetString(tag)
		return s
	}
	p := &Package{
		NEVRA: rpmver.NEVRA{Name: str(rpmutils.NAME), Version: str(rpmutils.VERSION),
			Release: str(rpmutils.RELEASE), Arch: str(rpmutils.ARCH)},
		Summary: str(rpmutils.SUMMARY), Description: str(rpmutils.DESCRIPTION),
		License: str(rpmutils.LICENSE), URL: str(rpmutils.URL), SourceRPM: str(rpmutils.SOURCERPM),
	}
	p.Requires, _ = h.GetStrings(rpmutils.REQUIRENAME)
	p.Vendor, p.Group, p.Packager, p.BuildHost = str(rpmutils.VENDOR), str(rpmutils.GROUP), str(rpmutils.PACKAGER), str(rpmutils.BUILDHOST)
	if t, err := h.GetUint64Fallback(rpmutils.BUILDTIME, rpmutils.BUILDTIME); err == nil {
		p.BuildTime = int64(t)
	}
	p.InstalledSize, _ = h.GetUint64Fallback(rpmutils.SIZE, rpmutils.LONGSIZE)
	p.ArchiveSize, err = h.GetUint64Fallback(rpmutils.SIG_PAYLOADSIZE, rpmutils.SIG_LONGARCHIVESIZE)
	if err != nil {
		// rpm 6's v6 packages record it in the main header.
		p.ArchiveSize, _ = h.GetUint64Fallback(rpmutils.ARCHIVESIZE, tagPayloadSize)
	}
	p.HeaderStart, p.HeaderEnd = int64(sigEnd), int64(len(hdrs))
	for _, t := range depTags {
		names, _ := h.GetStrings(t.name)
		flags, _ := h.GetUint32s(t.flags)
		versions, _ := h.GetStrings(t.version)
		for i, n := range names {
			d := Dep{Kind: t.kind, Name: n}
			if i < len(flags) {
				d.Flags = flags[i]
			}
			if i < len(versions) {
				d.EVR = versions[i]
			}
			p.Deps = append(p.Deps, d)
		}
	}
	if e, err := h.GetUint32s(rpmutils.EPOCH); err == nil && len(e) > 0 {
		p.Epoch = int(e[0])
	}
	if p.Name == "" || p.Version == "" {
		return nil, nil, errors.New("header: no name or version")
	}
	files, err := h.GetFiles()
	if err != nil {
		return nil, nil, fmt.Errorf("header: file list: %w", err)
	}
	for _, f := range files {
		p.Files = append(p.Files, File{Path: f.Name(), Mode: unixMode(uint32(f.Mode()) & 0xffff), Ghost: f.Flags()&rpmutils.RPMFILE_GHOST != 0})
	}
	if want == nil {
		return p, nil, nil
	}
	if f, _ := h.GetString(rpmutils.PAYLOADFORMAT); f != "" && f != "cpio" {
		return nil, nil, fmt.Errorf("payload: %q, not cpio", f)
	}
	comp, _ := h.GetString(rpmutils.PAYLOADCOMPRESSOR)
	payload, closePayload, err := Decompress(mr, comp)
	if err != nil {
		return nil, nil, fmt.Errorf("payload (%s): %w", comp, err)
	}
	defer closePayload()
	contents, err := readPayload(payload, payloadFiles(files), want)
	if err != nil {
		return nil, nil, fmt.Errorf("payload: %w", err)
	}
	return p, contents, nil
}

// payloadFiles says what the header's file list means for a stripped
// payload: the bytes each entry has there and its hard-link group, whose
// contents come with its last member only.
func payloadFiles(files []rpmutils.FileInfo) []payloadFile {
	out := make([]payloadFile, len(files))
	last := map[uint64]int{}
	for i, f := range files {
		out[i] = payloadFile{path: f.Name(), mode: uint32(f.Mode())}
		switch unixMode(uint32(f.Mode()) & 0xffff).Type() {
		case 0:
			out[i].size = f.Size()
			if ino := uint64(uint32(f.Device()))<<32 | uint64(uint32(f.Inode())); ino != 0 {
				if j, ok := last[ino]; ok {
					out[j].size, out[j].link, out[i].link = 0, ino, ino
				}
				last[ino] = i
			}
		case fs.ModeSymlink:
			out[i].size = int64(len(f.Linkname()))
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
