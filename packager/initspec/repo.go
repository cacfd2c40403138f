package initspec

import (
	"compress/bzip2"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
	"github.com/klauspost/compress/zstd"
	"github.com/xi2/xz"
)

// Repo is an RPM repository: a directory or an http(s)/file URL holding
// repodata/repomd.xml.
type Repo struct {
	// Location is as the user gave it.
	Location string
	dir      string // for local repositories
	base     *url.URL
}

// OpenRepo takes a directory, a file:// URL or an http(s) URL.
func OpenRepo(loc string) (*Repo, error) {
	r := &Repo{Location: loc}
	u, err := url.Parse(loc)
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https"):
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		r.base = u
	case err == nil && u.Scheme == "file":
		r.dir = u.Path
	default:
		r.dir = loc
	}
	return r, nil
}

// IsLocal says whether the repository is a directory here.
func (r *Repo) IsLocal() bool { return r.dir != "" }

func (r *Repo) open(rel string) (io.ReadCloser, error) {
	if r.dir != "" {
		return os.Open(filepath.Join(r.dir, filepath.FromSlash(rel)))
	}
	u, err := r.base.Parse(rel)
	if err != nil {
		return nil, err
	}
	resp, err := http.Get(u.String())
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return resp.Body, nil
}

type repomd struct {
	Data []struct {
		Type     string `xml:"type,attr"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
	} `xml:"data"`
}

type primary struct {
	Packages []struct {
		Name    string `xml:"name"`
		Arch    string `xml:"arch"`
		Version struct {
			Epoch string `xml:"epoch,attr"`
			Ver   string `xml:"ver,attr"`
			Rel   string `xml:"rel,attr"`
		} `xml:"version"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
	} `xml:"package"`
}

// Find returns the location (relative to the repository) of the newest
// binary package called name, read from repodata/primary.xml.
func (r *Repo) Find(name string) (string, error) {
	rc, err := r.open("repodata/repomd.xml")
	if err != nil {
		return "", fmt.Errorf("%s: not an RPM repository: %w", r.Location, err)
	}
	var md repomd
	err = xml.NewDecoder(rc).Decode(&md)
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("%s: repodata/repomd.xml: %w", r.Location, err)
	}
	href := ""
	for _, d := range md.Data {
		if d.Type == "primary" {
			href = d.Location.Href
		}
	}
	if href == "" {
		return "", fmt.Errorf("%s: repomd.xml lists no primary data", r.Location)
	}
	rc, err = r.open(href)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	dt, err := decompressed(href, rc)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w", r.Location, href, err)
	}
	var p primary
	if err := xml.Unmarshal(dt, &p); err != nil {
		return "", fmt.Errorf("%s: %s: %w", r.Location, href, err)
	}
	best, bestEVR := "", rpmver.EVR{}
	var names []string
	for _, pkg := range p.Packages {
		names = append(names, pkg.Name)
		if pkg.Name != name || pkg.Arch == "src" || pkg.Arch == "nosrc" {
			continue
		}
		evr, err := rpmver.Parse(pkg.Version.Epoch + ":" + pkg.Version.Ver + "-" + pkg.Version.Rel)
		if err != nil {
			continue
		}
		if best == "" || rpmver.CompareEVR(evr, bestEVR) > 0 {
			best, bestEVR = pkg.Location.Href, evr
		}
	}
	if best == "" {
		return "", fmt.Errorf("%s: no package %q (it has %d packages)", r.Location, name, len(names))
	}
	return best, nil
}

// Open opens a file of the repository, such as a location from Find.
func (r *Repo) Open(rel string) (io.ReadCloser, error) { return r.open(rel) }

func decompressed(name string, r io.Reader) ([]byte, error) {
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	case strings.HasSuffix(name, ".zst"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return io.ReadAll(zr)
	case strings.HasSuffix(name, ".xz"):
		zr, err := xz.NewReader(r, 0)
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	case strings.HasSuffix(name, ".bz2"):
		return io.ReadAll(bzip2.NewReader(r))
	case strings.HasSuffix(name, ".xml"):
		return io.ReadAll(r)
	}
	return nil, fmt.Errorf("compression of %s not supported (gz, zst, xz, bz2 or none)", name)
}
