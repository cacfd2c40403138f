package llb

import (
	"strings"
	"time"

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
}

// Layout returns the Flatpak image of a build's files: files/ in one
// layer or as o.Layers split it, metadata and export/ in a small layer of
// its own (so a change of finish-args rebuilds only that), and for runtimes
// the container entries in a last one.
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
			// Copies of the paths themselves: no walk of the whole tree.
			// BuildKit keys each by the content at its path.
			dest := "/files/"
			if o.Epoch != nil {
				// Folders made for one path change when the next path
				// lands in them; a plain copy of the selection dates them.
				dest = "/"
			}
			fa := copyPaths(files, l.Paths, func(p string) string { return dest + inFiles(p, o.Runtime) }, o.Epoch, owner)
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
		ci.ExcludePatterns = []string{ReportDir[1:]}
		layers = append(layers, bkllb.Scratch().File(bkllb.Copy(files, "/", "/files/", ci, owner),
			append(opts, bkllb.WithCustomName("copy /app to files/"))...))
	}

	mo := []bkllb.MkfileOption{owner}
	if o.Epoch != nil {
		mo = append(mo, bkllb.WithCreatedTime(*o.Epoch))
	}
	small := bkllb.Mkfile("/metadata", 0o644, o.Metadata, mo...)
	if len(o.Exports) > 0 {
		// Folders made for one path change when the next lands in them;
		// a second, plain copy gives them the epoch too.
		fa := copyPaths(files, o.Exports, func(p string) string { return "/" + p }, nil)
		exports := bkllb.Scratch().File(fa, append(opts, bkllb.WithCustomName("select exports"))...)
		small = small.Copy(exports, "/", "/export/", copyTree(), owner)
	}
	name := "write metadata and export/"
	if o.Runtime {
		name = "write metadata"
	}
	layers = append(layers, bkllb.Scratch().File(small, append(opts, bkllb.WithCustomName(name))...))
	if o.Runtime {
		layers = append(layers, Hybrid(bkllb.Scratch(), o.Epoch, opts...))
	}
	return bkllb.Merge(layers, append(opts, bkllb.WithCustomName("lay out the Flatpak image"))...)
}

// inFiles is where a path of the build's tree goes under files/: an app's
// /app is files/, a runtime's /usr is files/ and its /etc files/etc.
func inFiles(p string, runtime bool) string {
	if runtime {
		if p == "usr" {
			return ""
		}
		if rest, ok := strings.CutPrefix(p, "usr/"); ok {
			return rest
		}
	}
	return p
}

// copyPaths copies each path of files (relative to its root) to to(path),
// making the folders above it.
func copyPaths(files bkllb.State, paths []string, to func(string) string, created *time.Time, opts ...bkllb.CopyOption) *bkllb.FileAction {
	var fa *bkllb.FileAction
	for _, p := range paths {
		ci := &bkllb.CopyInfo{CreateDestPath: true, CreatedTime: created}
		if fa == nil {
			fa = bkllb.Copy(files, "/"+p, to(p), append([]bkllb.CopyOption{ci}, opts...)...)
		} else {
			fa = fa.Copy(files, "/"+p, to(p), append([]bkllb.CopyOption{ci}, opts...)...)
		}
	}
	return fa
}
