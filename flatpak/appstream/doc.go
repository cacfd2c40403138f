// Package appstream holds what this project knows of AppStream metadata
// (metainfo/appdata files): the edits flatpak-builder makes to an app's
// file when it renames the desktop file or sets its license, done on the
// text so that everything else stays byte for byte the packager's.
package appstream
