# Finishes a runtime's root at /sysroot as a Flatpak runtime: /usr becomes
# files/ and /etc files/etc, so /usr/etc must be empty; the build's repo
# definitions go; the rpm database must be inside /usr, where apps built on
# the runtime find it; modes become canonical. Then lists the files for the
# frontend's size bookkeeping.
set -eu
root=/sysroot

. "$(dirname "$0")/common.sh"
out=$root/.flatpak-frontend
mkdir -p "$out"

if [ -d "$root/usr/etc" ] && [ -n "$(ls -A "$root/usr/etc")" ]; then
	echo "flatpak-frontend: the runtime has files in /usr/etc, where Flatpak puts /etc:" >&2
	find "$root/usr/etc" | head -n 5 | sed "s|^$root|  |" >&2
	echo "flatpak-frontend: install them into /etc instead (or remove them in cleanup-commands)" >&2
	exit 1
fi
rm -rf "$root/usr/etc"

# Repo definitions belong to the build, not to the runtime.
rm -f "$root"/etc/yum.repos.d/*.repo "$root"/etc/distro.repos.d/*.repo

if [ -z "$(ls -A "$root/usr/lib/sysimage/rpm" 2>/dev/null)" ]; then
	echo "flatpak-frontend: the runtime's rpm database is not in /usr/lib/sysimage/rpm, so it would not be part of the runtime; build with an image whose rpm keeps it there (%_dbpath)" >&2
	exit 1
fi

# Flatpak stores files 0644 or 0755 and nothing special.
find "$root/usr" "$root/etc" \( -type b -o -type c -o -type p -o -type s \) -exec rm -f {} +
canonical_modes "$root/usr" "$root/etc"

# Every entry of usr/ and etc/ with its type, for the frontend to put each
# source package's files in a layer of their own; and the files' sizes.
(cd "$root" && find usr etc -fprintf "$out/tree" '%y %p\0' -type f -fprintf "$out/files" '%s %p\0')
