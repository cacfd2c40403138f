package frontend

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/patternmatcher"
	"github.com/pkg/errors"
	"golang.org/x/sync/errgroup"
)

// reports is what the build steps say about the build (package buildstep).
type reports struct {
	install *buildstep.InstallReport
	finish  *buildstep.FinishReport
	// layers split files/ by source package.
	layers []fllb.Layer
}

// readReport reads one of a build's reports from its files.
func readReport(ctx context.Context, ref client.Reference, name string) ([]byte, error) {
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: buildstep.ReportDir + "/" + name})
	if err != nil {
		return nil, errors.Wrapf(err, "read the build's %s report", name)
	}
	return dt, nil
}

// readParsed reads the report name and parses it into *v.
func readParsed[T any](ctx context.Context, ref client.Reference, name string, parse func([]byte) (T, error), v *T) func() error {
	return func() error {
		dt, err := readReport(ctx, ref, name)
		if err != nil {
			return err
		}
		*v, err = parse(dt)
		return err
	}
}

func readReports(ctx context.Context, ref client.Reference, prefix string) (*reports, error) {
	// Both at once: each is a round trip to the daemon.
	r := &reports{}
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(readParsed(ectx, ref, buildstep.InstallReportFile, buildstep.ParseInstallReport, &r.install))
	eg.Go(readParsed(ectx, ref, buildstep.FinishReportFile, buildstep.ParseFinishReport, &r.finish))
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	r.layers = fllb.SplitLayers(r.finish.Entries, r.install.Files, prefix)
	return r, nil
}

// warnReports shows what the steps reported that the packager should know:
// packaged files cleanup-commands removed or changed (allowed, but never
// silent), and the steps' notices.
func (b *builder) warnReports(ctx context.Context, r *reports) {
	for _, n := range r.install.Notices {
		b.warn(ctx, n, b.noticeAt(n)...)
	}
	// A package the spec names that the runtime has already: the
	// installer leaves it be, and nothing of it goes to /app.
	if !b.spec.BuildRuntime {
		added, had := map[string]bool{}, map[string]string{}
		for _, p := range r.install.Packages {
			if p.Added {
				added[p.Name] = true
			} else {
				had[p.Name] = p.NEVRA.String()
			}
		}
		for i, p := range b.spec.Packages {
			if nevra, ok := had[p.Name]; ok && !added[p.Name] {
				b.warn(ctx, fmt.Sprintf("packages: %s is in the runtime already (%s): the installer leaves it there and nothing of it goes to /app; the app uses the runtime's", p.Name, nevra), "packages", i)
			}
		}
	}
	byPkg := map[string][]string{}
	var names []string
	for _, c := range r.finish.Changes {
		if _, ok := byPkg[c.Package]; !ok {
			names = append(names, c.Package)
		}
		byPkg[c.Package] = append(byPkg[c.Package], c.What+" "+c.Path)
	}
	for _, name := range names {
		b.warn(ctx, fmt.Sprintf("cleanup-commands: %d packaged file(s) of %s: %s", len(byPkg[name]), name, firstFew(byPkg[name])), "cleanup-commands")
	}
}

// warn shows msg in the build's output, at a spec key's lines.
func (b *builder) warn(ctx context.Context, msg string, key ...any) {
	if b.warnFn == nil {
		return
	}
	var opts client.WarnOpts
	if b.spec.Source != nil {
		if r, ok := b.spec.Source.Range(key...); ok {
			opts.Range = []*pb.Range{fllb.PBRange(r)}
		}
	}
	b.warnFn(ctx, msg, opts)
}

// has reports whether the tree holds path (relative to its root) with the
// type typ ('f', 'd', 'l').
func (r *reports) has(path string, typ byte) bool {
	for _, e := range r.finish.Entries {
		if e.Path == path && e.Type == typ {
			return true
		}
	}
	return false
}

