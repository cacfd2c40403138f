// Package suggest is the one "did you mean" of the project: the flatpak.yaml
// keys, build arguments and arches of spec and the finish-args options and
// names of flatpak/finishargs all suggest through it, so a typo is met the
// same way everywhere.
package suggest
