package llb

import (
	"strings"
	"testing"

	"github.com/containerd/platforms"
)

// TestFlatpakArchErrorListsWhatMaps checks Flatpak's names of the
// platforms the error offers.
func TestFlatpakArchErrorListsWhatMaps(t *testing.T) {
	_, err := FlatpakArch(platforms.MustParse("linux/mips64"))
	if err == nil {
		t.Fatal("linux/mips64 has a Flatpak architecture")
	}
	_, list, ok := strings.Cut(err.Error(), "(these have: ")
	if !ok {
		t.Fatalf("the error lists no platform: %v", err)
	}
	seen := map[string]bool{}
	for _, s := range strings.Split(strings.TrimSuffix(list, ")"), ", ") {
		arch, err := FlatpakArch(platforms.MustParse(s))
		if err != nil {
			t.Errorf("%s is offered but has no Flatpak architecture: %v", s, err)
		}
		seen[arch] = true
	}
	for _, arch := range []string{"x86_64", "aarch64", "i386", "arm", "ppc64le", "s390x", "riscv64", "loongarch64"} {
		if !seen[arch] {
			t.Errorf("no offered platform gives %s", arch)
		}
	}
}
