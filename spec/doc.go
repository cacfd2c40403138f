// Package spec is the model of flatpak.yaml: parsing, defaults, build
// arguments, validation and source positions. It imports nothing from BuildKit.
package spec
