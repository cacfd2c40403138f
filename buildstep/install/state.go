package install

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/filecheck"
	fscopy "github.com/tonistiigi/fsutil/copy"
)

// An app's install step keeps its last install in cfg.State, a cache folder
// kept between builds of the app, and /app is a link to the kept install
// while the installer runs:
//
//   - every install goes to State/app and is copied to the step's output,
//     and the rpm database is kept beside it ("rpmdb", "packages",
//     "fingerprint", and "complete" once all of it is written); that makes
//     the next build's added package a small install instead of a whole
//     one. The copy runs beside the installer (mirror.go): each file as
//     rpm commits it (the install's watch, commits.go), a last install
//     that is used from the start; after the installer only what it
//     changed since is copied (at 1.2 GB, 0.05 s instead of 3 to 8 s);
//   - when the runtime, the installer and the repos are the same (every
//     repo a build context whose repodata is unchanged) and packages were
//     only added, the installer adds the new ones to the kept install
//     instead of starting over; the check of every packaged file then
//     reads again only the files whose inode changed since the last
//     build's check ("verified");
//   - when the repos' contents changed (new versions) or packages are no
//     longer asked for, the install is
//     resolved from nothing into the rpm database alone (tsflags=justdb:
//     no files, no scriptlets), and the kept install is brought to exactly
//     that set of packages: what changed is installed, what the fresh
//     resolve no longer picks is erased. If the result is not that set,
//     or a package would go down in version, it starts over (update.go);
//   - a diagnosing run (a failed install, read again for its report)
//     installs straight into the output and keeps nothing.
type state struct {
	cfg *buildstep.InstallConfig
	dir string
	// keep is true when the install goes to dir/app and is kept.
	keep bool
	// update is true when the kept install is to be brought to what a
	// fresh resolve picks (update.go): the repos changed, or a package is
	// no longer asked for; change says which.
	update bool
	change string
	// appTarget is the folder /app links to.
	appTarget string
	dbpath    string
	// fingerprint is what the kept install depends on but the repos'
	// contents; repodata is those.
	fingerprint, repodata string
	// mirror copies a kept install that is reused to the step's output
	// (nil: copyOut copies the install whole).
	mirror *mirror
	// trusted are the kept install's files the last build checked, when
	// this install goes on top of it; verified what this one's check
	// found, kept for the next.
	trusted, verified filecheck.Verified
}

const (
	stateComplete    = "complete"
	stateFingerprint = "fingerprint"
	statePackages    = "packages"
	stateApp         = "app"
	stateRPMDB       = "rpmdb"
	stateVerified    = "verified"
	stateRepodata    = "repodata"
	// statePristine is the runtime's own rpm database, kept during an
	// update for the fresh resolve and for starting over.
	statePristine = "pristine-rpmdb"
)

