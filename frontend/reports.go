package frontend

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/patternmatcher"
	"github.com/pkg/errors"
)

// reports is what the build says about itself (see llb.Result).
type reports struct {
	// files maps paths relative to /app to their sizes.
	files map[string]int64
	order []string
	// rpms is every package in the build root; added those the install
	// brought in (the rest came with the runtime).
	rpms  []rpm
	added []rpm
	// entries are what the build's tree holds; layers split files/ by
	// source package.
	entries []fllb.Entry
	layers  []fllb.Layer
}

type rpm struct {
	Name, Epoch, Version, Release, Arch, SourceRPM string
}

func readReports(ctx context.Context, ref client.Reference) (*reports, error) {
	read := func(name string) ([]byte, error) {
		dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: fllb.ReportDir + "/" + name})
		if err != nil {
			return nil, errors.Wrapf(err, "read the build's %s report", name)
		}
		return dt, nil
	}
	r := &reports{files: map[string]int64{}}
	dt, err := read("files")
	if err != nil {
		return nil, err
	}
	for _, rec := range bytes.Split(dt, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		size, name, ok := strings.Cut(string(rec), " ")
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || err != nil {
			return nil, errors.Errorf("bad line in the files report: %q", rec)
		}
		r.files[name] = n
		r.order = append(r.order, name)
	}
	for name, dst := range map[string]*[]rpm{"rpms": &r.rpms, "rpms-added": &r.added} {
		dt, err := read(name)
		if err != nil {
			return nil, err
		}
		*dst = parseRPMs(dt)
	}
	return r, nil
}

// readLayers splits the files by the owners and tree reports.
func (r *reports) readLayers(ctx context.Context, ref client.Reference, runtime bool) error {
	var dt [2][]byte
	for i, name := range []string{"owners", "tree"} {
		var err error
		if dt[i], err = ref.ReadFile(ctx, client.ReadRequest{Filename: fllb.ReportDir + "/" + name}); err != nil {
			return errors.Wrapf(err, "read the build's %s report", name)
		}
	}
	var owners []fllb.Owner
	for _, line := range strings.Split(string(dt[0]), "\n") {
		if f := strings.SplitN(line, "\t", 3); len(f) == 3 {
			owners = append(owners, fllb.Owner{Package: f[0], SourceRPM: f[1], Path: f[2]})
		}
	}
	var entries []fllb.Entry
	for _, rec := range bytes.Split(dt[1], []byte{0}) {
		typ, name, ok := strings.Cut(string(rec), " ")
		if ok && name != "" {
			entries = append(entries, fllb.Entry{Path: name, Dir: typ == "d"})
		}
	}
	r.entries = entries
	r.layers = fllb.SplitLayers(entries, owners, runtime)
	return nil
}

func parseRPMs(dt []byte) []rpm {
	var out []rpm
	for _, line := range strings.Split(string(dt), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			continue
		}
		out = append(out, rpm{f[0], f[1], f[2], f[3], f[4], f[5]})
	}
	return out
}

// exported lists the entries (not folders) that the export globs select.
func (r *reports) exported(globs []string) []string {
	pm, err := patternmatcher.New(globs)
	if err != nil || len(globs) == 0 {
		return nil
	}
	var out []string
	for _, e := range r.entries {
		if ok, _ := pm.MatchesOrParentMatches(e.Path); ok && !e.Dir {
			out = append(out, e.Path)
		}
	}
	return out
}

// installedSize is flatpak's installed size of the image: its regular
// files (files/, their copies in export/, metadata), see labels.FileSize.
func (r *reports) installedSize(metadata []byte, exports []string) uint64 {
	sizes := []uint64{uint64(len(metadata))}
	pm, _ := patternmatcher.New(exports)
	for _, name := range r.order {
		size := uint64(r.files[name])
		sizes = append(sizes, size)
		if pm != nil {
			if ok, _ := pm.MatchesOrParentMatches(name); ok {
				sizes = append(sizes, size)
			}
		}
	}
	return labels.InstalledSizeOf(sizes...)
}

// diagnose reruns a failed install in a mode that never fails and reads
// why it failed, to point at the packages lines that caused it. It returns
// nil when it learns nothing; the caller then returns BuildKit's error.
func (b *build) diagnose(ctx context.Context, opts fllb.Options) error {
	opts.Diagnose = true
	res, err := fllb.Build(b.spec, opts)
	if err != nil {
		return nil
	}
	ref, err := b.solve(ctx, res.Files, opts.Platform)
	if err != nil {
		return nil
	}
	read := func(name string) string {
		dt, _ := ref.ReadFile(ctx, client.ReadRequest{Filename: fllb.ReportDir + "/" + name})
		return strings.TrimSpace(string(dt))
	}
	s := b.spec
	var found []located
	if missing := read("missing"); missing != "" {
		for _, name := range strings.Split(missing, "\n") {
			found = append(found, b.atPackage(fmt.Sprintf("package %q was not found in the enabled repositories%s", name, repoNames(s)), name))
		}
		return locatedError(s, found)
	}
	if outside := read("outside"); outside != "" {
		files := map[string][]string{}
		var names []string
		for _, line := range strings.Split(outside, "\n") {
			name, file, _ := strings.Cut(line, "\t")
			if _, ok := files[name]; !ok {
				names = append(names, name)
			}
			files[name] = append(files[name], file)
		}
		for _, name := range names {
			f := files[name]
			more := ""
			if len(f) > 3 {
				more = fmt.Sprintf(" and %d more", len(f)-3)
				f = f[:3]
			}
			found = append(found, b.atPackage(fmt.Sprintf("package %s installs files outside /app (%s%s); the runtime should provide it, or list it in allow-outside-app", name, strings.Join(f, ", "), more), name))
		}
		return locatedError(s, found)
	}
	if read("installer-status") == "0" {
		// The installer did its part; a later check failed.
		if e := read("error"); e != "" {
			return wrapSpec(s, errors.Errorf("installing the packages failed: %s", e), "packages")
		}
	}
	if log := read("installer.log"); log != "" {
		lines := strings.Split(log, "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		return wrapSpec(s, errors.Errorf("installing the packages failed:\n%s", strings.Join(lines, "\n")), "packages")
	}
	return nil
}

// located is a message about one spec key.
type located struct {
	msg  string
	path []any
}

// atPackage places a message at the packages entry that names the package,
// or at packages when a dependency caused it.
func (b *build) atPackage(msg, name string) located {
	for i, p := range b.spec.Packages {
		if p.Name == name {
			return located{msg, []any{"packages", i}}
		}
	}
	return located{msg + " (pulled in as a dependency)", []any{"packages"}}
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
