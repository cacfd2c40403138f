package initspec

import (
	"encoding/xml"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmfile"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// Wanted says which files of the package Generate reads.
func Wanted(p string) bool {
	return isDesktop(p) || isMetainfo(p)
}

func isDesktop(p string) bool {
	return path.Dir(p) == "/app/share/applications" && strings.HasSuffix(p, ".desktop")
}

func isMetainfo(p string) bool {
	d := path.Dir(p)
	return (d == "/app/share/metainfo" || d == "/app/share/appdata") && strings.HasSuffix(p, ".xml")
}

// RepoEntry is how the generated file reaches the package's repository.
type RepoEntry struct {
	// Name is the repository id.
	Name string
	// BaseURL, or Context and Path (a build context holding the repo).
	BaseURL       string
	Context, Path string
	// Comment is written above the entry.
	Comment string
}

// Options are what the package cannot say.
type Options struct {
	// Runtime is ID//BRANCH; "" takes Fedora's runtime of the package's
	// dist tag (.fc40: org.fedoraproject.Platform//f40).
	Runtime string
	// Repo, when set, is written under repos.
	Repo *RepoEntry
}

// Generate writes the flatpak.yaml for p; contents are the files Wanted
// selected. It checks the result with spec.Parse.
func Generate(p *rpmfile.Package, contents map[string][]byte, o Options) ([]byte, error) {
	g := &gen{p: p, contents: contents}
	runtimeID, branch, err := g.runtime(o.Runtime)
	if err != nil {
		return nil, err
	}
	id, renames, idNote := g.appID()
	command, cmdNote, err := g.command()
	if err != nil {
		return nil, err
	}

	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# flatpak.yaml for %s, written by flatpak-frontend init from %s.", p.Name, p.NVRA())
	if p.Summary != "" {
		w("# %s", oneLine(p.Summary))
	}
	w("# Lines marked REVIEW are guesses: check them before publishing.")
	if idNote != "" {
		w("# REVIEW: %s", idNote)
	}
	w("id: %s", id)
	w("name: %s", quote(p.Name))
	w("branch: stable")
	w("runtime-name: %s", runtimeID)
	w("runtime-version: %s", quote(branch))
	if cmdNote != "" {
		w("# REVIEW: %s", cmdNote)
	}
	w("command: %s", quote(command))
	w("packages:")
	w("  - %s", quote(p.Name))
	for _, r := range renames {
		w("%s: %s", r[0], quote(r[1]))
	}
	g.finishArgs(w)
	if o.Repo != nil {
		w("repos:")
		for _, line := range strings.Split(strings.TrimSpace(o.Repo.Comment), "\n") {
			if line != "" {
				w("  # %s", line)
			}
		}
		w("  - name: %s", quote(o.Repo.Name))
		if o.Repo.BaseURL != "" {
			w("    baseurl: %s", quote(o.Repo.BaseURL))
		} else {
			w("    context: %s", quote(o.Repo.Context))
			w("    path: %s", quote(o.Repo.Path))
		}
	} else {
		w("# No repos: the runtime's own repositories must have %s and what it requires.", p.Name)
	}
	out := []byte(b.String())
	if _, err := spec.Parse("flatpak.yaml", out, spec.Options{}); err != nil {
		return nil, fmt.Errorf("the generated flatpak.yaml does not validate (a bug): %w\n%s", err, out)
	}
	return out, nil
}

type gen struct {
	p        *rpmfile.Package
	contents map[string][]byte
}

var distTag = regexp.MustCompile(`\.fc(\d+)`)

func (g *gen) runtime(given string) (id, branch string, err error) {
	if given != "" {
		id, branch, ok := strings.Cut(given, "//")
		if !ok || id == "" || branch == "" {
			return "", "", fmt.Errorf("--runtime %q: want ID//BRANCH, such as org.fedoraproject.Platform//f40", given)
		}
		if err := flatpakref.CheckID(id); err != nil {
			return "", "", fmt.Errorf("--runtime %q: %w", given, err)
		}
		return id, branch, nil
	}
	if m := distTag.FindStringSubmatch(g.p.Release); m != nil {
		return "org.fedoraproject.Platform", "f" + m[1], nil
	}
	return "", "", fmt.Errorf("%s has no Fedora dist tag to take the runtime from: give --runtime ID//BRANCH", g.p.NVRA())
}

// files lists the package's paths that match f, sorted.
func (g *gen) files(f func(string) bool) []string {
	var out []string
	for _, file := range g.p.Files {
		if f(file.Path) && file.Mode.IsRegular() {
			out = append(out, file.Path)
		}
	}
	slices.Sort(out)
	return out
}

// desktop is the first desktop file's [Desktop Entry] keys.
func (g *gen) desktop() (string, map[string]string) {
	for _, f := range g.files(isDesktop) {
		keys := map[string]string{}
		group := ""
		for _, line := range strings.Split(string(g.contents[f]), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "[") {
				group = line
				continue
			}
			if k, v, ok := strings.Cut(line, "="); ok && group == "[Desktop Entry]" {
				keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		return f, keys
	}
	return "", nil
}

// appID finds the app ID, and the rename-* keys that make the files match it.
func (g *gen) appID() (id string, renames [][2]string, note string) {
	meta := g.files(isMetainfo)
	desktopFile, keys := g.desktop()
	var candidates []string
	for _, f := range meta {
		var c struct {
			ID string `xml:"id"`
		}
		if xml.Unmarshal(g.contents[f], &c) == nil && c.ID != "" {
			candidates = append(candidates, strings.TrimSuffix(strings.TrimSpace(c.ID), ".desktop"))
		}
	}
	if desktopFile != "" {
		candidates = append(candidates, strings.TrimSuffix(path.Base(desktopFile), ".desktop"))
	}
	for _, c := range candidates {
		if flatpakref.CheckID(c) == nil {
			id = c
			break
		}
	}
	if id == "" {
		id = guessID(g.p)
		note = fmt.Sprintf("id %s is made up from the package's URL and name (no desktop or metainfo file names a valid ID).", id)
	}
	if desktopFile != "" && path.Base(desktopFile) != id+".desktop" {
		renames = append(renames, [2]string{"rename-desktop-file", path.Base(desktopFile)})
	}
	if icon := keys["Icon"]; icon != "" && icon != id && !strings.Contains(icon, "/") {
		renames = append(renames, [2]string{"rename-icon", icon})
	}
	if len(meta) > 0 {
		base := path.Base(meta[0])
		if base != id+".metainfo.xml" && base != id+".appdata.xml" {
			renames = append(renames, [2]string{"rename-appdata-file", base})
		}
	}
	return id, renames, note
}

// guessID reverses the URL's host and appends the capitalized package name:
// https://example.org/viewer gives org.example.Viewer.
func guessID(p *rpmfile.Package) string {
	host := "example.org"
	if u := strings.TrimPrefix(strings.TrimPrefix(p.URL, "https://"), "http://"); u != p.URL {
		h, _, _ := strings.Cut(u, "/")
		h, _, _ = strings.Cut(h, ":")
		if strings.Contains(h, ".") {
			host = strings.TrimPrefix(h, "www.")
		}
	}
	parts := strings.Split(host, ".")
	slices.Reverse(parts)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, p.Name)
	name = strings.ToUpper(name[:1]) + name[1:]
	id := strings.Join(append(parts, name), ".")
	if flatpakref.CheckID(id) != nil {
		return "org.example." + name
	}
	return id
}

func (g *gen) command() (string, string, error) {
	bins := g.files(func(p string) bool { return path.Dir(p) == "/app/bin" })
	var exec []string
	for _, b := range bins {
		for _, f := range g.p.Files {
			if f.Path == b && f.Mode&0o111 != 0 {
				exec = append(exec, path.Base(b))
			}
		}
	}
	if _, keys := g.desktop(); keys != nil {
		if fields := strings.Fields(keys["Exec"]); len(fields) > 0 {
			cmd := path.Base(fields[0])
			if slices.Contains(exec, cmd) {
				return cmd, "", nil
			}
		}
	}
	switch len(exec) {
	case 0:
		return "", "", fmt.Errorf("%s installs no executable into /app/bin: is it an application built for /app?", g.p.NVRA())
	case 1:
		return exec[0], "", nil
	}
	return exec[0], fmt.Sprintf("command is the first of several executables: %s.", strings.Join(exec, ", ")), nil
}

func (g *gen) finishArgs(w func(string, ...any)) {
	_, keys := g.desktop()
	gui := keys != nil && !strings.EqualFold(keys["Terminal"], "true") && !strings.EqualFold(keys["NoDisplay"], "true")
	w("# REVIEW: the sandbox permissions. Add --share=network if it uses the network,")
	w("# --filesystem=... for the files it opens outside the portals.")
	if !gui {
		w("# A terminal application (no desktop file, or Terminal=true): it needs no")
		w("# display, so it gets no access beyond the sandbox's defaults:")
		w("# finish-args: |-")
		w("#   --share=network")
		return
	}
	w("finish-args: |-")
	w("  # A graphical application (its desktop file is not Terminal=true):")
	w("  --socket=wayland")
	w("  --socket=fallback-x11")
	w("  --share=ipc")
	w("  --device=dri")
}

// quote writes a YAML string that never changes type (1.0, yes, null...).
func quote(s string) string {
	if regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.+-]*$`).MatchString(s) && !slices.Contains([]string{"yes", "no", "true", "false", "null", "on", "off", "y", "n"}, strings.ToLower(s)) {
		return s
	}
	return strconv.Quote(s)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
