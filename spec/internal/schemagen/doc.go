// Package schemagen writes the JSON Schema of flatpak.yaml and the key
// reference docs/keys.md from the spec package's Go types (through reflect)
// and their doc comments (through go/ast), so that a key's meaning is
// written once, on its field.
package schemagen
