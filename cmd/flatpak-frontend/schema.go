package main

import (
	"fmt"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// runSchema prints the JSON Schema of flatpak.yaml.
func runSchema(args []string) int {
	if len(args) > 0 {
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(os.Stderr, "usage: flatpak-frontend schema\n\nPrints the JSON Schema of flatpak.yaml.")
			return 0
		}
		fmt.Fprintln(os.Stderr, "usage: flatpak-frontend schema (it takes no arguments)")
		return 2
	}
	if _, err := os.Stdout.Write(spec.Schema()); err != nil {
		fmt.Fprintf(os.Stderr, "flatpak-frontend schema: %v\n", err)
		return 2
	}
	return 0
}
