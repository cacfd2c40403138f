package spec

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/finishargs"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/internal/suggest"
)

// Arches are the architecture names platforms.only and platforms.not accept
// (RPM names; i386 is Flatpak's name for i686).
var Arches = []string{"x86_64", "aarch64", "ppc64le", "s390x", "i386", "i686", "armv7hl", "riscv64"}

// Installers are the values installer accepts.
var Installers = []Installer{InstallerAuto, InstallerMicrodnf, InstallerDnf5, InstallerDnf}

func (p *parser) validate(s *Spec) {
	// Identity.
	if !p.isPresent("id") {
		p.errorAt(p.root, "missing key \"id\": the application or runtime ID, such as org.gnome.eog")
	} else if err := flatpakref.CheckID(s.ID); err != nil {
		p.errorPath([]any{"id"}, "id: %q is not a valid Flatpak ID: %v", s.ID, err)
	}
	if err := flatpakref.CheckBranch(s.Branch); err != nil {
		p.errorPath([]any{"branch"}, "branch: %q is not a valid Flatpak branch: %v", s.Branch, err)
	}
	for _, k := range []struct {
		key, val string
	}{{"runtime", s.Runtime}, {"sdk", s.SDK}, {"end-of-life-rebase", s.EndOfLifeRebase}} {
		if p.isPresent(k.key) {
			if err := flatpakref.CheckID(k.val); err != nil {
				p.errorPath([]any{k.key}, "%s: %q is not a valid Flatpak ID: %v", k.key, k.val, err)
			}
		}
	}
	if p.isPresent("runtime-name") && flatpakref.CheckID(s.RuntimeName) != nil && !isContainerName(s.RuntimeName) {
		p.errorPath([]any{"runtime-name"}, "runtime-name: %q is neither a runtime ID (org.fedoraproject.Platform) nor a runtime container name (flatpak-runtime)", s.RuntimeName)
	}
	if p.isPresent("runtime-version") {
		if err := flatpakref.CheckBranch(s.RuntimeVersion); err != nil {
			p.errorPath([]any{"runtime-version"}, "runtime-version: %q is not a valid Flatpak branch: %v", s.RuntimeVersion, err)
		}
	}

	// Contents.
	if len(s.Packages) == 0 && !p.isPresent("packages") {
		msg := fmt.Sprintf("missing key \"packages\": the RPM packages to install into the %s", s.Kind())
		if p.composeModules {
			msg += " (modules from compose: modules are not supported; list the packages instead)"
		}
		p.errorAt(p.root, "%s", msg)
	} else if len(s.Packages) == 0 {
		p.errorPath([]any{"packages"}, "packages: must list at least one RPM package")
	}
	for i, pkg := range s.Packages {
		if pkg.Name != "" && !isPackageGlob(pkg.Name) {
			p.errorPath([]any{"packages", i, "name"}, "%s: %q is not an RPM package name or a dnf glob of one (letters, digits, _+.- and the glob characters *?[]; no spaces, versions or shell syntax)", pathString([]any{"packages", i}), pkg.Name)
		}
		if pkg.Platforms != nil {
			p.checkArches(pkg.Platforms.Only, []any{"packages", i, "platforms", "only"})
			p.checkArches(pkg.Platforms.Not, []any{"packages", i, "platforms", "not"})
		}
	}
	for i, name := range s.AllowOutsideApp {
		if !isPackageName(name) {
			p.errorPath([]any{"allow-outside-app", i}, "%s: %q is not an RPM package name", pathString([]any{"allow-outside-app", i}), name)
		}
	}

	p.checkKind(s)
	if s.Platforms != nil {
		p.checkArches(s.Platforms.Only, []any{"platforms", "only"})
		p.checkArches(s.Platforms.Not, []any{"platforms", "not"})
	}
	p.checkExtraData(s)

	// Sandbox and exports.
	p.checkFinishArgs(s)
	p.checkLine("command", s.Command)
	for _, k := range []struct {
		key, val string
	}{{"rename-desktop-file", s.RenameDesktopFile}, {"rename-icon", s.RenameIcon}, {"rename-appdata-file", s.RenameAppdataFile}, {"rename-mime-file", s.RenameMimeFile}} {
		if p.isPresent(k.key) {
			if msg := checkFileName(k.val); msg != "" {
				p.errorPath([]any{k.key}, "%s: %q %s", k.key, k.val, msg)
			} else if k.key == "rename-icon" && (strings.ContainsAny(k.val, "*?[]\\") || strings.IndexFunc(k.val, isSpaceOrControl) >= 0) {
				// The icons are found by this name with find -name and a
				// word-split list: a pattern would rename other icons.
				p.errorPath([]any{k.key}, "%s: %q must be an icon name, without spaces or the pattern characters *?[]\\", k.key, k.val)
			}
		}
	}
	for i, icon := range s.RenameMimeIcons {
		ip := []any{"rename-mime-icons", i}
		if msg := checkFileName(icon); msg != "" {
			p.errorPath(ip, "%s: %q %s", pathString(ip), icon, msg)
		} else if strings.ContainsAny(icon, "*?[]\\") || strings.IndexFunc(icon, isSpaceOrControl) >= 0 {
			p.errorPath(ip, "%s: %q must be an icon name, without spaces or the pattern characters *?[]\\", pathString(ip), icon)
		}
	}
	for _, k := range []struct {
		key, val string
	}{
		{"name", s.Name}, {"component", s.Component}, {"end-of-life", s.EndOfLife},
		{"appdata-license", s.AppdataLicense}, {"desktop-file-name-prefix", s.DesktopFileNamePrefix},
		{"desktop-file-name-suffix", s.DesktopFileNameSuffix},
	} {
		p.checkLine(k.key, k.val)
	}
	for i, t := range s.Tags {
		p.checkLine(i, t)
		if strings.Contains(t, ";") {
			p.errorPath([]any{"tags", i}, "%s: %q must not contain ';' (the metadata separates tags with it)", pathString([]any{"tags", i}), t)
		}
	}
	for _, k := range sortedKeys(s.Labels) {
		if k == "" || strings.IndexFunc(k, isSpaceOrControl) >= 0 {
			p.errorPath([]any{"labels", k, Key}, "labels: key %q must not be empty or contain spaces or control characters", k)
		}
		if labels.Reserved(k) {
			p.errorPath([]any{"labels", k, Key}, "labels: %q: %v", k, labels.ErrReserved)
		}
		p.checkLineAt([]any{"labels", k}, s.Labels[k])
	}
	for _, k := range []struct {
		key, val string
	}{{"base_image", s.BaseImage}, {"runtime-image", s.RuntimeImage}} {
		if p.isPresent(k.key) && (k.val == "" || strings.IndexFunc(k.val, isSpaceOrControl) >= 0) {
			p.errorPath([]any{k.key}, "%s: %q is not an image reference (like registry.fedoraproject.org/flatpak-runtime:f40)", k.key, k.val)
		}
	}
	p.checkExtensions(s)

	// Installation.
	p.checkRepos(s)
	if !p.isPresent("installer") || !validInstaller(s.Installer) {
		if p.isPresent("installer") || s.Installer != InstallerAuto {
			p.errorPath([]any{"installer"}, "installer: %q is not a known installer (known: %s)", s.Installer, joinInstallers())
		}
	}
	if p.isPresent("releasever") && !releaseVerPattern.MatchString(s.ReleaseVer) {
		p.errorPath([]any{"releasever"}, "releasever: %q is not a release version (like 41, rawhide or 10.1: letters, digits and ._+~-, starting with a letter or digit)", s.ReleaseVer)
	}
}

