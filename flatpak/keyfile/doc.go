// Package keyfile writes (and reads back) GLib key files — the "desktop
// entry" style INI format of Flatpak's metadata file — byte for byte as
// GLib's GKeyFile does.
//
// A File keeps groups and keys in insertion order, as GKeyFile does: setting
// an existing key replaces its value in place, a new key goes to the end of
// its group, a new group to the end of the file, and removing a group and
// setting one of its keys again moves the group to the end. Bytes renders it
// like g_key_file_to_data: "[group]" lines, "key=value" lines and one empty
// line between groups, with a final newline.
//
// SetString and SetStringList escape values exactly as g_key_file_set_string
// and g_key_file_set_string_list do: "\n", "\r", "\\" always; a leading
// space or tab as "\s" / "\t"; in lists ';' inside an element as "\;", each
// element followed by ';'. Unlike GLib, which silently ignores an invalid
// group or key name (g_return_if_fail), every setter returns an error for
// names the file format cannot hold, and for values with NUL bytes or invalid
// UTF-8, which GLib cannot read back as strings.
//
// Parse is a small reader for tests and fuzzing: it accepts what Bytes
// writes (plus comments and blank lines) and String / StringList undo the
// escaping like g_key_file_get_string / g_key_file_get_string_list.
//
// Hand-written: Go's INI libraries (gopkg.in/ini.v1 and the like) neither
// keep GKeyFile's order and escaping byte for byte nor refuse what GLib
// cannot read back, and Flatpak compares metadata byte for byte.
package keyfile
