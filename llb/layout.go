package llb

import (
	"time"

	bkllb "github.com/moby/buildkit/client/llb"
)

// LayoutOptions is what the frontend learned from the build root.
type LayoutOptions struct {
	// Metadata is the Flatpak metadata file.
	Metadata []byte
	// Exports are include patterns, relative to /app, of the files
	// flatpak build-finish would export.
	Exports []string
	// Epoch, when set, is the timestamp of every file.
	Epoch *time.Time
}

// Layout returns the Flatpak image of a build root: /app as files/ in one
// layer, metadata and export/ in a small second one, so a change of
// finish-args rebuilds only the small layer.
func Layout(root bkllb.State, o LayoutOptions, opts ...bkllb.ConstraintsOpt) bkllb.State {
	owner := bkllb.WithUIDGID(0, 0)
	files := bkllb.Scratch().File(
		bkllb.Copy(root, "/app/", "/files/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			CreateDestPath:      true,
			CreatedTime:         o.Epoch,
		}, owner),
		append(opts, bkllb.WithCustomName("copy /app to files/"))...,
	)
	var mo []bkllb.MkfileOption
	mo = append(mo, owner)
	if o.Epoch != nil {
		mo = append(mo, bkllb.WithCreatedTime(*o.Epoch))
	}
	small := bkllb.Mkfile("/metadata", 0o644, o.Metadata, mo...)
	if len(o.Exports) > 0 {
		// Directories a filtered copy creates get the current time; a
		// second, plain copy gives them the epoch too.
		exports := bkllb.Scratch().File(bkllb.Copy(root, "/app/", "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			AllowEmptyWildcard:  true,
			IncludePatterns:     o.Exports,
		}), append(opts, bkllb.WithCustomName("select exports"))...)
		small = small.Copy(exports, "/", "/export/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			CreateDestPath:      true,
			CreatedTime:         o.Epoch,
		}, owner)
	}
	meta := bkllb.Scratch().File(small, append(opts, bkllb.WithCustomName("write metadata and export/"))...)
	return bkllb.Merge([]bkllb.State{files, meta}, append(opts, bkllb.WithCustomName("lay out the Flatpak image"))...)
}