// firstBinary is the first executable build-finish would pick as the
// command: the first file of files/bin in name order.
func (r *reports) firstBinary() string {
	first := ""
	for _, e := range r.finish.Entries {
		if e.Type == 'f' && path.Dir(e.Path) == "bin" && (first == "" || e.Path < first) {
			first = e.Path
		}
	}
	return path.Base(first)
}

// exported lists the entries (not folders) that the export globs select.
func (r *reports) exported(globs []string) []string {
	pm, err := patternmatcher.New(globs)
	if err != nil || len(globs) == 0 {
		return nil
	}
	var out []string
	for _, e := range r.finish.Entries {
		if ok, _ := pm.MatchesOrParentMatches(e.Path); ok && e.Type != 'd' {
			out = append(out, e.Path)
		}
	}
	return out
}

// installedSize is flatpak's installed size of the image: its regular
// files (files/, their copies in export/, metadata), see labels.FileSize;
// exported are the entries exported() selected.
func (r *reports) installedSize(metadata []byte, exported []string) uint64 {
	// The image's files also hold the content id (fllb.LayoutOptions).
	sizes := []uint64{uint64(len(metadata)), buildstep.ContentIDFileSize}
	inExport := make(map[string]bool, len(exported))
	for _, p := range exported {
		inExport[p] = true
	}
	for _, e := range r.finish.Entries {
		if e.Type != 'f' {
			continue
		}
		sizes = append(sizes, uint64(e.Size))
		if inExport[e.Path] {
			sizes = append(sizes, uint64(e.Size))
		}
	}
	return labels.InstalledSizeOf(sizes...)
}

// diagnose explains why the build failed: it reruns the install in a
// mode that never fails and reads why it failed, to point at the packages
// lines that caused it; when the install did not fail, the finishing, to
// point at the key whose value it could not apply (a rename-icon naming no
// icon). Which of them runs again follows the step that failed, where
// BuildKit names it. It returns nil when it learns nothing; the caller then
// returns BuildKit's error.
func (b *builder) diagnose(ctx context.Context, opts fllb.Options, failed error) error {
	// A repo folder missing from its context fails the install step's
	// mount (BuildKit: "failed to compute cache key: ... not found").
	if err := b.checkRepoFolders(ctx, opts); err != nil {
		return err
	}
	var se *errdefs.SolveError
	if !errors.As(failed, &se) || se.Op == nil {
		// BuildKit does not say which step failed: any of them.
		if err := b.diagnoseInstall(ctx, opts); err != nil {
			return err
		}
		return b.diagnoseFinish(ctx, opts)
	}
	switch fllb.KindOf(se.Op) {
	case fllb.InstallStep:
		// The diagnosis of an install step that finishes too finishes
		// what installed.
		return b.diagnoseInstall(ctx, opts)
	case fllb.FinishStep:
		return b.diagnoseFinish(ctx, opts)
	}
	// cleanup-commands (BuildKit's error is at its line) or another op.
	return nil
}

// checkRepoFolders says, at its path's line, which repo's folder its build
// context does not have (or has as something else than a folder); nil when
// each has its own.
func (b *builder) checkRepoFolders(ctx context.Context, opts fllb.Options) error {
	var found []located
	for i, r := range b.spec.Repos {
		st, ok := opts.Contexts[r.Context]
		if r.Path == "" || !ok {
			continue
		}
		ref, err := b.solve(ctx, st, opts.Platform)
		if err != nil {
			continue
		}
		c := contextName(r)
		p := path.Clean("/" + r.Path)
		fi, err := ref.StatFile(ctx, client.StatRequest{Path: p})
		switch {
		case err != nil:
			found = append(found, located{fmt.Sprintf("repo %s: %s has no folder %q", r.Name, c, r.Path), []any{"repos", i, "path"}})
		case !os.FileMode(fi.Mode).IsDir():
			found = append(found, located{fmt.Sprintf("repo %s: %q in %s is not a folder", r.Name, r.Path, c), []any{"repos", i, "path"}})
		}
	}
	if len(found) == 0 {
		return nil
	}
	return locatedError(b.spec, found)
}

