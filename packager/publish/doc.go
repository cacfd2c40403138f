// Package publish makes a registry a Flatpak remote: it reads the Flatpak
// images a registry holds (repositories and tags, their manifests, image
// indexes and configs) and writes the remote's index as static files (see
// package remoteindex), which any web server, or Serve, answers Flatpak's
// queries with. What flatpak-indexer does with Redis and a service, as
// files.
//
// Publishing never names a manifest the registry does not have: an image
// that cannot be read (a push half done, a manifest deleted) is left out
// with a warning naming it, and every digest is checked again just before
// the files are written. The files are replaced atomically and the same
// registry content gives the same bytes, so publishing again is harmless.
//
// With Options.Deltas it also pushes, for each image that replaces the one
// the last publish named, the layer deltas Flatpak applies on update
// (deltas.go; package tardiff writes them), listed by the repository's
// _deltaindex, before the index names the new image.
package publish
