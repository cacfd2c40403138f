// Command ensure builds buildkitd and buildctl into the cache (see
// buildkitd.Ensure) and prints their paths: the pinned release, or the ones
// given as arguments (make compat builds the compat matrix's this way).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

func main() {
	dir, err := buildkitd.DefaultCacheDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ensure:", err)
		os.Exit(1)
	}
	versions := os.Args[1:]
	if len(versions) == 0 {
		versions = []string{buildkitd.Version}
	}
	for _, v := range versions {
		d, c, err := buildkitd.EnsureVersion(context.Background(), dir, v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ensure %s: %v\n", v, err)
			os.Exit(1)
		}
		fmt.Println(d)
		fmt.Println(c)
	}
}
