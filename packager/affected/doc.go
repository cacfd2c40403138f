// Package affected answers "which images contain package X (below version
// V)?" from what images say about themselves: the org.flatpak-frontend.rpms
// label (see package manifest) and, for images without it, an SPDX
// attestation. It never unpacks a layer, so it is cheap to run over every
// image a CI job knows of.
//
// Images come from local OCI layouts or registries; an image index is
// walked, so every platform of a multi-platform image is looked at.
package affected
