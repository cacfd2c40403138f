// Package flatpakref is a Flatpak ref, KIND/ID/ARCH/BRANCH, and the rules
// for its parts, as Flatpak's common/flatpak-ref-utils.c states them
// (flatpak_is_valid_name, _arch, _branch, flatpak_decomposed_new_from_ref).
// Every other package splits, joins and checks refs through it.
package flatpakref