// rerun builds the spec again with opts and reads the report name from
// its result; ok is false where any of that failed.
func (b *builder) rerun(ctx context.Context, opts fllb.Options, name string) (ref client.Reference, report []byte, ok bool) {
	res, err := fllb.Build(b.spec, opts)
	if err != nil {
		return nil, nil, false
	}
	if ref, err = b.solve(ctx, res.Files, opts.Platform); err != nil {
		return nil, nil, false
	}
	if report, err = readReport(ctx, ref, name); err != nil {
		return nil, nil, false
	}
	return ref, report, true
}

// diagnoseFinish builds again with a finishing that reports its failure
// instead of failing. Where the finishing has a step of its own, the steps
// before it are cached; where it runs in the install step, that step runs
// again, on top of the install it kept.
func (b *builder) diagnoseFinish(ctx context.Context, opts fllb.Options) error {
	opts.DiagnoseFinish = true
	// A failure here is not the finishing's (cleanup-commands, say).
	_, dt, ok := b.rerun(ctx, opts, buildstep.FinishReportFile)
	if !ok {
		return nil
	}
	return b.finishFailure(dt)
}

// finishFailure is the failure a finish report records, at its key's line;
// nil when it records none.
func (b *builder) finishFailure(report []byte) error {
	rep, err := buildstep.ParseFinishReport(report)
	if err != nil || rep.Failure == nil {
		return nil
	}
	err = errors.New(rep.Failure.Message)
	if rep.Failure.Key == "" {
		return errors.Wrap(err, "finishing the build")
	}
	return wrapSpec(b.spec, err, rep.Failure.Key)
}

// diagnoseInstall builds again with an install that reports its failure
// instead of failing (and, in a step that finishes too, finishes what
// installed the same way).
func (b *builder) diagnoseInstall(ctx context.Context, opts fllb.Options) error {
	opts.Diagnose = true
	ref, dt, ok := b.rerun(ctx, opts, buildstep.InstallReportFile)
	if !ok {
		return nil
	}
	rep, err := buildstep.ParseInstallReport(dt)
	if err != nil {
		return nil
	}
	if rep.Failure == nil {
		if fin, err := readReport(ctx, ref, buildstep.FinishReportFile); err == nil {
			return b.finishFailure(fin)
		}
		return nil
	}
	// What the step noticed may explain the failure (a repo whose
	// metadata it could not read).
	for _, n := range rep.Notices {
		b.warn(ctx, n, b.noticeAt(n)...)
	}
	log, _ := readReport(ctx, ref, buildstep.InstallerLogFile)
	return b.failureError(rep.Failure, log)
}