// openState opens the app's kept install; dbpath is where the step's rpm
// database is, before what it holds (the runtime's packages, whose
// identity is runtimeID: dbDigest or packagesDigest).
func openState(ctx context.Context, cfg *buildstep.InstallConfig, dbpath, runtimeID string, log io.Writer) (*state, error) {
	st := &state{cfg: cfg, dir: cfg.State, dbpath: dbpath}
	var err error
	if st.fingerprint, st.repodata, err = fingerprint(cfg, dbpath, runtimeID); err != nil {
		return nil, err
	}
	how, why := reuseNone, ""
	if ok, whyNot := keptUsable(cfg); !ok {
		why = whyNot
	} else {
		how, why = st.reusable()
	}
	if why != "" {
		fmt.Fprintf(log, "flatpak-frontend: installing from nothing, not on this app's last install: %s\n", why)
	}
	if err := os.Remove(st.path(stateComplete)); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err := os.RemoveAll(appDir); err != nil {
		return nil, fmt.Errorf("cannot replace /app: %w", err)
	}
	switch {
	case how != reuseNone:
		st.keep = true
		if how == reuseUpdate {
			st.update = true
			fmt.Fprintf(log, "flatpak-frontend: %s: updating this app's last install to what a fresh install would pick\n", st.change)
			if err := os.RemoveAll(st.path(statePristine)); err != nil {
				return nil, err
			}
			if err := copyTree(ctx, st.dbpath, st.path(statePristine)); err != nil {
				return nil, fmt.Errorf("cannot keep the runtime's rpm database: %w", err)
			}
		} else {
			fmt.Fprintln(log, "flatpak-frontend: installing on top of this app's last install")
		}
		if err := os.RemoveAll(st.dbpath); err != nil {
			return nil, err
		}
		if err := copyTree(ctx, st.path(stateRPMDB), st.dbpath); err != nil {
			return nil, fmt.Errorf("cannot restore the last install's rpm database: %w", err)
		}
		st.trusted = readVerified(st.path(stateVerified))
		st.appTarget = st.path(stateApp)
		// The kept install goes to the step's output while the
		// installer runs; copyOut then copies what it changed.
		st.mirror = startMirror(ctx, st.appTarget, cfg.AppOut)
	case !cfg.Diagnose:
		st.keep = true
		for _, p := range []string{stateApp, stateRPMDB, stateVerified, statePristine} {
			if err := os.RemoveAll(st.path(p)); err != nil {
				return nil, fmt.Errorf("cannot empty %s: %w", st.dir, err)
			}
		}
		if err := os.Mkdir(st.path(stateApp), 0o755); err != nil {
			return nil, err
		}
		st.appTarget = st.path(stateApp)
		// Each file rpm commits goes to the step's output while the
		// installer runs (the install's watch tells the mirror).
		st.mirror = startMirror(ctx, st.appTarget, cfg.AppOut)
	default:
		st.appTarget = cfg.AppOut
	}
	if err := os.Symlink(st.appTarget, appDir); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *state) path(name string) string { return filepath.Join(st.dir, name) }

// How a kept install is used.
type reuse int

const (
	reuseNone   reuse = iota // start over
	reuseAdd                 // install the added packages on top
	reuseUpdate              // bring it to a fresh resolve's packages
)

// keptUsable says whether a kept install could serve this one, before
// what it was made of is compared, and if not why (for the log; "" when
// there is no kept install).
func keptUsable(cfg *buildstep.InstallConfig) (bool, string) {
	switch {
	case cfg.Diagnose:
		return false, ""
	case cfg.Fresh:
		return false, "--no-cache, or a reproducible build (SOURCE_DATE_EPOCH)"
	case len(cfg.Repos) == 0:
		return false, "the image's own repos"
	}
	for _, r := range cfg.Repos {
		if r.Dir == "" {
			return false, "repo " + r.ID + " is remote: what it holds now is not known"
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.State, stateComplete)); err != nil {
		return false, ""
	}
	return true, ""
}

// reusable says how the kept install, which keptUsable allowed, can serve
// this one, and if it cannot, why (for the log).
func (st *state) reusable() (reuse, string) {
	cfg := st.cfg
	fp, err := os.ReadFile(st.path(stateFingerprint))
	if err != nil || strings.TrimSpace(string(fp)) != st.fingerprint {
		return reuseNone, "the runtime, the installer or the repos' definitions changed"
	}
	had, err := os.ReadFile(st.path(statePackages))
	if err != nil {
		return reuseNone, ""
	}
	change := ""
	for _, p := range strings.Split(string(had), "\x00") {
		if p != "" && !slices.Contains(cfg.Packages, p) {
			change = "package " + p + " is no longer asked for"
			break
		}
	}
	if rd, err := os.ReadFile(st.path(stateRepodata)); change == "" && (err != nil || strings.TrimSpace(string(rd)) != st.repodata) {
		change = "the repos changed"
	}
	switch {
	case change == "":
		return reuseAdd, ""
	// microdnf has no tsflags=justdb for the fresh resolve; packages of
	// another architecture are installed without scriptlets already.
	case cfg.Installer == Microdnf:
		return reuseNone, change + ", and microdnf cannot resolve into the rpm database alone"
	case cfg.ForceArch != "":
		return reuseNone, change + ", and the packages are of another architecture"
	}
	st.change = change
	return reuseUpdate, ""
}