// releaseVerPattern is a release version: what system-release packages
// give as their version, without what would change the installer's
// command line or repo URLs ("/" reads it from the build image).
var releaseVerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)

func validInstaller(i Installer) bool {
	for _, x := range Installers {
		if i == x {
			return true
		}
	}
	return false
}

func joinInstallers() string {
	var s []string
	for _, x := range Installers {
		s = append(s, string(x))
	}
	return strings.Join(s, ", ")
}

func isSpaceOrControl(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r < 0x20 || r == 0x7f || r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029
}

// checkLine reports a newline or NUL in a value that ends up in a keyfile
// or a label. key is a Spec key, or an index into tags.
func (p *parser) checkLine(key any, val string) {
	path := []any{key}
	if i, ok := key.(int); ok {
		path = []any{"tags", i}
	}
	p.checkLineAt(path, val)
}

func (p *parser) checkLineAt(path []any, val string) {
	if strings.ContainsAny(val, "\n\r\x00") {
		p.errorPath(path, "%s: must be one line (no newline or NUL characters)", pathString(path))
	}
}

// checkFileName returns why name is not a plain file name, or "".
func checkFileName(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case name == "." || name == "..":
		return "must be a file name, not . or .."
	case strings.Contains(name, "/"):
		return "must be a plain file name, without '/'"
	case strings.ContainsAny(name, "\n\r\x00"):
		return "must not contain newlines or NUL characters"
	}
	return ""
}

