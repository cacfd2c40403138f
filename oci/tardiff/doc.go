// Package tardiff writes layer deltas in the tar-diff format
// (application/vnd.tar-diff, github.com/containers/tar-diff's
// file-format.md), the deltas Flatpak applies when it updates an app or
// runtime from an OCI remote (flatpak-oci-specs' image-deltas.md): the
// target layer's uncompressed tar is rebuilt, byte for byte, from the delta
// and the files of the version the user has installed.
//
// The delta works at the level of files: a regular file whose content the
// old image already has (at any path) is copied from there; a changed file
// is written, with NewDiffingSource, as its difference from the old file at
// its path (bindiff.go: runs aligned with the old bytes, copied where they
// are equal and added to where they differ, as bsdiff's are; each checked
// to rebuild the file before it is written); everything else (headers, new
// files) is carried in the delta, zstd-compressed. containers/tar-diff's
// own generator (bsdiff with a suffix array) pulls in an old
// containers/image and is not on the module proxy; this writer is short,
// and Write returns the DiffID of the layer it read, for the caller to
// compare with the image's.
package tardiff

// ContentIDPath is where an image this frontend builds carries, in its
// last layer, the digest of all it holds (package buildstep/contentid):
// Flatpak picks a delta by the DiffID of the installed version's last layer
// alone, so a delta may be made only from an image whose last layer
// identifies it.
const ContentIDPath = "files/.flatpak-frontend-content-id"
