package llb

import (
	"fmt"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// FlatpakArch is Flatpak's name for a platform's architecture.
func FlatpakArch(p ocispecs.Platform) (string, error) {
	if arch, ok := flatpakref.ArchOfOCI(p.Architecture); ok {
		return arch, nil
	}
	var known []string
	for _, a := range flatpakref.OCIArches() {
		known = append(known, "linux/"+a)
	}
	return "", fmt.Errorf("platform %s/%s has no Flatpak architecture (these have: %s)", p.OS, p.Architecture, strings.Join(known, ", "))
}

// RPMArch is RPM's name for a Flatpak architecture, as --forcearch takes it.
func RPMArch(flatpakArch string) string {
	switch flatpakArch {
	case "i386":
		return "i686"
	case "arm":
		return "armv7hl"
	}
	return flatpakArch
}
