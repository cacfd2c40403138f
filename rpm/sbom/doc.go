// Package sbom writes the SPDX 2.3 JSON document of a Flatpak image from its
// RPM list, and reads one back. The frontend attaches it to each image as an
// in-toto attestation with predicate type https://spdx.dev/Document.
//
// The document describes one package for the Flatpak (the app or runtime,
// named by its ID, its Flatpak ref in the comment); for an app, a second for
// the runtime it DEPENDS_ON. Every RPM is a package with a pkg:rpm purl
// (arch, epoch and upstream source RPM as qualifiers) and a CONTAINS
// relationship from the Flatpak that ships it: the app for the RPMs bundled
// into /app, the runtime for the rest. Nothing depends on the time of the
// build but the creation date, which is the build's SOURCE_DATE_EPOCH when
// given.
package sbom
