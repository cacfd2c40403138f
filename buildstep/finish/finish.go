package finish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/contentid"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/filecheck"
	"golang.org/x/sys/unix"
)

// Run finishes the tree cfg names, printing what it does to out. With
// cfg.ReportFailure, a failure is written to the finish report instead of
// returned (see buildstep.FinishFailure).
func Run(ctx context.Context, cfg *buildstep.FinishConfig, out io.Writer) error {
	reportDir := filepath.Join(cfg.Root, buildstep.ReportDir)
	if err := os.MkdirAll(reportDir, 0o755); err != nil {
		return err
	}
	if cfg.ReportFailure {
		fmt.Fprintln(out, buildstep.DiagnosisLine+"finishing again")
	}
	err := run(ctx, cfg, out, reportDir)
	if err == nil || !cfg.ReportFailure {
		return err
	}
	fmt.Fprintf(out, "flatpak-frontend: the finishing failed: %v\n", err)
	failure := &buildstep.FinishFailure{Message: err.Error()}
	var ke *KeyError
	if errors.As(err, &ke) {
		failure.Key = ke.Key
	}
	rep := buildstep.FinishReport{Failure: failure}
	return os.WriteFile(filepath.Join(reportDir, buildstep.FinishReportFile), rep.Encode(), 0o644)
}

func run(ctx context.Context, cfg *buildstep.FinishConfig, out io.Writer, reportDir string) error {
	f := &finisher{cfg: cfg, out: out, root: cfg.Root}
	verified, err := readVerified(reportDir)
	if err != nil {
		return err
	}
	var rep buildstep.FinishReport
	if cfg.CleanupCommands {
		changes, err := f.cleanupChanges(reportDir, verified)
		if err != nil {
			return err
		}
		rep.Changes = changes
	}
	switch cfg.Kind {
	case buildstep.KindApp:
		err = f.app(ctx)
	case buildstep.KindRuntime:
		err = f.runtime()
	case buildstep.KindExtension:
		// An extension's files are taken as they are.
	default:
		err = fmt.Errorf("unknown kind %q", cfg.Kind)
	}
	if err != nil {
		return err
	}
	for _, dir := range cfg.ExtensionPoints {
		if err := os.MkdirAll(f.path(dir), 0o755); err != nil {
			return fmt.Errorf("the folder of an extension point: %w", err)
		}
	}
	if rep.Entries, err = f.tree(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(reportDir, buildstep.FinishReportFile), rep.Encode(), 0o644); err != nil {
		return err
	}
	if cfg.ContentIDOut == "" {
		return nil
	}
	return f.contentID(verified)
}

