// Package finish is the finishing step: it makes an app's /app or a
// runtime's new root what Flatpak stores, the way flatpak-builder finishes
// a build (renames and edits of the desktop file, icons and metainfo,
// AppStream composition, Python byte code valid under Flatpak's 1970
// mtimes, canonical modes, nothing but files, folders and symlinks), and
// lists the tree for the frontend's layers, sizes and exports.
//
// When cleanup-commands ran before it, it first reports the packaged files
// they removed or changed.
package finish
