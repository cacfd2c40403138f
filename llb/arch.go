package llb

import (
	"fmt"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// FlatpakArch is Flatpak's name for a platform's architecture.
func FlatpakArch(p ocispecs.Platform) (string, error) {
	switch p.Architecture {
	case "amd64":
		return "x86_64", nil
	case "arm64":
		return "aarch64", nil
	case "386":
		return "i386", nil
	case "arm":
		return "arm", nil
	case "ppc64le", "s390x", "riscv64", "loong64":
		return p.Architecture, nil
	}
	return "", fmt.Errorf("platform %s/%s has no Flatpak architecture (these have: linux/amd64, linux/arm64, linux/386, linux/arm, linux/ppc64le, linux/s390x, linux/riscv64, linux/loong64)", p.OS, p.Architecture)
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
