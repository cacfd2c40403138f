// Package remoteindex is the index of a Flatpak OCI remote: the JSON a
// registry-backed remote (flatpak remote-add oci+https://HOST) answers to
//
//	GET /index/static?label:org.flatpak.ref:exists=1&architecture=ARCH&os=linux&tag=TAG
//
// listing the Flatpak images of one tag and architecture: for each
// repository its images (single-architecture manifests) and lists (image
// indexes, with their images of that architecture), each with its digest,
// media type, platform, tags and labels. Flatpak makes a summary of it
// (common/flatpak-oci-registry.c: flatpak_oci_index_make_summary) and
// pulls the images from Registry, a URL resolved against the index's.
//
// Flatpak 1.17.1 and later require Registry, Results and, for each
// repository, Name and Images (an empty list when it has only lists); for
// each image Digest, MediaType, OS and Architecture; for each list Digest,
// MediaType and Images (common/flatpak-json-oci.c). 1.14 reads the same
// fields without requiring them. Validate checks what the newer requires.
//
// An index is served as static files: the one for TAG and ARCH at
// StaticPath(TAG, ARCH), icons (which the appstream labels name by URL, as
// flatpak-indexer does, instead of carrying the PNG) below IconsDir, both
// relative to the remote's root.
package remoteindex
