// Command schemagen regenerates spec/flatpak.schema.json and docs/keys.md.
// Run it with go generate ./spec.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/spec/internal/schemagen"
)

func main() {
	dir := flag.String("dir", ".", "the spec package's source directory")
	schema := flag.String("schema", "flatpak.schema.json", "where to write the JSON Schema")
	docs := flag.String("docs", "../docs/keys.md", "where to write the key reference")
	flag.Parse()
	if err := schemagen.Write(*dir, *schema, *docs); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
