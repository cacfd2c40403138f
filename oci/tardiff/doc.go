// Package tardiff writes layer deltas in the tar-diff format
// (application/vnd.tar-diff, github.com/containers/tar-diff's
// file-format.md), the deltas Flatpak applies when it updates an app or
// runtime from an OCI remote (flatpak-oci-specs' image-deltas.md): the
// target layer's uncompressed tar is rebuilt, byte for byte, from the delta
// and the files of the version the user has installed.
//
// The delta works at the level of files: a regular file whose content the
// old image already has (at any path) is copied from there, everything else
// (headers, changed and new files) is carried in the delta, zstd-compressed.
// containers/tar-diff's own generator adds bsdiff of changed files, but
// pulls in an old containers/image; this writer is short, and Write checks
// that what a delta rebuilds has the layer's DiffID before it is used.
package tardiff

// ContentIDPath is where an image this frontend builds carries, in its
// last layer, the digest of all it holds (package buildstep/contentid):
// Flatpak picks a delta by the DiffID of the installed version's last layer
// alone, so a delta may be made only from an image whose last layer
// identifies it.
const ContentIDPath = "files/.flatpak-frontend-content-id"
