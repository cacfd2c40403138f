// Command ensure builds the pinned buildkitd and buildctl into the cache
// (see buildkitd.Ensure) and prints their paths.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

func main() {
	dir, err := buildkitd.DefaultCacheDir()
	if err == nil {
		var d, c string
		if d, c, err = buildkitd.Ensure(context.Background(), dir); err == nil {
			fmt.Println(d)
			fmt.Println(c)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "ensure:", err)
	os.Exit(1)
}