// fingerprint is what must not change for a kept install to be reused:
// the runtime's packages (runtimeID), the installer and its settings, and
// the repos' definitions; repodata is the repos' contents (their
// repomd.xml).
func fingerprint(cfg *buildstep.InstallConfig, dbpath, runtimeID string) (string, string, error) {
	h, rd := sha256.New(), sha256.New()
	fmt.Fprintf(h, "%q\n", runtimeID)
	fmt.Fprintf(h, "%q %q %q %q\n", cfg.Installer, cfg.ReleaseVer, cfg.AllowOutsideApp, dbpath)
	for _, r := range cfg.Repos {
		dt, err := os.ReadFile(filepath.Join(buildstep.ReposDir, r.ID+".repo"))
		if err != nil {
			return "", "", err
		}
		fmt.Fprintf(h, "%q\n", dt)
		if r.Dir != "" {
			md, err := os.ReadFile(filepath.Join(r.Dir, "repodata", "repomd.xml"))
			if err != nil {
				md = []byte("unreadable")
			}
			fmt.Fprintf(rd, "%q %q\n", r.ID, md)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(rd.Sum(nil)), nil
}

// copyOut copies a kept install to the step's output and keeps its rpm
// database for the next build.
func (st *state) copyOut(ctx context.Context) error {
	copyApp := func() error { return copyTree(ctx, st.path(stateApp), st.cfg.AppOut) }
	if st.mirror != nil {
		copyApp = func() error { return st.mirror.finish(ctx) }
	}
	if err := copyApp(); err != nil {
		return fmt.Errorf("cannot copy /app to the step's output: %w", err)
	}
	if err := os.RemoveAll(st.path(stateRPMDB)); err != nil {
		return err
	}
	if err := copyTree(ctx, st.dbpath, st.path(stateRPMDB)); err != nil {
		return fmt.Errorf("cannot keep the rpm database: %w", err)
	}
	return nil
}

// save marks a kept install, copied out, complete for the next build:
// what it was made of and what the check verified.
func (st *state) save() error {
	if !st.keep {
		return nil
	}
	if err := writeVerified(st.path(stateVerified), st.verified); err != nil {
		return err
	}
	var pkgs bytes.Buffer
	for _, p := range st.cfg.Packages {
		pkgs.WriteString(p + "\x00")
	}
	if err := os.RemoveAll(st.path(statePristine)); err != nil {
		return err
	}
	for name, dt := range map[string][]byte{stateFingerprint: []byte(st.fingerprint + "\n"),
		stateRepodata: []byte(st.repodata + "\n"), statePackages: pkgs.Bytes()} {
		if err := os.WriteFile(st.path(name), dt, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(st.path(stateComplete), nil, 0o644)
}

// readVerified reads what the last build's check verified; nothing when
// it cannot, so every file is read again.
func readVerified(path string) filecheck.Verified {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var v filecheck.Verified
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&v); err != nil {
		return nil
	}
	return v
}

func writeVerified(path string, v filecheck.Verified) error {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// restoreApp makes /app a folder again for the steps after this one, and
// stops the mirror's copy if the step ends without it.
func (st *state) restoreApp() {
	if st.mirror != nil {
		st.mirror.stop()
	}
	if fi, err := os.Lstat(appDir); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		os.Remove(appDir)
		os.Mkdir(appDir, 0o755)
	}
}

// copyTree copies what the folder src holds into the folder dst (made if
// missing), as cp -a does: modes, owners, times, links and hard links kept.
func copyTree(ctx context.Context, src, dst string) error {
	return fscopy.Copy(ctx, src, "/", dst, "/", fscopy.WithCopyInfo(fscopy.CopyInfo{CopyDirContents: true}), fscopy.AllowXAttrErrors)
}
