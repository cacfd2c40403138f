package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/filecheck"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

// appDir is where an app's packages install.
const appDir = "/app"

// Run runs the install step cfg describes, printing the installer's output
// to out. It returns the failure, which is also in the report; with
// cfg.Diagnose a failure is only reported.
func Run(ctx context.Context, cfg *buildstep.InstallConfig, out io.Writer) error {
	s := &step{cfg: cfg, out: out, rpm: rpm{root: cfg.InstallRoot}, phases: newPhases()}
	if cfg.Diagnose {
		fmt.Fprintln(out, buildstep.DiagnosisLine+"installing again")
	}
	err := s.run(ctx)
	var f *buildstep.Failure
	if err != nil && !errors.As(err, &f) {
		f = &buildstep.Failure{Status: -1, Message: err.Error()}
	}
	if f != nil {
		s.report.Failure = f
	}
	if werr := s.writeReport(); werr != nil && err == nil {
		return werr
	}
	if s.timed {
		s.phases.done("reports")
		s.phases.print(s.out)
	}
	if f != nil && !cfg.Diagnose {
		return f
	}
	return nil
}

type step struct {
	cfg    *buildstep.InstallConfig
	out    io.Writer
	rpm    rpm
	report buildstep.InstallReport
	state  *state
	phases *phases
	// timed: the installer ran, so the phases are printed at the end.
	timed bool
	// made are the folders of the repos indexBareRepos made, by repo id.
	made map[string]string
	// keyProblems are the repo keys importKeys could not read or import,
	// each with why.
	keyProblems []string
	// verified is what the check verified, by packaged path.
	verified filecheck.Verified
	// watch follows rpm's commits while the installer runs; committed
	// are the files it vouches for, by path on disk; unseen those it
	// found in a folder it saw late.
	watch             *commitWatch
	committed, unseen map[string]bool
	// updated are the root's packages the install replaced with another
	// version (of the runtime's, for an app).
	updated []buildstep.Update
}