// failureError says why an install failed, at the spec lines involved.
func (b *builder) failureError(f *buildstep.Failure, log []byte) error {
	s := b.spec
	var found []located
	switch {
	case len(f.Unset) > 0 && s.ReleaseVer == "":
		// The root has no system-release package to read the release
		// version from: the repos that need it are fetched with
		// "$releasever" in their URLs.
		missing := func(where string) string {
			return fmt.Sprintf("the installer has no release version for $%s in %s (nothing installed in the root it installs into provides system-release to read it from): give one with releasever:, such as releasever: 41", strings.Join(f.Unset, ", $"), where)
		}
		for i, r := range s.Repos {
			for _, u := range []struct{ key, url string }{{"baseurl", r.BaseURL}, {"metalink", r.Metalink}, {"mirrorlist", r.Mirrorlist}} {
				if strings.Contains(u.url, "$releasever") || strings.Contains(u.url, "${releasever") {
					found = append(found, located{"repo " + r.Name + ": " + missing(u.url), []any{"repos", i, u.key}})
				}
			}
		}
		if len(found) == 0 {
			found = append(found, located{missing("the runtime's repo URLs"), []any{"packages"}})
		}
		return locatedError(s, found)
	case len(f.Unread) > 0:
		// Before what the installer could not find: a repo it could not
		// read explains the rest.
		for _, u := range f.Unread {
			found = append(found, b.atRepo(u))
		}
		return locatedError(s, found)
	case len(f.Missing) > 0 || len(f.Excluded) > 0 || len(f.Unresolved) > 0:
		var filters []string
		for _, r := range s.Repos {
			if len(r.ExcludePkgs) > 0 || len(r.IncludePkgs) > 0 {
				filters = append(filters, r.Name)
			}
		}
		where := "the excludepkgs or includepkgs of the repos"
		if len(filters) > 0 {
			where = "the excludepkgs or includepkgs of repo " + strings.Join(filters, ", ")
		}
		for _, name := range f.Excluded {
			found = append(found, b.atPackage(fmt.Sprintf("package %q is in the repositories, but %s leave it out", name, where), name))
		}
		for _, name := range f.Missing {
			found = append(found, b.atPackage(fmt.Sprintf("package %q was not found in the enabled repositories%s", name, repoNames(s)), name))
		}
		caps := map[string][]string{}
		var needers []string
		for _, u := range f.Unresolved {
			if _, ok := caps[u.NeededBy]; !ok {
				needers = append(needers, u.NeededBy)
			}
			caps[u.NeededBy] = append(caps[u.NeededBy], u.Capability)
		}
		for _, n := range needers {
			c := caps[n]
			found = append(found, b.atPackage(fmt.Sprintf("nothing provides %s, which %s needs: neither the runtime nor an enabled repository%s has %s", strings.Join(c, ", "), n, repoNames(s), map[bool]string{true: "it", false: "them"}[len(c) == 1]), packageName(n)))
		}
		return locatedError(s, found)
	case len(f.Unverified) > 0 || len(f.Keys) > 0:
		// The repos that check signatures, and with which keys.
		var checking []string
		for _, r := range s.Repos {
			if r.GPGCheck != nil && *r.GPGCheck {
				key := "no gpgkey"
				if len(r.GPGKeys) > 0 {
					key = "gpgkey " + strings.Join(r.GPGKeys, " ")
				}
				checking = append(checking, fmt.Sprintf("repo %s (%s)", r.Name, key))
			}
		}
		keys := strings.Join(checking, ", ")
		if keys == "" {
			keys = "the runtime's"
		}
		if len(f.Keys) > 0 {
			// A key that could not be read is the likelier cause.
			keys += "; the build could not read " + strings.Join(f.Keys, "; ")
		}
		if len(f.Unverified) == 0 {
			found = append(found, located{fmt.Sprintf("the repos check signatures (gpgcheck: %s): give each repo a gpgkey that can be read", keys), []any{"repos"}})
		}
		for _, u := range f.Unverified {
			from := ""
			if u.Repo != "" {
				from = " from repo " + u.Repo
			}
			var msg string
			switch u.Reason {
			case buildstep.UnverifiedUnsigned:
				msg = fmt.Sprintf("package %s%s is not signed, and the repos check signatures (gpgcheck: %s): sign it, or turn gpgcheck off for its repo", u.Package, from, keys)
			case buildstep.UnverifiedNoKey:
				msg = fmt.Sprintf("package %s%s is signed with a key that no repo's gpgkey holds (%s): give its repo the key it is signed with", u.Package, from, keys)
			case buildstep.UnverifiedNoGnuPG:
				msg = fmt.Sprintf("a package is signed with a key that no repo's gpgkey holds (%s); the installer then reads the key the package names with GnuPG, which the build image does not have: give its repo the key the packages are signed with", keys)
			default:
				msg = fmt.Sprintf("package %s%s: its signature check failed: %s", u.Package, from, u.Reason)
			}
			if u.Package == "" {
				found = append(found, located{msg, []any{"repos"}})
				continue
			}
			found = append(found, b.atPackage(msg, packageName(u.Package)))
		}
		return locatedError(s, found)
	case len(f.Conflicts) > 0:
		type pair struct {
			a, b      string
			installed bool
		}
		paths := map[pair][]string{}
		var pairs []pair
		for _, c := range f.Conflicts {
			k := pair{c.Package, c.Other, c.Installed}
			if _, ok := paths[k]; !ok {
				pairs = append(pairs, k)
			}
			paths[k] = append(paths[k], c.Path)
		}
		for _, k := range pairs {
			if k.installed {
				found = append(found, b.atPackage(fmt.Sprintf("package %s installs %s, which the runtime's package %s has, differently: the install cannot replace the runtime's files", k.a, firstFew(paths[k]), k.b), packageName(k.a)))
				continue
			}
			// At the line of the one the spec lists (the other may be a
			// dependency).
			name := packageName(k.a)
			if !slices.ContainsFunc(s.Packages, func(p spec.Package) bool { return p.Name == name }) {
				name = packageName(k.b)
			}
			found = append(found, b.atPackage(fmt.Sprintf("packages %s and %s both install %s, with different contents: install only one of them", k.a, k.b, firstFew(paths[k])), name))
		}
		return locatedError(s, found)
	case len(f.Outside) > 0:
		files := map[string][]string{}
		var names []string
		for _, o := range f.Outside {
			if _, ok := files[o.Package]; !ok {
				names = append(names, o.Package)
			}
			files[o.Package] = append(files[o.Package], o.Path)
		}
		// A newer version of one of the runtime's packages: what the
		// app's packages need is a newer runtime, not an exception.
		updated := map[string]buildstep.Update{}
		for _, u := range f.Updated {
			updated[packageName(u.To)] = u
		}
		for _, name := range names {
			if u, ok := updated[name]; ok {
				found = append(found, b.atPackage(fmt.Sprintf("the install would update the runtime's %s to %s, which the app's packages need: an app cannot change its runtime; build on a runtime that has it, or with versions of the app's packages that the runtime's %s satisfies", u.From, u.To, name), name))
				continue
			}
			found = append(found, b.atPackage(fmt.Sprintf("package %s installs files outside /app (%s); the runtime should provide it, or list it in allow-outside-app", name, firstFew(files[name])), name))
		}
		return locatedError(s, found)
	case len(f.Lost) > 0:
		byPkg := map[string][]string{}
		var names []string
		for _, l := range f.Lost {
			if _, ok := byPkg[l.Package]; !ok {
				names = append(names, l.Package)
			}
			byPkg[l.Package] = append(byPkg[l.Package], l.Path+" "+l.Reason)
		}
		for _, name := range names {
			found = append(found, b.atPackage(fmt.Sprintf("files of package %s are not in the result: %s", name, firstFew(byPkg[name])), name))
		}
		return locatedError(s, found)
	case f.Status == 0 || f.Status == -1 && len(log) == 0:
		// The installer did its part, or did not run: a check failed.
		return wrapSpec(s, errors.Errorf("installing the packages failed: %s", f.Message), "packages")
	}
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return wrapSpec(s, errors.Errorf("installing the packages failed: %s:\n%s", f.Message, strings.Join(lines, "\n")), "packages")
}

