# Finishes /app the way flatpak-builder does for RPM-built apps: renames,
# desktop file edits, AppStream license and composition, canonical modes;
# then lists the files for the frontend's size and export bookkeeping.
#
# Environment (values are validated plain names; they are only ever used
# as data, through ENVIRON in awk or quoted): FFE_ID, FFE_RENAME_DESKTOP,
# FFE_RENAME_ICON, FFE_COPY_ICON, FFE_RENAME_APPDATA, FFE_NAME_PREFIX,
# FFE_NAME_SUFFIX, FFE_APPDATA_LICENSE (XML-escaped), FFE_COMPOSE.
set -eu
out=/app/.flatpak-frontend

. "$(dirname "$0")/common.sh"
mkdir -p "$out"
apps=/app/share/applications
id=$FFE_ID

if [ -n "${FFE_RENAME_APPDATA:-}" ]; then
	for dir in /app/share/metainfo /app/share/appdata; do
		if [ -e "$dir/$FFE_RENAME_APPDATA" ]; then
			ext=metainfo.xml
			[ "$dir" = /app/share/appdata ] && ext=appdata.xml
			mv "$dir/$FFE_RENAME_APPDATA" "$dir/$id.$ext"
			break
		fi
	done
	[ -e "/app/share/metainfo/$id.metainfo.xml" ] || [ -e "/app/share/appdata/$id.appdata.xml" ] ||
		{ echo "flatpak-frontend: rename-appdata-file: no $FFE_RENAME_APPDATA in /app/share/metainfo or /app/share/appdata" >&2; exit 1; }
fi

appdata=
for f in "/app/share/metainfo/$id.metainfo.xml" "/app/share/appdata/$id.appdata.xml"; do
	[ -e "$f" ] && appdata=$f && break
done

# Files are edited in place only when they are files of /app: a symlink
# planted by a package or cleanup-commands could point anywhere.
must_be_file() {
	if [ -L "$1" ] || [ ! -f "$1" ]; then
		echo "flatpak-frontend: $1 is not a regular file; refusing to edit it" >&2
		exit 1
	fi
}

# Replaces the text of one XML element (first occurrence) in a file.
xml_set() { # FILE ELEMENT OLD NEW: OLD empty matches any text
	must_be_file "$1"
	rm -f "$1.ffe"
	FFE_EL=$2 FFE_OLD=$3 FFE_NEW=$4 awk '
	BEGIN { el = ENVIRON["FFE_EL"]; old = ENVIRON["FFE_OLD"]; new = ENVIRON["FFE_NEW"] }
	{
		o = "<" el ">"; c = "</" el ">"
		i = index($0, o); j = index($0, c)
		if (i > 0 && j > i) {
			cur = substr($0, i + length(o), j - i - length(o))
			if (old == "" || cur == old) $0 = substr($0, 1, i + length(o) - 1) new substr($0, j)
		}
		print
	}' "$1" >"$1.ffe" && cat "$1.ffe" >"$1" && rm -f "$1.ffe"
}

if [ -n "${FFE_RENAME_DESKTOP:-}" ]; then
	[ -e "$apps/$FFE_RENAME_DESKTOP" ] ||
		{ echo "flatpak-frontend: rename-desktop-file: no $FFE_RENAME_DESKTOP in $apps" >&2; exit 1; }
	mv "$apps/$FFE_RENAME_DESKTOP" "$apps/$id.desktop"
	if [ -n "$appdata" ]; then
		old=${FFE_RENAME_DESKTOP%.desktop}
		xml_set "$appdata" "launchable type=\"desktop-id\"" "$FFE_RENAME_DESKTOP" "$id.desktop"
		xml_set "$appdata" id "$FFE_RENAME_DESKTOP" "$id.desktop"
		xml_set "$appdata" id "$old" "$id"
	fi
fi

