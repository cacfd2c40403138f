// Command compatlist prints the BuildKit releases of the compat matrix
// (buildkitd.CompatVersions), for make compat.
package main

import (
	"fmt"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

func main() {
	fmt.Println(strings.Join(buildkitd.CompatVersions, " "))
}
