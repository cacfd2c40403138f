// Package verify checks a Flatpak OCI image against the rules Flatpak's
// own tools follow (flatpak build-bundle --oci writes them, flatpak
// build-import-bundle --oci and flatpak install rely on them), so that an
// image that would be refused later is refused now, with the reason.
//
// Labels: org.flatpak.ref, org.flatpak.metadata, org.flatpak.installed-size,
// org.flatpak.download-size and the org.flatpak.commit-metadata.* labels of
// xa.metadata, xa.ref, xa.installed-size, xa.download-size,
// ostree.ref-binding and ostree.collection-binding are present; the
// commit-metadata values decode (base64 of a GVariant variant) to the right
// types; the metadata file in the layers, org.flatpak.metadata and xa.metadata
// are byte-identical; xa.ref and ostree.ref-binding name org.flatpak.ref;
// the sizes agree with each other and installed-size with the files; the
// metadata names the ref's ID in [Application] or [Runtime].
//
// Layers: entries only under files/, export/ and metadata (for a runtime,
// also the hybrid container entries usr, etc, bin, sbin, lib, lib64, root,
// run, tmp, app, var, var/run, var/tmp, var/db, var/db/zoneinfo), owned by
// 0:0, with Flatpak's canonical modes (files 0644 or 0755, directories
// 0755), no setuid, setgid or sticky bits, no devices, FIFOs or sockets,
// no whiteouts, no absolute or ".." names, hard links only to earlier
// entries; every name under export/ starts with the ID as
// flatpak_has_name_prefix requires. Blob digests and the config's diff_ids
// are checked as the layers are read.
//
// An OCI layout must also list the image manifest in index.json with a name
// (org.opencontainers.image.ref.name), which build-import-bundle needs; the
// name itself is free (the ref comes from the org.flatpak.ref label).
package verify