// firstFew joins up to three items and says how many more there are.
func firstFew(items []string) string {
	if len(items) <= 3 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:3], ", "), len(items)-3)
}

// packageName is the name of a package given as NAME-VERSION-RELEASE.ARCH
// (how the installers print the package that needs something).
func packageName(nevra string) string {
	s := nevra
	for range 2 {
		if i := strings.LastIndexByte(s, '-'); i > 0 {
			s = s[:i]
		}
	}
	return s
}

// located is a message about one spec key.
type located struct {
	msg  string
	path []any
}

// atPackage places a message at the packages entry that names the package,
// or at packages when a dependency caused it.
func (b *builder) atPackage(msg, name string) located {
	for i, p := range b.spec.Packages {
		if p.Name == name {
			return located{msg, []any{"packages", i}}
		}
	}
	return located{msg + " (pulled in as a dependency)", []any{"packages"}}
}

// atRepo says why a repo could not be read, at the key in its repos entry
// that says where it is (a repo not in the spec: the runtime's own, at
// packages).
func (b *builder) atRepo(u buildstep.UnreadRepo) located {
	i := slices.IndexFunc(b.spec.Repos, func(r spec.Repo) bool { return r.Name == u.Repo })
	if i < 0 {
		msg := fmt.Sprintf("the runtime's repo %s: the installer could not read its metadata", u.Repo)
		if u.Why != "" {
			msg += ": " + u.Why
		}
		return located{msg, []any{"packages"}}
	}
	r := b.spec.Repos[i]
	key, where := whereKey(r), r.BaseURL
	switch key {
	case "path":
		where = fmt.Sprintf("folder %q of %s", r.Path, contextName(r))
	case "metalink":
		where = r.Metalink
	case "mirrorlist":
		where = r.Mirrorlist
	}
	var msg string
	switch {
	case u.Why == buildstep.RepoNoFolder:
		msg = fmt.Sprintf("repo %s: %s does not exist", r.Name, where)
	case u.Why == buildstep.RepoNoMetadata:
		// A folder with binary packages is indexed by the install step:
		// this one has none.
		msg = fmt.Sprintf("repo %s: %s is not a repository: it has neither repodata/repomd.xml nor a binary .rpm file", r.Name, where)
		if u.RPMs > 0 {
			msg = fmt.Sprintf("repo %s: %s is not a repository: it has no repodata/repomd.xml, and its .rpm files are source packages", r.Name, where)
		}
	case strings.HasPrefix(u.Why, buildstep.RepoBadPackage):
		msg = fmt.Sprintf("repo %s: %s has no repodata/repomd.xml, and one of the .rpm files it holds cannot be read to index them%s", r.Name, where, strings.TrimPrefix(u.Why, buildstep.RepoBadPackage))
	case u.Why == "":
		msg = fmt.Sprintf("repo %s: the installer could not read its metadata from %s", r.Name, where)
	default:
		msg = fmt.Sprintf("repo %s: the installer could not read its metadata from %s: %s", r.Name, where, u.Why)
	}
	return located{msg, b.repoAt(i, key)}
}