func (p *parser) checkArches(arches []string, path []any) {
	for i, a := range arches {
		known := false
		for _, k := range Arches {
			if a == k {
				known = true
			}
		}
		if !known {
			msg := fmt.Sprintf("%s: unknown architecture %q (known: %s)", pathString(path), a, strings.Join(Arches, ", "))
			if s := suggest.Closest(a, Arches); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			p.errorPath(join(path, i), "%s", msg)
		}
	}
}

func (p *parser) checkFinishArgs(s *Spec) {
	if len(s.FinishArgs) == 0 {
		return
	}
	_, err := finishargs.Parse(s.FinishArgs)
	if err == nil {
		return
	}
	var list finishargs.Errors
	var one *finishargs.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = finishargs.Errors{one}
	default:
		p.errorPath([]any{"finish-args"}, "finish-args: %v", err)
		return
	}
	for _, e := range list {
		if e == nil {
			continue
		}
		msg := e.Msg
		if !strings.HasPrefix(msg, "finish-args") {
			msg = "finish-args: " + msg
		}
		if e.Index >= 0 && e.Index < len(s.FinishArgs) {
			p.errorPath([]any{"finish-args", e.Index}, "%s", msg)
		} else {
			p.errorPath([]any{"finish-args"}, "%s", msg)
		}
	}
}

func (p *parser) checkExtensions(s *Spec) {
	names := make([]string, 0, len(s.AddExtensions))
	for k := range s.AddExtensions {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		ext := s.AddExtensions[name]
		ep := []any{"add-extensions", name}
		if err := flatpakref.CheckID(name); err != nil {
			p.errorPath(join(ep, Key), "add-extensions: %q is not a valid extension ID: %v", name, err)
		}
		if !p.isPresent(join(ep, "directory")...) {
			p.errorPath(ep, "%s: missing key \"directory\": where the extension is mounted, relative to /app or /usr", pathString(ep))
		} else if msg := checkRelPath(ext.Directory); msg != "" {
			p.errorPath(join(ep, "directory"), "%s: %q %s", pathString(join(ep, "directory")), ext.Directory, msg)
		}
		for _, k := range []struct {
			key, val string
		}{
			{"version", ext.Version}, {"versions", ext.Versions}, {"add-ld-path", ext.AddLdPath},
			{"merge-dirs", ext.MergeDirs}, {"download-if", ext.DownloadIf}, {"enable-if", ext.EnableIf},
			{"autoprune-unless", ext.AutopruneUnless}, {"subdirectory-suffix", ext.SubdirectorySuffix},
		} {
			p.checkLineAt(join(ep, k.key), k.val)
		}
		if p.isPresent(join(ep, "version")...) {
			if err := flatpakref.CheckBranch(ext.Version); err != nil {
				p.errorPath(join(ep, "version"), "%s: %q is not a valid Flatpak branch: %v", pathString(join(ep, "version")), ext.Version, err)
			}
		}
		if p.isPresent(join(ep, "versions")...) {
			for _, v := range strings.Split(strings.TrimSuffix(ext.Versions, ";"), ";") {
				if err := flatpakref.CheckBranch(v); err != nil {
					p.errorPath(join(ep, "versions"), "%s: %q is not a valid Flatpak branch: %v", pathString(join(ep, "versions")), v, err)
					break
				}
			}
		}
	}
}

