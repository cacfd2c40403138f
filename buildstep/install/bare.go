package install

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
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
		fmt.Fprintf(s.out, "flatpak-frontend: repo %s: its folder has no repodata/: indexed its %s as createrepo_c would\n", r.ID, count(len(pkgs), "package"))
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

// maxStaleLook bounds the folder entries staleRepodata looks at: a local
// mirror of a whole distribution is not compared file by file.
const maxStaleLook = 20_000

// staleRepodata compares the repodata/ of each repo folder of the step
// with the .rpm files the folder holds, and says what does not match:
// RPMs added or rebuilt since createrepo_c last ran (which the installer
// does not see: it may install an older version without a word), and
// packages listed whose files are gone.
func (s *step) staleRepodata() {
	for _, r := range s.cfg.Repos {
		if r.Dir == "" || strings.Contains(r.Dir, "$") || s.made[r.ID] != "" {
			continue
		}
		if n := staleNotice(r); n != "" {
			fmt.Fprintln(s.out, "flatpak-frontend: "+n)
			s.report.Notices = append(s.report.Notices, n)
		}
	}
}

func staleNotice(r buildstep.Repo) string {
	files := map[string]bool{}
	seen := 0
	err := filepath.WalkDir(r.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if seen++; seen > maxStaleLook {
			return errTooMany
		}
		if d.IsDir() {
			if d.Name() == "repodata" {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, ".rpm") && !strings.HasSuffix(name, ".src.rpm") && !strings.HasSuffix(name, ".nosrc.rpm") {
			rel, _ := filepath.Rel(r.Dir, p)
			files[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		return ""
	}
	var gone []string
	listed := map[string]bool{}
	err = repodata.Packages(func(rel string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(r.Dir, filepath.FromSlash(rel)))
	}, func(p repodata.Package) error {
		if p.Arch == "src" || p.Arch == "nosrc" {
			return nil
		}
		loc := path.Clean(p.Location)
		listed[loc] = true
		if !files[loc] && !strings.HasPrefix(loc, "../") && !strings.Contains(loc, "://") {
			gone = append(gone, loc)
		}
		return nil
	})
	if err != nil {
		return "" // the installer says what is wrong with it
	}
	var unlisted []string
	for f := range files {
		if !listed[f] {
			unlisted = append(unlisted, f)
		}
	}
	slices.Sort(unlisted)
	var says []string
	if len(unlisted) > 0 {
		says = append(says, fmt.Sprintf("does not list %s in its folder (%s), which the installer therefore does not see", count(len(unlisted), ".rpm file"), someOf(unlisted)))
	}
	if len(gone) > 0 {
		says = append(says, fmt.Sprintf("lists %s the folder does not have (%s)", count(len(gone), "package file"), someOf(gone)))
	}
	if len(says) == 0 {
		return ""
	}
	return fmt.Sprintf("repos: repo %s: its repodata/ %s: run createrepo_c on the folder again (or remove its repodata/: the build then indexes the RPMs itself)", r.ID, strings.Join(says, ", and "))
}

var errTooMany = errors.New("too many entries")

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// someOf lists the first few of names.
func someOf(names []string) string {
	const few = 3
	if len(names) <= few {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:few], ", "), len(names)-few)
}
