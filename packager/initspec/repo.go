package initspec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/repodata"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
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

// Find returns the location (relative to the repository) of the newest
// binary package called name, read from its primary metadata, or, for a
// folder of RPMs without repodata/ (which the build indexes), from the
// packages' headers.
func (r *Repo) Find(name string) (string, error) {
	best, bestEVR, n := "", rpmver.EVR{}, 0
	packages := func(fn func(repodata.Package) error) error { return repodata.Packages(r.open, fn) }
	if r.dir != "" && isBare(r.dir) {
		packages = func(fn func(repodata.Package) error) error {
			pkgs, err := repodata.Index(r.dir)
			for _, p := range pkgs {
				if err == nil {
					err = fn(repodata.Package{NEVRA: p.NEVRA, Location: p.Location})
				}
			}
			return err
		}
	}
	err := packages(func(p repodata.Package) error {
		n++
		if p.Name != name || p.Arch == "src" || p.Arch == "nosrc" {
			return nil
		}
		if best == "" || rpmver.CompareEVR(p.EVR(), bestEVR) > 0 {
			best, bestEVR = p.Location, p.EVR()
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", r.Location, err)
	}
	if best == "" {
		return "", fmt.Errorf("%s: no package %q (it has %d packages)", r.Location, name, n)
	}
	return best, nil
}

// Open opens a file of the repository, such as a location from Find.
func (r *Repo) Open(rel string) (io.ReadCloser, error) { return r.open(rel) }

// isBare says whether dir is a folder without repodata/repomd.xml.
func isBare(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(repodata.RepomdFile)))
	return errors.Is(err, fs.ErrNotExist)
}