# Edits keys of the [Desktop Entry] group of a desktop file.
desktop_edit() { # FILE
	must_be_file "$1"
	rm -f "$1.ffe"
	awk '
	BEGIN { pre = ENVIRON["FFE_NAME_PREFIX"]; suf = ENVIRON["FFE_NAME_SUFFIX"]; from = ENVIRON["FFE_RENAME_ICON"]; to = ENVIRON["FFE_ID"] }
	/^\[/ { entry = ($0 == "[Desktop Entry]") }
	entry && /^Name(\[[^]]*\])?=/ { k = index($0, "="); $0 = substr($0, 1, k) pre substr($0, k + 1) suf }
	entry && from != "" && $0 == "Icon=" from { $0 = "Icon=" to }
	{ print }' "$1" >"$1.ffe" && cat "$1.ffe" >"$1" && rm -f "$1.ffe"
}

if [ -n "${FFE_RENAME_ICON:-}" ]; then
	found=
	if [ -d /app/share/icons ]; then
		for f in $(find /app/share/icons -name "$FFE_RENAME_ICON.*" -o -name "$FFE_RENAME_ICON-symbolic.*"); do
			base=${f##*/}
			new=$id${base#"$FFE_RENAME_ICON"}
			if [ "${FFE_COPY_ICON:-}" = 1 ]; then cp -p "$f" "${f%/*}/$new"; else mv "$f" "${f%/*}/$new"; fi
			found=1
		done
	fi
	[ -n "$found" ] || { echo "flatpak-frontend: rename-icon: no icon named $FFE_RENAME_ICON in /app/share/icons" >&2; exit 1; }
fi

if [ -e "$apps/$id.desktop" ] && { [ -n "${FFE_NAME_PREFIX:-}${FFE_NAME_SUFFIX:-}" ] || [ -n "${FFE_RENAME_ICON:-}" ]; }; then
	desktop_edit "$apps/$id.desktop"
fi

if [ -n "${FFE_APPDATA_LICENSE:-}" ] && [ -n "$appdata" ]; then
	xml_set "$appdata" project_license "" "$FFE_APPDATA_LICENSE"
fi

if [ "${FFE_COMPOSE:-}" = 1 ] && [ -n "$appdata" ]; then
	if command -v appstreamcli >/dev/null 2>&1; then
		appstreamcli compose --no-partial-urls --prefix=/ --origin="$id" \
			--result-root=/app --data-dir=/app/share/app-info/xmls \
			--icons-dir=/app/share/app-info/icons/flatpak /app
	elif command -v appstream-compose >/dev/null 2>&1; then
		appstream-compose --prefix=/app --origin=flatpak --basename="$id" "$id"
	else
		echo "flatpak-frontend: the runtime has no appstreamcli or appstream-compose; AppStream data not composed"
	fi
fi

# Python byte code records its source's mtime, and a Flatpak install dates
# every file 1970-01-01 (ostree keeps no mtimes): valid .pyc files get 0
# there, as flatpak-builder does, so Python does not compile every module
# again on every start. Symlinks are left alone.
if find /app -path "$out" -prune -o -name '*.pyc' -print -quit | grep -q . && command -v python3 >/dev/null 2>&1; then
	python3 - <<'PY'
import os, struct
for root, dirs, files in os.walk("/app"):
    if os.path.basename(root) != "__pycache__":
        continue
    for name in files:
        pyc = os.path.join(root, name)
        src = os.path.join(os.path.dirname(root), name.split(".", 1)[0] + ".py")
        if not name.endswith(".pyc") or os.path.islink(pyc) or not os.path.isfile(src):
            continue
        st = os.stat(src)
        with open(pyc, "r+b") as f:
            head = f.read(16)
            if len(head) < 16 or int.from_bytes(head[:2], "little") < 3390:
                continue
            flags, mtime, size = struct.unpack("<III", head[4:16])
            if flags == 0 and mtime == int(st.st_mtime) & 0xFFFFFFFF and size == st.st_size & 0xFFFFFFFF:
                f.seek(8)
                f.write(bytes(4))
PY
fi

# Flatpak stores files 0644 or 0755, owned by root, and nothing special.
find /app \( -type b -o -type c -o -type p -o -type s \) -exec rm -f {} +
canonical_modes /app

# Every entry with its type (f, d, l...), for the frontend to put each
# source package's files in a layer of their own; and the files' sizes.
find /app -mindepth 1 -path "$out" -prune -o -fprintf "$out/tree" '%y %P\0' -type f -fprintf "$out/files" '%s %P\0'