// checkRelPath returns why dir is not a clean relative path that stays
// below its base, or "".
func checkRelPath(dir string) string {
	switch {
	case dir == "":
		return "must not be empty"
	case strings.HasPrefix(dir, "/"):
		return "must be a relative path"
	case strings.ContainsAny(dir, "\n\r\x00"):
		return "must not contain newlines or NUL characters"
	}
	for _, e := range strings.Split(dir, "/") {
		if e == ".." {
			return "must not contain '..'"
		}
	}
	return ""
}

func (p *parser) checkRepos(s *Spec) {
	names := map[string]int{}
	for i, r := range s.Repos {
		rp := []any{"repos", i}
		at := func(key string) []any { return join(rp, key) }
		if !p.isPresent(at("name")...) {
			p.errorPath(rp, "%s: missing key \"name\": the repository id", pathString(rp))
		} else if !matchCharset(r.Name, "_.:-") {
			p.errorPath(at("name"), "%s: %q is not a repository id (letters, digits and _.:- only)", pathString(at("name")), r.Name)
		} else if prev, dup := names[r.Name]; dup {
			p.errorPath(at("name"), "%s: repository %q is already defined by repos[%d]", pathString(at("name")), r.Name, prev)
		} else {
			names[r.Name] = i
		}
		var given []string
		for _, k := range []string{"baseurl", "metalink", "mirrorlist", "path"} {
			if p.isPresent(at(k)...) {
				given = append(given, k)
			}
		}
		hasPath := slices.Contains(given, "path")
		switch {
		case len(given) > 1:
			p.errorPath(at(given[1]), "%s: give one of baseurl, metalink, mirrorlist and path, not %s and %s", pathString(rp), given[0], given[1])
		case len(given) == 0:
			p.errorPath(rp, "%s: missing key \"baseurl\" (a URL) or \"path\" (a directory in the build context); or metalink, or mirrorlist", pathString(rp))
		case given[0] == "baseurl":
			if msg := checkURL(r.BaseURL); msg != "" {
				if !strings.Contains(r.BaseURL, ":") {
					msg += "; for a directory in the build context use path"
				}
				p.errorPath(at("baseurl"), "%s: %q %s", pathString(at("baseurl")), r.BaseURL, msg)
			}
		case given[0] == "metalink" || given[0] == "mirrorlist":
			u := r.Metalink
			if given[0] == "mirrorlist" {
				u = r.Mirrorlist
			}
			if msg := checkURL(u); msg != "" {
				p.errorPath(at(given[0]), "%s: %q %s", pathString(at(given[0])), u, msg)
			} else if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				p.errorPath(at(given[0]), "%s: %q must be an http or https URL", pathString(at(given[0])), u)
			}
		case hasPath:
			if msg := checkContextPath(r.Path); msg != "" {
				p.errorPath(at("path"), "%s: %q %s", pathString(at("path")), r.Path, msg)
			}
		}
		if p.isPresent(at("context")...) {
			if !hasPath {
				p.errorPath(at("context"), "%s: context names the build context that holds path; give path too", pathString(at("context")))
			} else if !matchCharset(r.Context, "_.-") {
				p.errorPath(at("context"), "%s: %q is not a build context name (letters, digits and _.- only)", pathString(at("context")), r.Context)
			}
		}
		if p.isPresent(at("secret")...) && (!matchCharset(r.Secret, "_.-") || r.Secret == "." || r.Secret == "..") {
			p.errorPath(at("secret"), "%s: %q is not a secret id (letters, digits and _.- only, not . or ..)", pathString(at("secret")), r.Secret)
		}
		for j, key := range r.GPGKeys {
			msg := checkURL(key)
			if msg == "" && strings.Contains(key, ",") {
				// A list's item; a string is split at its commas.
				msg = "must not contain ',': dnf reads it as a separator between keys (write %2C)"
			}
			if msg != "" {
				kp := at("gpgkey")
				if len(r.GPGKeys) > 1 {
					kp = join(kp, j)
				}
				p.errorPath(kp, "%s: %q %s", pathString(kp), key, msg)
			}
		}
		if p.isPresent(at("gpgkey")...) && len(r.GPGKeys) == 0 {
			p.errorPath(at("gpgkey"), "%s: no URL given", pathString(at("gpgkey")))
		}
		for _, key := range []string{"includepkgs", "excludepkgs"} {
			list := r.IncludePkgs
			if key == "excludepkgs" {
				list = r.ExcludePkgs
			}
			for j, g := range list {
				if !isPackageGlob(g) {
					p.errorPath(join(rp, key, j), "%s: %q is not a package name or glob (letters, digits, _+.- and *?[])", pathString(join(rp, key, j)), g)
				}
			}
		}
	}
}

