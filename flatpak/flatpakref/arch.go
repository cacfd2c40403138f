package flatpakref

// ociArches are Flatpak's names of the architectures of Linux platforms,
// by OCI architecture. Flatpak names its own architecture at build time
// (x86_64, aarch64, i386, arm) or by uname (the others, loongarch64 among
// them); its flatpak_arch_to_oci_arch maps only x86_64, aarch64 and i386
// to OCI names.
var ociArches = []struct{ oci, flatpak string }{
	{"amd64", "x86_64"},
	{"arm64", "aarch64"},
	{"386", "i386"},
	{"arm", "arm"},
	{"ppc64le", "ppc64le"},
	{"s390x", "s390x"},
	{"riscv64", "riscv64"},
	{"loong64", "loongarch64"},
}

// ArchOfOCI is Flatpak's name for an OCI architecture (false: Flatpak runs
// on no such architecture).
func ArchOfOCI(oci string) (string, bool) {
	for _, a := range ociArches {
		if a.oci == oci {
			return a.flatpak, true
		}
	}
	return "", false
}

// OCIArches are the OCI architectures ArchOfOCI knows.
func OCIArches() []string {
	var out []string
	for _, a := range ociArches {
		out = append(out, a.oci)
	}
	return out
}