func (s *step) run(ctx context.Context) error {
	cfg := s.cfg
	if _, ok := CacheDirs[cfg.Installer]; !ok {
		return fmt.Errorf("unknown installer %q (known: dnf5, dnf, microdnf)", cfg.Installer)
	}
	if cfg.ForceArch != "" && cfg.Installer == Microdnf {
		return fmt.Errorf("microdnf cannot install packages of another architecture (it has no --forcearch): building for %s needs a build image with dnf5 or dnf", cfg.ForceArch)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	if (cfg.Kind == buildstep.KindApp || cfg.Kind == buildstep.KindExtension) && cfg.Prefix == "" {
		cfg.Prefix = appDir
	}
	if f := s.indexBareRepos(); f != nil {
		return f
	}
	s.staleRepodata()
	if unread := unreadRepoFolders(cfg.Repos); len(unread) > 0 {
		msg := fmt.Sprintf("repo %s: its folder has no repodata/repomd.xml (make it a repository with createrepo_c)", unread[0].Repo)
		if unread[0].Why == buildstep.RepoNoFolder {
			msg = fmt.Sprintf("repo %s: its folder does not exist", unread[0].Repo)
		}
		return &buildstep.Failure{Status: -1, Unread: unread, Message: msg}
	}
	var dbpath string
	if cfg.InstallRoot != "" {
		own, err := ownDBPath(ctx)
		if err != nil {
			return fmt.Errorf("cannot read where the build image's rpm keeps its database: %w", err)
		}
		linked, err := linkRootDB(cfg.InstallRoot, own)
		if err != nil {
			return err
		}
		if linked != "" {
			fmt.Fprintf(s.out, "flatpak-frontend: the runtime's rpm database is in %s, the build image's rpm looks in %s: linked there\n", linked, own)
		}
		dbpath = own
	}
	// before is what the rpm database holds before the install. An app's
	// install needs it only after the installer, or before an update of
	// its kept install: it is read from a copy while the installer runs
	// (beside), and the copy's digest tells whether the runtime's packages
	// are those the kept install was made on (runtimeID).
	var before []buildstep.Package
	var beside func() ([]buildstep.Package, error)
	var runtimeID string
	var err error
	if cfg.AppOut == "" {
		before, err = s.rpm.packages(ctx)
	} else {
		if dbpath == "" {
			dbpath, err = ownDBPath(ctx)
		}
		if err == nil {
			beside, runtimeID = s.rpm.packagesBeside(ctx, dbpath, filepath.Join(buildstep.TmpDir, "rpmdb-before"))
		}
		if err == nil && beside == nil {
			before, err = s.rpm.packages(ctx)
			runtimeID = packagesDigest(before)
		}
	}
	if err != nil {
		return fmt.Errorf("cannot read the rpm database: %w", err)
	}
	s.phases.done("rpm queries")
	if cfg.AppOut != "" {
		if s.state, err = openState(ctx, cfg, dbpath, runtimeID, s.out); err != nil {
			return err
		}
		defer s.state.restoreApp()
		s.phases.done("last install")
	}
	dropLocalRepoCaches(cfg.Repos)
	reposDir, err := s.reposDir()
	if err != nil {
		return err
	}
	releaseVer, dnfConf, err := s.rootSettings(ctx)
	if err != nil {
		return err
	}
	if err := disableUnsharePlugin(); err != nil {
		return err
	}
	args := cfg.Packages
	var fetched *buildstep.InstallReport
	if cfg.Mode == buildstep.ModeInstallDownloaded {
		if fetched, err = readDownloadReport(cfg.Out); err != nil {
			return err
		}
		if args, err = downloaded(); err != nil {
			return err
		}
	}
	argv := func(extra, args []string) []string { return command(cfg, reposDir, releaseVer, dnfConf, extra, args) }
	s.importKeys(ctx, releaseVer)
	if fetched != nil {
		s.report.Notices = append(s.report.Notices, fetched.Notices...)
		if err := s.checkDownloaded(ctx, args, fetched.Downloaded); err != nil {
			return err
		}
	}
	s.phases.done("set-up")
	if cfg.Mode != buildstep.ModeDownload {
		watch := s.watchCommits()
		defer watch.stop()
		s.watch = watch
	}
	updated := false
	// after is what the rpm database holds after the install, when the
	// install read it already (an update of the kept install).
	var after []buildstep.Package
	if s.state != nil && s.state.update {
		if beside != nil {
			// The update resolves against it.
			if before, err = beside(); err != nil {
				return fmt.Errorf("cannot read the rpm database as it was before the install: %w", err)
			}
			beside = nil
		}
		if after, updated, err = s.update(ctx, before, argv); err != nil {
			return err
		}
		if !updated {
			if err := s.state.startOver(ctx); err != nil {
				return fmt.Errorf("cannot start the install over: %w", err)
			}
		}
	}
	if !updated {
		if err := s.runInstaller(ctx, argv(nil, args)); err != nil {
			return err
		}
	}
	s.phases.done(cfg.Installer)
	if cfg.Mode == buildstep.ModeDownload {
		return s.recordDownloaded()
	}
	if beside != nil {
		if before, err = beside(); err != nil {
			return fmt.Errorf("cannot read the rpm database as it was before the install: %w", err)
		}
	}
	var why string
	if s.committed, s.unseen, why = s.watch.stopUnseen(); why != "" {
		fmt.Fprintf(s.out, "flatpak-frontend: every packaged file is read to check it: %s\n", why)
	}
	s.timed = true

	// The kept install is copied to the step's output while rpm is
	// queried and the files are checked: the one waits on the disk, the
	// other on the CPU.
	var kept chan error
	if s.state != nil && s.state.keep {
		kept = make(chan error, 1)
		go func() { kept <- s.state.copyOut(ctx) }()
	}
	err = s.inspect(ctx, before, after)
	if kept != nil {
		if kerr := <-kept; err == nil {
			err = kerr
		}
		s.phases.done("keeping the install")
	}
	if err != nil {
		return err
	}
	if err := s.writeVerified(); err != nil {
		return err
	}
	if s.state != nil {
		return s.state.save()
	}
	return nil
}

// writeVerified writes buildstep.VerifiedReportFile: the files the check
// verified, with their stamps in the step's output (the kept install's
// copy, when the install was kept).
func (s *step) writeVerified() error {
	out := s.prefixDir()
	if s.state != nil && s.state.keep {
		out = s.cfg.AppOut
	}
	prefix := s.cfg.Prefix
	if prefix == "" {
		prefix = "/"
	}
	files := make([]buildstep.VerifiedFile, 0, len(s.verified))
	seen := make(map[string]bool, len(s.verified))
	for _, f := range s.report.Files {
		v, ok := s.verified[f.Path]
		if !ok || seen[f.Path] {
			continue
		}
		seen[f.Path] = true
		rel, ok := filecheck.Rel(prefix, f.Path)
		if !ok {
			continue
		}
		fi, err := os.Lstat(filepath.Join(out, filepath.FromSlash(rel)))
		if err != nil {
			continue
		}
		if v.Stamp, ok = buildstep.StampOf(fi); ok {
			files = append(files, v)
		}
	}
	return os.WriteFile(filepath.Join(s.cfg.Out, buildstep.VerifiedReportFile), buildstep.EncodeVerified(files), 0o644)
}

// inspect reports what the install added, with their files, and checks
// them; after is what the rpm database holds, nil when it is to be read.
func (s *step) inspect(ctx context.Context, before, after []buildstep.Package) error {
	var err error
	if after == nil {
		if after, err = s.rpm.packages(ctx); err != nil {
			return fmt.Errorf("cannot read the rpm database after the install: %w", err)
		}
	}
	s.report.Packages = markAdded(before, after)
	s.updated = updatedPackages(before, s.report.Packages)
	var added []string
	for _, p := range s.report.Packages {
		if p.Added && !slices.Contains(added, p.Name) {
			added = append(added, p.Name)
		}
	}
	if s.report.Files, err = s.rpm.files(ctx, added); err != nil {
		return fmt.Errorf("cannot list the installed packages' files: %w", err)
	}
	s.phases.done("rpm queries")
	if err := s.check(); err != nil {
		return err
	}
	s.phases.done("check")
	if s.cfg.ForceArch != "" {
		return s.noteSkippedScripts(ctx, added)
	}
	return nil
}

// buildIDDir is where rpmbuild puts the build-id links of a package's ELF
// files (rpm's BUILD_ID_DIR, fixed whatever %_prefix is), unless
// %_build_id_links is none or alldebug.
const buildIDDir = "/usr/lib/.build-id"

// isBuildIDLink says whether f is one of rpm's build-id links, or a folder
// holding them: what a package built with rpm's defaults and /app as its
// prefix owns outside /app, and that no app needs (only debuggers look
// there, for the debuginfo package's links beside them).
func isBuildIDLink(f buildstep.PackagedFile) bool {
	if f.Path != buildIDDir && !strings.HasPrefix(f.Path, buildIDDir+"/") {
		return false
	}
	typ := f.Mode & 0o170000
	return typ == 0o040000 || typ == 0o120000
}

// check fails the install when an app's package owns files outside /app
// (rpm's build-id links aside, which it leaves out, saying so), or a
// packaged file is not where rpm put it.
func (s *step) check() error {
	cfg := s.cfg
	tree := s.checkedTree()
	if cfg.Kind == buildstep.KindApp || cfg.Kind == buildstep.KindExtension {
		prefix := cfg.Prefix
		var outside []buildstep.Owned
		buildIDs := map[string]int{}
		for _, f := range s.report.Files {
			switch {
			case f.Path == prefix || strings.HasPrefix(f.Path, prefix+"/") || slices.Contains(cfg.AllowOutsideApp, f.Package):
			case isBuildIDLink(f):
				buildIDs[f.Package]++
			default:
				outside = append(outside, buildstep.Owned{Package: f.Package, Path: f.Path})
			}
		}
		for _, pkg := range slices.Sorted(maps.Keys(buildIDs)) {
			fmt.Fprintf(s.out, "flatpak-frontend: package %s: %d entries under %s left out of the app: rpm's build-id links for debuggers, which rpmbuild puts there whatever the prefix\n",
				pkg, buildIDs[pkg], buildIDDir)
		}
		if len(outside) > 0 {
			for _, o := range outside {
				fmt.Fprintf(s.out, "flatpak-frontend: package %s installs %s, outside %s\n", o.Package, o.Path, prefix)
			}
			return &buildstep.Failure{Outside: outside, Updated: s.updated,
				Message: fmt.Sprintf("packages that install outside %s must come from the runtime (or be listed in allow-outside-app)", prefix)}
		}
		// An update that put nothing in the way (no files outside, or
		// allowed there) still changes nothing the app runs with.
		for _, u := range s.updated {
			s.report.Notices = append(s.report.Notices, fmt.Sprintf("the install updated the runtime's %s to %s for the app's packages, but the app runs with the runtime's own version", u.From, u.To))
		}
	} else {
		s.notePackagedOutsideRuntime()
	}
	trust := filecheck.Trust{Committed: s.committed, Unseen: s.unseen}
	if s.state != nil {
		trust.Verified = s.state.trusted
	}
	problems, verified, counts := filecheck.CheckTrusting(s.report.Files, tree, trust)
	fmt.Fprintf(s.out, "flatpak-frontend: check: %d packaged files read, %d taken as rpm wrote them or as the last build checked them\n", counts.Read, counts.Trusted)
	if counts.Unseen > 0 {
		fmt.Fprintf(s.out, "flatpak-frontend: check: %d of the files read were written before the watch saw their new folder\n", counts.Unseen)
	}
	s.verified = verified
	if s.state != nil {
		s.state.verified = verified
	}
	if len(problems) == 0 {
		return nil
	}
	f := &buildstep.Failure{Message: "files the packages installed are not in the result"}
	for _, p := range problems {
		fmt.Fprintf(s.out, "flatpak-frontend: %s of package %s %s\n", p.File.Path, p.File.Package, p.What)
		f.Lost = append(f.Lost, buildstep.Lost{Package: p.File.Package, Path: p.File.Path, Reason: p.What})
	}
	return f
}

// noteSkippedScripts tells the packager which scriptlets and file triggers
// a foreign-arch install did not run: those of the added packages, and the
// file triggers of any installed package whose path prefix an added file
// falls under (the runtime's ldconfig or glib-compile-schemas for /app).
func (s *step) noteSkippedScripts(ctx context.Context, added []string) error {
	scripts, err := s.rpm.scriptlets(ctx, added)
	if err != nil {
		return fmt.Errorf("cannot read the installed packages' scriptlets: %w", err)
	}
	var skipped []string
	for _, name := range slices.Sorted(maps.Keys(scripts)) {
		skipped = append(skipped, fmt.Sprintf("%s (%s)", name, strings.Join(scripts[name], ", ")))
	}
	triggers, err := s.rpm.fileTriggers(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the file triggers: %w", err)
	}
	var fired []string
	for _, name := range slices.Sorted(maps.Keys(triggers)) {
		for _, prefix := range triggers[name] {
			for _, f := range s.report.Files {
				if f.Path == prefix || strings.HasPrefix(f.Path, strings.TrimSuffix(prefix, "/")+"/") {
					fired = append(fired, fmt.Sprintf("%s (%s)", name, prefix))
					break
				}
			}
		}
	}
	if len(skipped) == 0 && len(fired) == 0 {
		return nil
	}
	n := fmt.Sprintf("installed for %s with this builder's installer, whose CPU cannot run %s code: ", s.cfg.ForceArch, s.cfg.ForceArch)
	var parts []string
	if len(skipped) > 0 {
		parts = append(parts, "scriptlets not run: "+strings.Join(skipped, ", "))
	}
	if len(fired) > 0 {
		parts = append(parts, "file triggers not run: "+strings.Join(fired, ", "))
	}
	n += strings.Join(parts, "; ") + " (a build on a builder of " + s.cfg.ForceArch + " runs them)"
	fmt.Fprintln(s.out, "flatpak-frontend: "+n)
	s.report.Notices = append(s.report.Notices, n)
	return nil
}

// noteFailedScriptlets tells the packager which scriptlets failed in an
// install that succeeded: whatever they were to do (a cache, a generated
// file, an edit) is missing from the result.
func (s *step) noteFailedScriptlets(log []byte) {
	failed := failedScriptlets(log)
	if len(failed) == 0 {
		return
	}
	n := "scriptlets failed, so what they do is missing from the result (rpm and " + s.cfg.Installer + " went on after them): " + strings.Join(failed, ", ")
	fmt.Fprintln(s.out, "flatpak-frontend: "+n)
	s.report.Notices = append(s.report.Notices, n)
}

// notePackagedOutsideRuntime tells the packager about packaged files a
// runtime cannot hold: a Flatpak runtime is /usr (files/) and /etc.
func (s *step) notePackagedOutsideRuntime() {
	var paths []string
	for _, f := range s.report.Files {
		if f.State != buildstep.FileStateNormal || f.Flags&buildstep.FileFlagGhost != 0 || f.Mode&0o170000 == 0o040000 {
			continue
		}
		if !strings.HasPrefix(f.Path, "/usr/") && !strings.HasPrefix(f.Path, "/etc/") {
			paths = append(paths, f.Path)
		}
	}
	if len(paths) == 0 {
		return
	}
	shown := paths[:min(len(paths), 5)]
	n := fmt.Sprintf("%d packaged files are outside /usr and /etc, which is all a Flatpak runtime holds, and are not part of it: %s", len(paths), strings.Join(shown, ", "))
	if len(paths) > len(shown) {
		n += ", ..."
	}
	fmt.Fprintln(s.out, "flatpak-frontend: "+n)
	s.report.Notices = append(s.report.Notices, n)
}

// prefixDir is the real folder behind the prefix (/app, an extension's).
// checkedTree is where the check finds the packaged files: an app's or an
// extension's prefix, a runtime's whole root.
func (s *step) checkedTree() filecheck.Tree {
	if s.cfg.Kind == buildstep.KindApp || s.cfg.Kind == buildstep.KindExtension {
		return filecheck.Tree{Dir: s.prefixDir(), Prefix: s.cfg.Prefix}
	}
	return filecheck.Tree{Dir: filepath.Join(s.cfg.InstallRoot, "/"), Prefix: "/"}
}

func (s *step) prefixDir() string {
	if s.cfg.InstallRoot != "" {
		return filepath.Join(s.cfg.InstallRoot, s.cfg.Prefix)
	}
	if s.state != nil {
		return s.state.appTarget
	}
	return s.cfg.Prefix
}

// updatedPackages are the packages of before that after has in another
// version (the same name and architecture, added).
func updatedPackages(before, after []buildstep.Package) []buildstep.Update {
	kept := map[rpmver.NEVRA]bool{}
	for _, p := range after {
		kept[p.NEVRA] = true
	}
	var out []buildstep.Update
	for _, b := range before {
		if kept[b.NEVRA] {
			continue
		}
		for _, a := range after {
			if a.Added && a.Name == b.Name && a.Arch == b.Arch {
				out = append(out, buildstep.Update{From: b.NEVRA.String(), To: a.NEVRA.String()})
			}
		}
	}
	return out
}

// markAdded returns after with the packages that are not in before marked.
func markAdded(before, after []buildstep.Package) []buildstep.Package {
	had := map[buildstep.Package]bool{}
	for _, p := range before {
		had[p] = true
	}
	out := slices.Clone(after)
	for i := range out {
		out[i].Added = !had[out[i]]
	}
	slices.SortFunc(out, func(a, b buildstep.Package) int {
		return strings.Compare(a.Name+"\x00"+a.Arch+"\x00"+a.Version+"\x00"+a.Release, b.Name+"\x00"+b.Arch+"\x00"+b.Version+"\x00"+b.Release)
	})
	return out
}

// runInstaller runs argv with its output shown in the build log and kept
// in the installer log (env, when given, is its environment); a failure
// says which names and capabilities were not found.
func (s *step) runInstaller(ctx context.Context, argv []string, env ...string) error {
	shown := argv
	// The packages follow the install command and its options.
	if i := slices.Index(argv, "install"); i >= 0 {
		for i+1 < len(argv) && strings.HasPrefix(argv[i+1], "-") {
			i++
		}
		if n := len(argv) - i - 1; n > 20 {
			shown = append(slices.Clone(argv[:i+1]), fmt.Sprintf("(%d packages)", n))
		}
	}
	fmt.Fprintf(s.out, "flatpak-frontend: %s\n", strings.Join(shown, " "))
	var log bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	w := io.MultiWriter(s.out, &log)
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	if werr := os.WriteFile(filepath.Join(s.cfg.Out, buildstep.InstallerLogFile), log.Bytes(), 0o644); werr != nil {
		return werr
	}
	if err == nil {
		s.noteFailedScriptlets(log.Bytes())
		return nil
	}
	status := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		status = ee.ExitCode()
	} else {
		return fmt.Errorf("cannot run %s: %w", argv[0], err)
	}
	f := readFailure(log.Bytes())
	f.Status = status
	f.Keys = s.keyProblems
	f.Message = fmt.Sprintf("%s failed with exit status %d", argv[0], status)
	// dnf5 fails the install on a scriptlet that rpm reports failed.
	if failed := failedScriptlets(log.Bytes()); len(failed) > 0 {
		f.Message += ", after these scriptlets failed: " + strings.Join(failed, ", ")
	}
	return f
}