// checkURL returns why u is not an http, https or file URL, or "".
func checkURL(u string) string {
	if strings.IndexFunc(u, isSpaceOrControl) >= 0 {
		return "must not contain spaces or control characters"
	}
	x, err := url.Parse(u)
	if err != nil {
		return "is not a URL"
	}
	switch x.Scheme {
	case "http", "https":
		if x.Host == "" {
			return "has no host"
		}
	case "file":
		if x.Path == "" {
			return "has no path"
		}
	case "":
		return "is not a URL: it needs a scheme (https://, http:// or file://)"
	default:
		return fmt.Sprintf("has scheme %q; use https, http or file", x.Scheme)
	}
	return ""
}

// checkContextPath returns why rel is not a clean path inside a build
// context, or "".
func checkContextPath(rel string) string {
	switch {
	case rel == "":
		return "must not be empty"
	case strings.HasPrefix(rel, "/"):
		return "must be relative to the build context, not absolute"
	case strings.ContainsAny(rel, "\n\r\x00"):
		return "must not contain newlines or NUL characters"
	}
	c := path.Clean(rel)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "leaves the build context ('..')"
	}
	if c != rel && c+"/" != rel {
		return fmt.Sprintf("is not clean; write %q", c)
	}
	return ""
}

// appOnlyKeys are the keys that mean something for an application only.
var appOnlyKeys = []string{
	"command", "runtime-name", "runtime-version", "rename-desktop-file", "rename-icon", "copy-icon",
	"rename-appdata-file", "rename-mime-file", "rename-mime-icons", "desktop-file-name-prefix",
	"desktop-file-name-suffix", "extra-data",
}

