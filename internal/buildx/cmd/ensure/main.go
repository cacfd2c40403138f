// Command ensure builds the pinned docker buildx plugin into the cache (see
// buildx.Ensure) and prints its path. With -docker-config DIR it also
// installs it as DIR/cli-plugins/docker-buildx.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/internal/buildx"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

func main() {
	configDir := flag.String("docker-config", "", "also install the plugin into this DOCKER_CONFIG folder")
	flag.Parse()
	if err := run(*configDir); err != nil {
		fmt.Fprintln(os.Stderr, "ensure:", err)
		os.Exit(1)
	}
}

func run(configDir string) error {
	dir, err := buildkitd.DefaultCacheDir()
	if err != nil {
		return err
	}
	bin, err := buildx.Ensure(context.Background(), dir)
	if err != nil {
		return err
	}
	if configDir != "" {
		if err := buildx.Install(configDir, bin); err != nil {
			return err
		}
	}
	fmt.Println(bin)
	return nil
}
