// Package labels computes the image-config labels that `flatpak
// build-bundle --oci` (flatpak 1.14) writes, so that an image built without
// flatpak imports and installs like one flatpak built: the ref, the metadata,
// the sizes, the commit's subject, body and timestamp, and the ostree commit
// metadata as org.flatpak.commit-metadata.KEY labels (base64 of a boxed
// GVariant, see package gvariant).
//
// Not produced: org.flatpak.commit and org.flatpak.parent-commit (ostree
// checksums of a commit this frontend never makes; `flatpak
// build-import-bundle` recomputes the commit anyway), and the AppStream
// labels (org.freedesktop.appstream.appdata, org.freedesktop.appstream.icon-*)
// that build-bundle adds when the app has AppStream data.
package labels
