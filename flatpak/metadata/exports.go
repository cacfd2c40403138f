package metadata

import "strings"

// ExportDir is one directory under /app (files/) that build-finish exports
// from, and the extensions it exports.
type ExportDir struct {
	// Dir is relative to /app, such as "share/applications".
	Dir string
	// Dest is where the files go, relative to export/: Dir, except
	// share/appdata, which goes to share/metainfo.
	Dest string
	// Extensions are the file name endings that may be exported.
	Extensions []string
	// Exact is true for D-Bus service files: the name without the extension
	// must be exactly the app ID, the app ID followed by ".ELEMENT..." (D-Bus
	// name elements), or an --own-name.
	Exact bool
	// Since is the flatpak release whose build-finish first exports from
	// Dir ("" for all this frontend knows, 1.14 on). An older flatpak
	// installs such an export but does not link it into its exports.
	Since string
}

// ExportDirs are the directories build-finish exports from
// (collect_exports and flatpak_context_get_allowed_exports), in its order:
// flatpak 1.16's, which added KDE's krunner D-Bus plugins to 1.14's.
// (Flatpak 1.18's share/metainfo/releases is inside share/metainfo, whose
// subdirectories every version walks with the same rule.)
var ExportDirs = []ExportDir{
	{"share/applications", "share/applications", []string{".desktop"}, false, ""},
	{"share/mime/packages", "share/mime/packages", []string{".xml"}, false, ""},
	{"share/icons", "share/icons", []string{".svgz", ".png", ".svg", ".ico"}, false, ""},
	{"share/dbus-1/services", "share/dbus-1/services", []string{".service"}, true, ""},
	{"share/gnome-shell/search-providers", "share/gnome-shell/search-providers", []string{".ini"}, false, ""},
	{"share/krunner/dbusplugins", "share/krunner/dbusplugins", []string{".desktop"}, false, "1.16"},
	{"share/appdata", "share/metainfo", []string{".xml"}, false, ""},
	{"share/metainfo", "share/metainfo", []string{".xml"}, false, ""},
}

// ExportGlobs returns include patterns, relative to /app, for the files
// `flatpak build-finish` copies from files/ to export/ for appID (and, for
// D-Bus services, the names given to --own-name). The patterns use the
// syntax of BuildKit's copy IncludePatterns (github.com/moby/patternmatcher:
// "**" for any number of directories, "*" within a name, regexp-style
// "[...]" classes).
//
// The rule build-finish applies, under each ExportDirs directory and all
// its subdirectories (skipping names that start with '.' or end in '~'), to
// regular files only (not symlinks): a file whose name ends in one of the
// directory's extensions is exported when its name without that extension
// is the app ID, or the app ID followed by a character other than
// [A-Za-z0-9_] (so org.example.App.png, org.example.App-symbolic.svg and
// org.example.App.Search.ini, but not org.example.AppX.png). D-Bus service
// files need an exact match: APPID.service, APPID.ELEMENTS.service with
// D-Bus name elements, or OWNED-NAME.service (a trailing ".*" in an owned
// name admits further elements).
//
// What the globs cannot express: they also match symlinks and files inside
// hidden directories or directories whose name matches, which build-finish
// skips; the D-Bus pattern "APPID.[A-Za-z_-]*.service" admits names with
// characters D-Bus names cannot hold; and share/appdata is exported to
// share/metainfo (see ExportDirs' Dest) — a copy must rename it; a name
// present in both share/appdata and share/metainfo makes build-finish fail
// ("linkat: File exists").
func ExportGlobs(appID string, ownedNames ...string) []string {
	var out []string
	id := escapePattern(appID)
	for _, d := range ExportDirs {
		for _, ext := range d.Extensions {
			base := d.Dir + "/**/"
			if d.Exact {
				out = append(out, base+id+ext, base+id+".[A-Za-z_-]*"+ext)
				for _, n := range ownedNames {
					if w, ok := strings.CutSuffix(n, ".*"); ok {
						w = escapePattern(w)
						out = append(out, base+w+ext, base+w+".[A-Za-z_-]*"+ext)
					} else {
						out = append(out, base+escapePattern(n)+ext)
					}
				}
				continue
			}
			out = append(out, base+id+ext, base+id+"[^A-Za-z0-9_/]*"+ext)
		}
	}
	return out
}

// escapePattern escapes the pattern characters of patternmatcher; IDs and
// D-Bus names hold none but '.', which patternmatcher treats literally.
func escapePattern(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
