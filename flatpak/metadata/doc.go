// Package metadata writes the Flatpak "metadata" file of an app or runtime
// byte for byte as flatpak-builder produces it with flatpak 1.14: the
// keyfile `flatpak build-init` starts ([Application] or [Runtime] with name,
// runtime, sdk and tags) as updated by `flatpak build-finish` with the
// command, the finish-args and the add-extensions that flatpak-builder
// passes to it (--extension=NAME=KEY=VALUE, extensions sorted by name).
//
// It also holds, as data, the rule build-finish uses to choose the files it
// copies from files/share to export/share (ExportGlobs).
package metadata
