package spec

import _ "embed"

//go:generate go run ./internal/schemagen/cmd/schemagen -dir . -schema flatpak.schema.json -docs ../docs/keys.md

//go:embed flatpak.schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of flatpak.yaml, generated
// from the types in this package and their doc comments.
func Schema() []byte {
	return append([]byte(nil), schema...)
}