// repoAt is the spec path of repo i's key, or of the repo where the key
// has no line of its own.
func (b *builder) repoAt(i int, key string) []any {
	path := []any{"repos", i, key}
	if _, ok := b.spec.Source.Range(path...); !ok {
		path = []any{"repos", i}
	}
	return path
}

// noticeAt is where a step's notice is shown: one about a repo of the
// spec ("repos: repo ID: ...") at the line that says where the repo is,
// the others at packages.
func (b *builder) noticeAt(n string) []any {
	rest, ok := strings.CutPrefix(n, "repos: repo ")
	if !ok {
		return []any{"packages"}
	}
	id, _, _ := strings.Cut(rest, " ")
	id = strings.TrimSuffix(id, ":")
	i := slices.IndexFunc(b.spec.Repos, func(r spec.Repo) bool { return r.Name == id })
	if i < 0 {
		return []any{"packages"}
	}
	return b.repoAt(i, whereKey(b.spec.Repos[i]))
}

// whereKey is the key that says where repo r is.
func whereKey(r spec.Repo) string {
	switch {
	case r.Path != "":
		return "path"
	case r.Metalink != "":
		return "metalink"
	case r.Mirrorlist != "":
		return "mirrorlist"
	}
	return "baseurl"
}

// contextName names the build context a repo's path is in.
func contextName(r spec.Repo) string {
	if r.Context == "" {
		return "the main build context"
	}
	return fmt.Sprintf("build context %q", r.Context)
}

// locatedError is one error listing every message, carrying each one's
// location so clients print all the YAML lines involved.
func locatedError(s *spec.Spec, items []located) error {
	msgs := make([]string, len(items))
	for i, it := range items {
		msgs[i] = it.msg
	}
	err := errors.New(strings.Join(msgs, "\n"))
	for _, it := range items {
		err = wrapSpec(s, err, it.path...)
	}
	return err
}

func repoNames(s *spec.Spec) string {
	if len(s.Repos) == 0 {
		return " (the runtime's own)"
	}
	var names []string
	for _, r := range s.Repos {
		names = append(names, r.Name)
	}
	return " (" + strings.Join(names, ", ") + ")"
}
