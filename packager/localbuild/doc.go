// Package localbuild runs the frontend in-process as a BuildKit client, the
// way buildctl runs a frontend: it turns buildx-style inputs (build args,
// named contexts, secrets, platforms, cache exports and imports) into a
// solve, shows progress and exports the result as an OCI layout or pushes
// it.
package localbuild