// checkKind reports keys of another kind of build than the file makes: a
// runtime's (runtime, sdk) in an app's file, an app's in a runtime's or an
// extension's. A runtime file that lost build-runtime would otherwise build
// as an app; an app key in a runtime's file would be ignored.
func (p *parser) checkKind(s *Spec) {
	if s.BuildRuntime && s.BuildExtension {
		p.errorPath([]any{"build-extension"}, "build-extension: a file builds a runtime (build-runtime) or an extension (build-extension), not both")
		return
	}
	switch {
	case s.BuildRuntime:
		for _, k := range appOnlyKeys {
			if p.isPresent(k) {
				p.errorPath([]any{k, Key}, "%s: only an app has it, and this file builds the runtime %s (build-runtime: true): remove it, or remove build-runtime to build an app", k, s.ID)
			}
		}
	case s.BuildExtension:
		for _, k := range appOnlyKeys {
			if k == "runtime-name" || k == "runtime-version" {
				continue
			}
			if p.isPresent(k) {
				p.errorPath([]any{k, Key}, "%s: only an app has it, and this file builds the extension %s (build-extension: true)", k, s.ID)
			}
		}
		for _, k := range []string{"runtime", "sdk"} {
			if p.isPresent(k) {
				p.errorPath([]any{k, Key}, "%s: an extension takes its runtime from the one it extends (runtime-name, runtime-version); remove %s", k, k)
			}
		}
	default:
		for _, k := range []string{"runtime", "sdk"} {
			if !p.isPresent(k) {
				continue
			}
			msg := fmt.Sprintf("%s: only a runtime names its %s, and this file builds an app: add build-runtime: true to build the runtime %s", k, map[string]string{"runtime": "runtime", "sdk": "SDK"}[k], s.ID)
			switch {
			case p.composeModules:
				msg += fmt.Sprintf(" from the packages listed under packages (the modules of compose: at line %d are not built)", p.composeKey.Line)
			case k == "runtime":
				// flatpak-builder's manifests name an app's runtime so.
				msg += "; or, for the runtime this app runs on, write runtime-name"
			default:
				msg += "; an app installed from RPMs needs no SDK (flatpak-builder's sdk builds sources)"
			}
			p.errorPath([]any{k, Key}, "%s", msg)
		}
	}
}

// checkExtraData checks each extra-data entry as flatpak build-export
// does, and that apps alone have them.
func (p *parser) checkExtraData(s *Spec) {
	names := map[string]int{}
	for i, e := range s.ExtraData {
		ep := []any{"extra-data", i}
		at := func(k string) []any { return join(ep, k) }
		if !p.isPresent(at("url")...) {
			p.errorPath(ep, "%s: missing key \"url\": where Flatpak downloads the file", pathString(ep))
		} else if !strings.HasPrefix(e.URL, "https://") && !strings.HasPrefix(e.URL, "http://") {
			p.errorPath(at("url"), "%s: %q must be an http or https URL (Flatpak downloads extra data from no other)", pathString(at("url")), e.URL)
		} else if msg := checkURL(e.URL); msg != "" {
			p.errorPath(at("url"), "%s: %q %s", pathString(at("url")), e.URL, msg)
		}
		if !p.isPresent(at("sha256")...) {
			p.errorPath(ep, "%s: missing key \"sha256\": the file's SHA-256 (64 hex digits)", pathString(ep))
		} else if !isHex64(e.SHA256) {
			p.errorPath(at("sha256"), "%s: %q is not a SHA-256 (64 hex digits)", pathString(at("sha256")), e.SHA256)
		}
		if !p.isPresent(at("size")...) || e.Size == 0 {
			p.errorPath(at("size"), "%s: the file's size in bytes, more than 0 (Flatpak refuses extra data of size 0)", pathString(at("size")))
		}
		name := e.Filename
		if name == "" {
			name = path.Base(e.URL)
		}
		if msg := checkFileName(name); msg != "" || strings.ContainsAny(name, ":") {
			if msg == "" {
				msg = "must not contain ':'"
			}
			p.errorPath(at("filename"), "%s: %q %s", pathString(at("filename")), name, msg)
		} else if prev, dup := names[name]; dup {
			p.errorPath(at("filename"), "%s: %q is already the name of extra-data[%d]", pathString(at("filename")), name, prev)
		} else {
			names[name] = i
		}
		p.checkArches(e.OnlyArches, at("only-arches"))
	}
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
