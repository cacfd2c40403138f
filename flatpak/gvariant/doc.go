// Package gvariant serializes (and reads back) the few GVariant types that
// Flatpak's OCI image labels carry: strings (s), 64-bit unsigned integers
// (t), string arrays (as) and variants (v) holding one of them.
//
// The byte layout is GVariant's normal form as GLib writes it on a
// little-endian machine (the GVariant specification, "GVariant Serialisation
// Format"): a string is its bytes and a NUL; a uint64 is 8 little-endian
// bytes; an array of strings is the strings back to back followed by one
// framing offset per element (the end of that element), each offset 1, 2,
// 4 or 8 little-endian bytes, the smallest size that can address the whole
// serialized array; an empty array is empty. A variant, as g_variant_get_data
// returns it for a boxed value, is the value's bytes, a NUL, then the type
// string.
//
// Flatpak byte-swaps sizes before storing them (GUINT64_TO_BE), so a size of
// 2048 appears as Uint64(bits.ReverseBytes64(2048)): see package labels.
//
// Hand-written: the Go GVariant code there is comes with D-Bus bindings
// (godbus) whose wire format is D-Bus's, not GVariant's serialisation; the
// four types here are a page of code.
package gvariant
