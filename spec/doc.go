// Package spec is the model of flatpak.yaml: parsing, defaults, build
// arguments, validation and source positions. It imports nothing from
// BuildKit, so it can be read, fuzzed and reused alone.
//
// A flatpak.yaml holds the keys of the flatpak: section of a Fedora
// container.yaml plus this frontend's own (runtime-image, repos, installer,
// args, ...); a whole container.yaml is accepted too, its flatpak: section
// being the spec. The Go types in spec.go are the single source of truth:
// their doc comments are the key reference, and flatpak.schema.json and
// docs/keys.md are generated from them (go generate ./spec).
//
// Parse walks the yaml.v3 node tree itself rather than decoding into the
// types, so that every problem has a position, unknown and duplicate keys
// are caught, and aliases are bounded (MaxNodes); merge keys (`<<: *anchor`),
// which Fedora's Python tools apply, are applied first (merge.go). It returns every problem
// at once as Errors, sorted by position, each printed FILE:LINE:COL: message.
// Positions use yaml.v3's convention: lines and columns from 1, columns
// counting characters. (*Source).Range gives the range of any key, list
// item or single finish-arg, so the frontend can point BuildKit errors at
// YAML lines.
package spec
