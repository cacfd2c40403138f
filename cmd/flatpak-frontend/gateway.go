package main

import (
	"fmt"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/frontend"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
)

// runGateway serves one build for buildkitd, which starts the frontend
// image with the gateway's environment.
func runGateway() int {
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		fmt.Fprintf(os.Stderr, "flatpak-frontend: %v\n", err)
		return 1
	}
	return 0
}