// reposDir is the folder of .repo files the installer reads: the spec's,
// with the credentials of repos that have a secret added in a copy on the
// step's tmpfs (never in a layer), and the folders of those indexBareRepos
// made. "" means the image's own.
func (s *step) reposDir() (string, error) {
	cfg := s.cfg
	if len(cfg.Repos) == 0 {
		return "", nil
	}
	hasSecret := slices.ContainsFunc(cfg.Repos, func(r buildstep.Repo) bool { return r.Secret != "" })
	if !hasSecret && len(s.made) == 0 {
		return buildstep.ReposDir, nil
	}
	dir := filepath.Join(buildstep.TmpDir, "repos.d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for _, r := range cfg.Repos {
		dt, err := os.ReadFile(filepath.Join(buildstep.ReposDir, r.ID+".repo"))
		if err != nil {
			return "", err
		}
		if made, ok := s.made[r.ID]; ok {
			dt = withBaseURL(dt, made)
		}
		if r.Secret != "" {
			cred, err := os.ReadFile(r.Secret)
			if err != nil {
				return "", fmt.Errorf("cannot read the secret for repo %s: %w", r.ID, err)
			}
			user, pass, ok := strings.Cut(strings.TrimRight(string(cred), "\r\n"), ":")
			if !ok || strings.ContainsAny(user+pass, "\r\n") {
				return "", fmt.Errorf("the secret for repo %s must be one line USER:PASSWORD", r.ID)
			}
			if len(dt) > 0 && dt[len(dt)-1] != '\n' {
				dt = append(dt, '\n')
			}
			// The .repo file holds this repo's one group: the keys go
			// to it.
			dt = append(dt, "username="+user+"\npassword="+pass+"\n"...)
		}
		if err := os.WriteFile(filepath.Join(dir, r.ID+".repo"), dt, 0o600); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// rootSettings are the release version and (for microdnf) the config file
// an install into another root needs.
func (s *step) rootSettings(ctx context.Context) (releaseVer, dnfConf string, err error) {
	cfg := s.cfg
	releaseVer = cfg.ReleaseVer
	if cfg.InstallRoot == "" {
		return releaseVer, "", nil
	}
	switch cfg.Installer {
	case Dnf:
		// dnf reads the release version from the install root, which may
		// have none; "/" takes it from the build image.
		if releaseVer == "" {
			releaseVer = "/"
		}
	case Microdnf:
		dnfConf = "/etc/dnf/dnf.conf"
		if _, err := os.Stat(dnfConf); err != nil {
			dnfConf = filepath.Join(buildstep.TmpDir, "dnf.conf")
			if err := os.WriteFile(dnfConf, []byte("[main]\n"), 0o644); err != nil {
				return "", "", err
			}
		}
		if releaseVer == "" {
			out, _ := exec.CommandContext(ctx, "rpm", "-q", "--qf", "%{VERSION}\n", "--whatprovides", "system-release").Output()
			releaseVer = releaseVerOfBuildImage(string(out))
		}
	}
	return releaseVer, dnfConf, nil
}

// rpmMacros is this step's rpm configuration, beside the image's.
const rpmMacros = "/etc/rpm/macros.flatpak-frontend"

// disableUnsharePlugin turns off rpm's unshare plugin (Fedora's
// rpm-plugin-unshare, built into Debian's rpm), which runs each scriptlet in
// new mount and network namespaces: a build step is an unprivileged
// container, where unshare(2) is refused, so every scriptlet and file
// trigger would fail. The step itself is the sandbox: a throwaway root, no
// network but for remote repos, and no credential where package code runs.
func disableUnsharePlugin() error {
	if err := os.MkdirAll(filepath.Dir(rpmMacros), 0o755); err != nil {
		return err
	}
	return os.WriteFile(rpmMacros, []byte("%__transaction_unshare %{nil}\n%__transaction_unshare_paths %{nil}\n%__transaction_unshare_nonet 0\n"), 0o644)
}

// dropLocalRepoCaches forgets what the installers cached of repos from
// build contexts: such a repo is mounted at the same path in every build
// while its repodata changes.
func dropLocalRepoCaches(repos []buildstep.Repo) {
	for _, r := range repos {
		if r.Dir == "" {
			continue
		}
		for _, pattern := range []string{
			"/var/cache/dnf/%s-*", "/var/cache/dnf/%s.solv", "/var/cache/dnf/%s-filenames.solvx",
			"/var/cache/libdnf5/%s-*",
			"/var/cache/yum/metadata/%s", "/var/cache/yum/metadata/%s-*", "/var/cache/yum/solv/%s.solv", "/var/cache/yum/solv/%s-*.solvx",
		} {
			matches, _ := filepath.Glob(fmt.Sprintf(pattern, globEscape(r.ID)))
			for _, m := range matches {
				os.RemoveAll(m)
			}
		}
	}
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *step) writeReport() error {
	return os.WriteFile(filepath.Join(s.cfg.Out, buildstep.InstallReportFile), s.report.Encode(), 0o644)
}
