package repodata

import (
	"compress/bzip2"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
	"github.com/klauspost/compress/zstd"
	"github.com/xi2/xz"
)

// RepomdFile is the index of a repository's metadata, relative to the
// repository.
const RepomdFile = "repodata/repomd.xml"

// An Opener opens a file of a repository by its path relative to the
// repository (RepomdFile, or a location repomd.xml gives).
type Opener func(rel string) (io.ReadCloser, error)

// Package is a package of a repository's primary metadata.
type Package struct {
	rpmver.NEVRA
	// Location is the package file's path, relative to the repository.
	Location string
	// ChecksumType is the digest algorithm of Checksum as createrepo_c
	// names it (sha256, sha512, sha1, or "sha" for sha1 in old repos);
	// Checksum is the package file's digest in hex.
	ChecksumType, Checksum string
}

type repomd struct {
	Data []struct {
		Type     string `xml:"type,attr"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
	} `xml:"data"`
}

// record is a <package> element of primary.xml, as far as it is read.
type record struct {
	Type    string `xml:"type,attr"`
	Name    string `xml:"name"`
	Arch    string `xml:"arch"`
	Version struct {
		Epoch string `xml:"epoch,attr"`
		Ver   string `xml:"ver,attr"`
		Rel   string `xml:"rel,attr"`
	} `xml:"version"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
}

// PrimaryLocation is where repomd.xml says the primary metadata is,
// relative to the repository.
func PrimaryLocation(open Opener) (string, error) {
	rc, err := open(RepomdFile)
	if err != nil {
		return "", fmt.Errorf("not an RPM repository: %w", err)
	}
	var md repomd
	err = xml.NewDecoder(rc).Decode(&md)
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("%s: %w", RepomdFile, err)
	}
	for _, d := range md.Data {
		if d.Type == "primary" && d.Location.Href != "" {
			return d.Location.Href, nil
		}
	}
	return "", fmt.Errorf("%s lists no primary metadata", RepomdFile)
}

// Packages calls fn for each package of the repository's primary
// metadata, in the order listed, reading it as a stream (Fedora's lists
// some 70,000 packages). An error from fn stops the read and is returned.
func Packages(open Opener, fn func(Package) error) error {
	href, err := PrimaryLocation(open)
	if err != nil {
		return err
	}
	rc, err := open(href)
	if err != nil {
		return err
	}
	defer rc.Close()
	r, err := Decompressed(href, rc)
	if err != nil {
		return fmt.Errorf("%s: %w", href, err)
	}
	defer r.Close()
	d := xml.NewDecoder(r)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", href, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "package" {
			continue
		}
		var rec record
		if err := d.DecodeElement(&rec, &se); err != nil {
			return fmt.Errorf("%s: %w", href, err)
		}
		if rec.Type != "" && rec.Type != "rpm" {
			continue
		}
		epoch := 0
		if e := rec.Version.Epoch; e != "" {
			if epoch, err = strconv.Atoi(e); err != nil || epoch < 0 {
				return fmt.Errorf("%s: package %s: epoch %q", href, rec.Name, e)
			}
		}
		p := Package{
			NEVRA:        rpmver.NEVRA{Name: rec.Name, Epoch: epoch, Version: rec.Version.Ver, Release: rec.Version.Rel, Arch: rec.Arch},
			Location:     rec.Location.Href,
			ChecksumType: rec.Checksum.Type,
			Checksum:     strings.ToLower(strings.TrimSpace(rec.Checksum.Value)),
		}
		if err := fn(p); err != nil {
			return err
		}
	}
}

// Decompressed reads a metadata file compressed as its name says:
// createrepo_c writes gz (EL), zst (Fedora) or xz, old yum repos bz2.
func Decompressed(name string, r io.Reader) (io.ReadCloser, error) {
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		return zr, nil
	case strings.HasSuffix(name, ".zst"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	case strings.HasSuffix(name, ".xz"):
		zr, err := xz.NewReader(r, 0)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(zr), nil
	case strings.HasSuffix(name, ".bz2"):
		return io.NopCloser(bzip2.NewReader(r)), nil
	case strings.HasSuffix(name, ".xml"):
		return io.NopCloser(r), nil
	}
	return nil, fmt.Errorf("compression of %s not supported (gz, zst, xz, bz2 or none)", name)
}
