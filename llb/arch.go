package llb

import (
	"fmt"
	"strings"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// flatpakArches are the architectures Flatpak knows, by the OCI
// architecture of a Linux platform.
var flatpakArches = []struct{ oci, flatpak string }{
	{"amd64", "x86_64"},
	{"arm64", "aarch64"},
	{"386", "i386"},
	{"arm", "arm"},
	{"ppc64le", "ppc64le"},
	{"s390x", "s390x"},
	{"riscv64", "riscv64"},
	{"loong64", "loong64"},
}

// FlatpakArch is Flatpak's name for a platform's architecture.
func FlatpakArch(p ocispecs.Platform) (string, error) {
	var known []string
	for _, a := range flatpakArches {
		if a.oci == p.Architecture {
			return a.flatpak, nil
		}
		known = append(known, "linux/"+a.oci)
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
