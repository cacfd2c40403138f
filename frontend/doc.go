// Package frontend is the BuildKit gateway side of flatpak-frontend: it reads
// flatpak.yaml and the build options through dockerui, resolves the runtime
// and build contexts, solves the graphs package llb builds, reads back what
// the build root reports, and returns the image with Flatpak's labels. A
// failed build is run again in a mode that reports instead of failing (the
// install, then the finishing), so the error names the package or key at
// fault and points at its line (reports.go).
package frontend
