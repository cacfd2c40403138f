// Package ocilayout makes an exported OCI layout importable by
// flatpak build-import-bundle --oci, which takes the one descriptor in
// index.json that is an image manifest named (org.opencontainers.image.ref.name)
// with a Flatpak ref, and ignores image indexes and unnamed entries.
//
// A BuildKit export with attestations (SBOM, provenance) is an image index:
// index.json then points at that index, and the image manifest, named by
// the frontend, sits inside it next to its attestation manifest. Flatpak
// finds nothing there. ExposeFlatpakImages adds the named image manifests to
// index.json itself and keeps the index entry, so SBOM tools still find the
// attestations through it.
//
// Local opens a layout to read: its folder, or an OCI archive (a tar of
// one, as buildx's --output type=oci,dest=FILE and skopeo's oci-archive:
// write it) read in place by Archive; no library reads an archive without
// unpacking it, hence the small tar index here.
package ocilayout
