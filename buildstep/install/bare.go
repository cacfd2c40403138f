package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/repodata"
)

// indexBareRepos makes a repository of each repo folder of the step that
// holds .rpm files but no repodata/ (the RPMs rpmbuild, mock or fedpkg
// left, createrepo_c never run on them): the metadata, as createrepo_c
// writes it, goes to a folder of the step's tmpfs with a symlink to each
// package, and the repo is read from there (s.made, which reposDir writes
// into the repo's .repo file). A package file it cannot read fails the
// step, naming the file. Folders with nothing to index are left to
// unreadRepoFolders.
func (s *step) indexBareRepos() *buildstep.Failure {
	for i, r := range s.cfg.Repos {
		if r.Dir == "" || strings.Contains(r.Dir, "$") {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.Dir, filepath.FromSlash(repodata.RepomdFile))); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if fi, err := os.Stat(r.Dir); err != nil || !fi.IsDir() || countRPMs(r.Dir) == 0 {
			continue
		}
		pkgs, err := repodata.Index(r.Dir)
		if err == nil && len(pkgs) == 0 {
			continue // only source packages
		}
		made := filepath.Join(buildstep.TmpDir, "made-repos", r.ID)
		if err == nil {
			err = linkPackages(r.Dir, made, pkgs)
		}
		if err == nil {
			err = repodata.Write(made, pkgs)
		}
		if err != nil {
			u := buildstep.UnreadRepo{Repo: r.ID, Why: buildstep.RepoBadPackage + ": " + strings.TrimPrefix(err.Error(), r.Dir+"/")}
			return &buildstep.Failure{Status: -1, Unread: []buildstep.UnreadRepo{u},
				Message: fmt.Sprintf("repo %s: its folder has no repodata/ and its RPMs could not be indexed: %v", r.ID, err)}
		}
		fmt.Fprintf(s.out, "flatpak-frontend: repo %s: its folder has no repodata/: indexed its %d packages as createrepo_c would\n", r.ID, len(pkgs))
		if s.made == nil {
			s.made = map[string]string{}
		}
		s.made[r.ID] = made
		s.cfg.Repos[i].Dir = made
	}
	return nil
}

// linkPackages makes a symlink in dir to each package of a folder, at the
// same path.
func linkPackages(folder, dir string, pkgs []repodata.Indexed) error {
	for _, p := range pkgs {
		link := filepath.Join(dir, filepath.FromSlash(p.Location))
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(filepath.Join(folder, filepath.FromSlash(p.Location)), link); err != nil {
			return err
		}
	}
	return nil
}

// withBaseURL is a .repo file's text with its baseurl replaced by the
// folder dir.
func withBaseURL(repoFile []byte, dir string) []byte {
	lines := strings.SplitAfter(string(repoFile), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "baseurl=") {
			lines[i] = "baseurl=file://" + dir + "/\n"
		}
	}
	return []byte(strings.Join(lines, ""))
}