// readVerified reads the install step's buildstep.VerifiedReportFile, by
// packaged path; none when there is none (an older build's cache).
func readVerified(reportDir string) (filecheck.Verified, error) {
	dt, err := os.ReadFile(filepath.Join(reportDir, buildstep.VerifiedReportFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	files, err := buildstep.ParseVerified(dt)
	if err != nil {
		return nil, err
	}
	v := make(filecheck.Verified, len(files))
	for _, f := range files {
		v[f.Path] = f
	}
	return v, nil
}

// contentID writes the finished tree's digest to cfg.ContentIDOut.
func (f *finisher) contentID(verified filecheck.Verified) error {
	known := make(map[string]buildstep.VerifiedFile, len(verified))
	for p, v := range verified {
		if rel, ok := filecheck.Rel(f.cfg.Prefix, p); ok {
			known[rel] = v
		}
	}
	sum, err := contentid.Tree(f.root, buildstep.ReportDir, known)
	if err != nil {
		return fmt.Errorf("the content id: %w", err)
	}
	fmt.Fprintf(f.out, "flatpak-frontend: content id %s: %d files read, %d digests taken from the install's check\n", sum.ID, sum.Read, sum.Known)
	if err := os.MkdirAll(f.cfg.ContentIDOut, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(f.cfg.ContentIDOut, buildstep.ContentIDFile), []byte(sum.ID+"\n"), 0o644)
}

type finisher struct {
	cfg  *buildstep.FinishConfig
	out  io.Writer
	root string
}

// cleanupChanges lists the packaged files that are no longer as the install
// left them.
func (f *finisher) cleanupChanges(reportDir string, verified filecheck.Verified) ([]buildstep.Change, error) {
	dt, err := os.ReadFile(filepath.Join(reportDir, buildstep.InstallReportFile))
	if err != nil {
		return nil, err
	}
	rep, err := buildstep.ParseInstallReport(dt)
	if err != nil {
		return nil, err
	}
	tree := filecheck.Tree{Dir: f.root, Prefix: f.cfg.Prefix}
	var changes []buildstep.Change
	problems, _, _ := filecheck.CheckTrusting(rep.Files, tree, filecheck.Trust{Verified: verified})
	for _, p := range problems {
		what := "changed"
		if p.Missing {
			what = "removed"
		}
		fmt.Fprintf(f.out, "flatpak-frontend: cleanup-commands: %s %s of package %s\n", what, p.File.Path, p.File.Package)
		changes = append(changes, buildstep.Change{Package: p.File.Package, Path: p.File.Path, What: what})
	}
	return changes, nil
}

// tree makes the tree what Flatpak stores (no special files, canonical
// modes) and lists it: an app's /app, a runtime's usr/ and etc/.
func (f *finisher) tree() ([]buildstep.Entry, error) {
	tops := []string{"."}
	if f.cfg.Kind == buildstep.KindRuntime {
		tops = []string{"usr", "etc"}
	}
	var entries []buildstep.Entry
	for _, top := range tops {
		err := filepath.WalkDir(filepath.Join(f.root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(f.root, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if rel == "." {
				return nil
			}
			if "/"+rel == buildstep.ReportDir {
				return filepath.SkipDir
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			e := buildstep.Entry{Path: rel}
			switch m := fi.Mode(); {
			case m.IsRegular():
				e.Type, e.Size = 'f', fi.Size()
			case m.IsDir():
				e.Type = 'd'
			case m&fs.ModeSymlink != 0:
				e.Type = 'l'
			default:
				// Devices, FIFOs and sockets: Flatpak stores none.
				return os.Remove(p)
			}
			if err := canonicalMode(p, fi.Mode()); err != nil {
				return err
			}
			if e.Type == 'f' {
				if err := dropCapabilities(p); err != nil {
					return err
				}
			}
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// canonicalMode gives a folder or executable 0755 and any other file 0644,
// with no setuid, setgid or sticky bit, as Flatpak stores them. Only what
// differs is changed: a chmod on overlayfs copies the whole file up.
func canonicalMode(p string, m fs.FileMode) error {
	if m&fs.ModeSymlink != 0 {
		return nil
	}
	want := fs.FileMode(0o644)
	if m.IsDir() || m.Perm()&0o111 != 0 {
		want = 0o755
	}
	if m.Perm() == want && m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) == 0 {
		return nil
	}
	return os.Chmod(p, want)
}

// dropCapabilities removes the file capabilities a package's %caps gave p
// (rpm sets them as it installs): flatpak build-export commits no extended
// attributes, and the image's layers would carry this one (the only one
// BuildKit's layers keep) into what Flatpak imports.
func dropCapabilities(p string) error {
	const attr = "security.capability"
	if _, err := unix.Lgetxattr(p, attr, nil); err != nil {
		return nil // none (ENODATA), or a file system without them
	}
	if err := unix.Lremovexattr(p, attr); err != nil && err != unix.ENODATA {
		return fmt.Errorf("remove the file capabilities of %s: %w", p, err)
	}
	return nil
}

// runtime checks and tidies a runtime's new root: /usr becomes files/ and
// /etc files/etc, so /usr/etc must be empty; the build's repo definitions
// go; the rpm database must be inside /usr, where apps built on the runtime
// find it.
func (f *finisher) runtime() error {
	usrEtc := filepath.Join(f.root, "usr", "etc")
	if entries, err := os.ReadDir(usrEtc); err == nil && len(entries) > 0 {
		var names []string
		for i, e := range entries {
			if i == 5 {
				names = append(names, "...")
				break
			}
			names = append(names, "/usr/etc/"+e.Name())
		}
		return fmt.Errorf("the runtime has files in /usr/etc, where Flatpak puts /etc (%s): install them into /etc instead, or remove them in cleanup-commands", strings.Join(names, ", "))
	}
	if err := os.RemoveAll(usrEtc); err != nil {
		return err
	}
	for _, dir := range []string{"etc/yum.repos.d", "etc/distro.repos.d"} {
		repos, _ := filepath.Glob(filepath.Join(f.root, dir, "*.repo"))
		for _, r := range repos {
			if err := os.Remove(r); err != nil {
				return err
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(f.root, "usr", "lib", "sysimage", "rpm")); err != nil || len(entries) == 0 {
		return fmt.Errorf("the runtime's rpm database is not in /usr/lib/sysimage/rpm, so it would not be part of the runtime; build with an image whose rpm keeps it there (%%_dbpath)")
	}
	return nil
}
