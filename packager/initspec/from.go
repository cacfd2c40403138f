package initspec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmfile"
)

// RepoContext is the build context the generated file reads a local
// repository from: build with --build-context rpms=DIR.
const RepoContext = "rpms"

// FromFile writes the flatpak.yaml of an RPM file. The folder it lies in
// is written as the repo, a build context: a repository (repodata/ next to
// it), or a folder of RPMs the build indexes (rpmbuild's RPMS/ when the
// file is in one of its architecture folders, so that packages of the
// other architectures come too); o.Repo overrides it.
func FromFile(file string, o Options) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, contents, err := rpmfile.Read(f, Wanted)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	dir := filepath.Dir(file)
	if o.Repo == nil {
		if _, err := os.Stat(filepath.Join(dir, "repodata", "repomd.xml")); err != nil && rpmbuildArchDir(dir) {
			dir = filepath.Dir(dir)
		}
		o.Repo = localRepo(dir)
	}
	return Generate(p, contents, o)
}

// FromRepo writes the flatpak.yaml of the newest package called name in
// the repository at loc (directory or URL).
func FromRepo(loc, name string, o Options) ([]byte, error) {
	r, err := OpenRepo(loc)
	if err != nil {
		return nil, err
	}
	href, err := r.Find(name)
	if err != nil {
		return nil, err
	}
	rc, err := r.Open(href)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	p, contents, err := rpmfile.Read(rc, Wanted)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", loc, href, err)
	}
	if o.Repo == nil {
		if r.IsLocal() {
			o.Repo = localRepo(r.dir)
		} else {
			o.Repo = &RepoEntry{Name: "packages", BaseURL: strings.TrimSuffix(r.base.String(), "/")}
		}
	}
	return Generate(p, contents, o)
}

// rpmbuildArchDir says whether dir is an architecture's folder of
// rpmbuild's RPMS/.
func rpmbuildArchDir(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil || filepath.Base(filepath.Dir(abs)) != "RPMS" {
		return false
	}
	switch filepath.Base(abs) {
	case "noarch", "x86_64", "aarch64", "i686", "ppc64le", "s390x", "riscv64", "armv7hl":
		return true
	}
	return false
}

func localRepo(dir string) *RepoEntry {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return &RepoEntry{
		Name:    "packages",
		Context: RepoContext,
		Path:    ".",
		Comment: "The repository the package came from, given at build time:\n  --build-context " + RepoContext + "=" + abs,
	}
}
