// Package manifest is the list of RPMs an image holds, as the image label
// org.flatpak-frontend.rpms carries it: compact, line-based and versioned.
//
// The label value (format version 1) is a first line "v1", then one line per
// package, sorted by name, arch, origin:
//
//	ORIGIN NAME [EPOCH:]VERSION-RELEASE.ARCH SOURCE
//
// fields separated by one space (RPM names, versions and arches hold none):
//
//   - ORIGIN is "a" for a package installed into the image's /app (bundled
//     with the app) or "r" for one that the runtime provides: for an app,
//     the runtime it was built on; for a runtime image, the runtime itself.
//   - EPOCH is left out when it is 0.
//   - SOURCE is the source RPM: "=" for NAME-VERSION-RELEASE.src.rpm,
//     "~SRCNAME" for SRCNAME-VERSION-RELEASE.src.rpm (a subpackage),
//     "-" for none, or else the file name as rpm reports it.
//
// A reader must refuse a first line it does not know ("v2" and later): a
// newer format may change what lines mean. Lines are separated by "\n"; a
// final newline is optional.
package manifest
