// Package finishargs parses flatpak build-finish options ("finish-args")
// into the sandbox permissions (Flatpak's FlatpakContext) and the other
// build-finish settings they describe, and writes them into a metadata key
// file the way flatpak build-finish 1.16 does (1.14's output, where no
// option of 1.16 is given).
//
// Parse accepts the options of `flatpak build-finish` 1.16 that make sense in
// a declarative file, in both "--opt=value" and "--opt value" form:
//
//	context:   --share --unshare --socket --nosocket --device --nodevice
//	           --allow --disallow --filesystem --nofilesystem --env
//	           --unset-env --own-name --talk-name --no-talk-name
//	           --system-own-name --system-talk-name --system-no-talk-name
//	           --a11y-own-name --add-policy --remove-policy --usb --nousb
//	           --usb-list (usb.go) --persist --no-desktop (no-op)
//	build:     --command --require-version --no-exports --extra-data
//	           --extension --remove-extension --extension-priority --sdk
//	           --runtime --metadata --no-inherit-permissions
//
// Not accepted, each with the reason: --env-fd (reads a file descriptor),
// --usb-list-file (reads a file), 1.18's conditional --share-if,
// --socket-if, --device-if and --allow-if, flatpak's global options
// (--verbose, --help, ...) and anything else. What 1.16 added (the
// inherit-wayland-socket socket, the input and usb devices, the
// accessibility bus and USB groups) flatpak 1.14 skips when it reads the
// metadata.
//
// Values are checked as flatpak checks them (share, socket, device and
// feature names of 1.16; filesystem locations and suffixes; D-Bus names with
// an optional ".*" wildcard; SUBSYSTEM.KEY=VALUE policies; USB queries;
// ...) and, beyond that, everything that would not survive the metadata key
// file is refused: NUL bytes, invalid UTF-8, line breaks, names that are not
// valid key file keys or groups, and ';' inside an element of a list-valued
// key.
//
// Context.Save reproduces flatpak_context_save_metadata, including the order
// of the entries flatpak keeps in hash tables (filesystems, persistent, bus
// policies, environment, generic policies, USB queries): build-finish writes
// them in GLib GHashTable iteration order, which this package simulates (see
// ghash.go), so the result is byte-identical to what build-finish writes.
// Flatpak 1.18 writes the same groups, keys and values, its [Context] lists
// sorted by name.
package finishargs
