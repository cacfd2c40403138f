package llb

import (
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/oci/tardiff"
	bkllb "github.com/moby/buildkit/client/llb"
)

// LayoutOptions is what the frontend learned from the build's reports.
type LayoutOptions struct {
	// Metadata is the Flatpak metadata file.
	Metadata []byte
	// Exports are the paths, relative to /app, of the files flatpak
	// build-finish would export (apps only).
	Exports []string
	// Runtime lays out a runtime: files is a root whose usr/ becomes
	// files/ and etc/ files/etc/, and the image gets the container entries.
	Runtime bool
	// Epoch, when set, is the timestamp of every file.
	Epoch *time.Time
	// Layers split files/ (see SplitLayers); none: one layer.
	Layers []Layer
	// ContentID, when set, holds buildstep.ContentIDFile, which the last
	// layer carries at tardiff.ContentIDPath.
	ContentID *bkllb.State
}

// Layout returns the Flatpak image of a build's files: files/ in one
// layer or as o.Layers split it, for runtimes the container entries in a
// layer, and metadata and export/ (with the content id) in a small last
// layer of its own (so a change of finish-args rebuilds only that).
func Layout(files bkllb.State, o LayoutOptions, opts ...bkllb.ConstraintsOpt) bkllb.State {
	owner := bkllb.WithUIDGID(0, 0)
	copyTree := func() *bkllb.CopyInfo {
		return &bkllb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, CreatedTime: o.Epoch}
	}
	var layers []bkllb.State
	switch {
	case len(o.Layers) > 1:
		for _, l := range o.Layers {
			name := bkllb.WithCustomNamef("files/ of %s", l.Name)
			dest := "/files/"
			if o.Epoch != nil {
				// A plain copy of the selection gives the folders above
				// the paths the epoch too.
				dest = "/"
			}
			fa := copySelected(nil, files, l.Paths, o.Runtime, dest, o.Epoch, owner)
			layer := bkllb.Scratch().File(fa, append(opts, name)...)
			if o.Epoch != nil {
				layer = bkllb.Scratch().File(bkllb.Copy(layer, "/", "/files/", copyTree(), owner), append(opts, name)...)
			}
			layers = append(layers, layer)
		}
	case o.Runtime:
		layers = append(layers, bkllb.Scratch().File(
			bkllb.Copy(files, "/usr/", "/files/", copyTree(), owner).
				Copy(files, "/etc/", "/files/etc/", copyTree(), owner),
			append(opts, bkllb.WithCustomName("copy /usr and /etc to files/"))...))
	default:
		ci := copyTree()
		ci.ExcludePatterns = []string{buildstep.ReportDir[1:]}
		layers = append(layers, bkllb.Scratch().File(bkllb.Copy(files, "/", "/files/", ci, owner),
			append(opts, bkllb.WithCustomName("copy /app to files/"))...))
	}

	mo := []bkllb.MkfileOption{owner}
	if o.Epoch != nil {
		mo = append(mo, bkllb.WithCreatedTime(*o.Epoch))
	}
	small := bkllb.Mkfile("/metadata", 0o644, o.Metadata, mo...)
	switch {
	case len(o.Exports) == 0:
	case o.Epoch == nil:
		small = copySelected(small, files, o.Exports, false, "/export/", nil, owner)
	default:
		// Folders made for one path change when the next lands in them;
		// a second, plain copy gives them the epoch too.
		fa := copySelected(nil, files, o.Exports, false, "/", nil)
		exports := bkllb.Scratch().File(fa, append(opts, bkllb.WithCustomName("select exports"))...)
		small = small.Copy(exports, "/", "/export/", copyTree(), owner)
	}
	name := "write metadata and export/"
	if o.Runtime {
		name = "write metadata"
	}
	if o.ContentID != nil {
		// In the last layer, whose DiffID then changes with anything in
		// the image (see tardiff.ContentIDPath).
		small = small.Copy(*o.ContentID, "/"+buildstep.ContentIDFile, "/"+tardiff.ContentIDPath,
			&bkllb.CopyInfo{CreateDestPath: true, CreatedTime: o.Epoch}, owner)
	}
	if o.Runtime {
		layers = append(layers, Hybrid(bkllb.Scratch(), o.Epoch, nil, opts...))
	}
	layers = append(layers, bkllb.Scratch().File(small, append(opts, bkllb.WithCustomName(name))...))
	return bkllb.Merge(layers, append(opts, bkllb.WithCustomName("lay out the Flatpak image"))...)
}

// copySelected adds to fa (nil: a new action) copies of the entries at
// paths of files (relative to its root; folders with all they hold) below
// dest, a runtime's usr/ paths without usr/ (its /usr is files/, its /etc
// files/etc): one copy per source folder, selecting the paths by include
// patterns.
// BuildKit keys such a copy by one checksum of its selection; a copy action
// per path would cost a checksum, a mount and a write of the whole
// checksum tree to its database for each path.
func copySelected(fa *bkllb.FileAction, files bkllb.State, paths []string, runtime bool, dest string, created *time.Time, opts ...bkllb.CopyOption) *bkllb.FileAction {
	type source struct {
		src      string
		patterns []string
		all      bool
	}
	var sources []*source
	add := func(src, rel string) {
		var s *source
		for _, c := range sources {
			if c.src == src {
				s = c
			}
		}
		if s == nil {
			s = &source{src: src}
			sources = append(sources, s)
		}
		if rel == "" {
			s.all = true
		}
		s.patterns = append(s.patterns, literalPattern(rel))
	}
	for _, p := range paths {
		if runtime && (p == "usr" || strings.HasPrefix(p, "usr/")) {
			add("/usr/", strings.TrimPrefix(strings.TrimPrefix(p, "usr"), "/"))
		} else {
			add("/", p)
		}
	}
	for _, s := range sources {
		ci := &bkllb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, CreatedTime: created}
		if !s.all {
			ci.IncludePatterns = s.patterns
		}
		co := append([]bkllb.CopyOption{ci}, opts...)
		fa = fa.Copy(files, s.src, dest, co...) // a nil fa's Copy starts the chain
	}
	return fa
}

// literalPattern is a pattern that matches path p only: BuildKit's
// patterns give meaning to *, ?, [, \ and a leading !.
func literalPattern(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[]\!`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
