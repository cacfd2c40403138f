# Shared by the finishing scripts (sourced).

# canonical_modes PATH...: 0755 for folders and executables, 0644 for other
# files, no setuid, setgid or sticky bits, as Flatpak stores them. Only what
# differs is changed: a chmod on overlayfs copies the whole file up.
canonical_modes() {
	find "$@" \( \( -type d -o -type f -perm /0111 \) ! -perm 0755 -exec chmod a-st,u=rwx,go=rx {} + \) -o \
		\( -type f ! -perm /0111 ! -perm 0644 -exec chmod a-st,u=rw,go=r {} + \)
}
