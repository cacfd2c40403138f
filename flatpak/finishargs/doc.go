// Package finishargs parses flatpak build-finish options ("finish-args")
// into the sandbox permissions (Flatpak's FlatpakContext) and the other
// build-finish settings they describe, and writes them into a metadata key
// file the way flatpak build-finish 1.16 does (1.14's output, where no
// option of 1.16 is given), and 1.18's conditional permissions as 1.18
// writes them.
//
// Parse accepts the options of `flatpak build-finish` 1.18 that make sense in
// a declarative file, in both "--opt=value" and "--opt value" form:
//
//	context:   --share --unshare --socket --nosocket --device --nodevice
//	           --allow --disallow --share-if --socket-if --device-if
//	           --allow-if --filesystem --nofilesystem --env
//	           --unset-env --own-name --talk-name --no-talk-name
//	           --system-own-name --system-talk-name --system-no-talk-name
//	           --a11y-own-name --add-policy --remove-policy --usb --nousb
//	           --usb-list (usb.go) --persist --no-desktop (no-op)
//	build:     --command --require-version --no-exports --extra-data
//	           --extension --remove-extension --extension-priority --sdk
//	           --runtime --metadata --no-inherit-permissions
//
// Not accepted, each with the reason: --env-fd (reads a file descriptor),
// --usb-list-file (reads a file), flatpak's global options (--verbose,
// --help, ...) and anything else. What 1.16 added (the
// inherit-wayland-socket socket, the input and usb devices, the
// accessibility bus and USB groups) flatpak 1.14 skips when it reads the
// metadata; so do 1.14 and 1.16 with 1.18's host-root filesystem and the
// "if:NAME:CONDITION" entries of a conditional permission, which 1.18
// writes after a plain "NAME" that older versions take as allowed.
// Conditions are 1.18's (has-wayland, has-input-device, has-usb-device,
// has-usb-portal, true, false, each may be negated); x11's cannot be mixed
// with fallback-x11, which 1.16 and older write as x11 too.
//
// Values are checked as flatpak checks them (share, socket, device and
// feature names of 1.16; filesystem locations and suffixes, with 1.18's
// stricter refusal of ".."; D-Bus names with
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
