// Package frontend is the BuildKit gateway side of flatpak-frontend: it reads
// flatpak.yaml and the build options through dockerui, resolves the runtime
// and build contexts, solves the graphs package llb builds, reads back what
// the build root reports, and returns the image with Flatpak's labels.
package frontend
