// Package flatpakcli drives the flatpak and ostree commands to get an OCI
// image built by the frontend into a user's Flatpak installation: import
// into a local ostree repo, serve that repo as a --user remote, install or
// update, run. It is the path flatpak documents for OCI bundles.
package flatpakcli
