package llb

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/patternmatcher"
)

// tree makes entries from paths; a trailing slash marks a folder, and the
// folders above each path are added.
func tree(paths ...string) []buildstep.Entry {
	seen := map[string]bool{}
	var out []buildstep.Entry
	add := func(p string, dir bool) {
		if !seen[p] {
			seen[p] = true
			out = append(out, entry(p, dir))
		}
	}
	for _, p := range paths {
		dir := strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			add(d, true)
		}
		add(p, dir)
	}
	return out
}

func owns(pkg, srpm string, paths ...string) []buildstep.PackagedFile {
	var out []buildstep.PackagedFile
	for _, p := range paths {
		out = append(out, buildstep.PackagedFile{Package: pkg, SourceRPM: srpm, Path: "/app/" + strings.TrimSuffix(p, "/")})
	}
	return out
}

// checkCover checks that each leaf entry (a file or an empty folder) is in
// exactly one layer and returns which.
func checkCover(t *testing.T, entries []buildstep.Entry, layers []Layer) map[string]string {
	t.Helper()
	parents := map[string]bool{}
	for _, e := range entries {
		parents[path.Dir(e.Path)] = true
	}
	got := map[string]string{}
	for _, e := range entries {
		if e.Type == 'd' && parents[e.Path] {
			continue
		}
		var in []string
		for _, l := range layers {
			if l.Paths == nil || slices.ContainsFunc(l.Paths, func(p string) bool { return e.Path == p || strings.HasPrefix(e.Path, p+"/") }) {
				in = append(in, l.Name)
			}
		}
		if len(in) != 1 {
			t.Errorf("%s is in layers %v, want exactly one", e.Path, in)
			continue
		}
		got[e.Path] = in[0]
	}
	return got
}

func TestSplitLayersBySourcePackage(t *testing.T) {
	entries := tree(
		"bin/gimp", "lib/libgimp.so.2", "share/gimp/2.0/scripts/a.scm", "share/gimp/2.0/scripts/b.scm",
		"share/gimp/2.0/plug-ins/extra/x.py", "share/applications/org.gimp.GIMP.desktop",
		"share/icons/hicolor/64x64/apps/org.gimp.GIMP.png", "share/empty/", "lib/weird[1]*?.so", "!bang",
		"share/app-info/xmls/org.gimp.GIMP.xml.gz",
	)
	var owners []buildstep.PackagedFile
	owners = append(owners, owns("gimp", "gimp-2.10.38-1.fc41.src.rpm", "bin/gimp", "share/gimp/2.0/scripts/a.scm",
		"share/gimp/2.0/scripts/b.scm", "share/applications/org.gimp.GIMP.desktop", "share/gimp/2.0/scripts/")...)
	owners = append(owners, owns("gimp-libs", "gimp-2.10.38-1.fc41.src.rpm", "lib/libgimp.so.2", "lib/weird[1]*?.so")...)
	owners = append(owners, owns("gimp-extra", "gimp-extra-plugins-1.0-1.fc41.src.rpm", "share/gimp/2.0/plug-ins/extra/x.py", "share/empty/", "!bang")...)
	owners = append(owners, owns("hicolor", "hicolor-icon-theme-0.17-1.src.rpm", "share/icons/hicolor/64x64/apps/org.gimp.GIMP.png")...)
	layers := SplitLayers(entries, owners, "/app")

	var names []string
	for _, l := range layers {
		names = append(names, l.Name)
	}
	if want := []string{"gimp", "gimp-extra-plugins", "hicolor-icon-theme", "other"}; !slices.Equal(names, want) {
		t.Fatalf("layers %v, want %v (one per source package, what no package owns last)", names, want)
	}
	got := checkCover(t, entries, layers)
	for p, want := range map[string]string{
		"bin/gimp": "gimp", "lib/libgimp.so.2": "gimp", "lib/weird[1]*?.so": "gimp",
		"share/gimp/2.0/plug-ins/extra/x.py": "gimp-extra-plugins", "share/empty": "gimp-extra-plugins",
		"!bang": "gimp-extra-plugins", "share/app-info/xmls/org.gimp.GIMP.xml.gz": "other",
	} {
		if got[p] != want {
			t.Errorf("%s is in layer %q, want %q", p, got[p], want)
		}
	}
	// A folder deep enough and wholly one package's is taken whole.
	if !slices.Contains(layers[0].Paths, "share/gimp/2.0/scripts") {
		t.Errorf("gimp's paths %q do not take share/gimp/2.0/scripts as a whole", layers[0].Paths)
	}
	// Right under share/ packages of different sources meet: no layer
	// takes share/gimp whole even though only gimp owns files there
	// today.
	for _, l := range layers {
		if slices.Contains(l.Paths, "share/gimp") || slices.Contains(l.Paths, "share") {
			t.Errorf("layer %s selects a shared folder whole: %q", l.Name, l.Paths)
		}
	}
}

func TestSplitLayersKeepAPackagesPathsWhenAnotherAddsToItsFolders(t *testing.T) {
	// Plugins of two sources meet in folders neither package owns.
	one := owns("plugin-a", "plugin-a-1-1.src.rpm", "lib/app/plugins/a.so", "share/app/plugins/a/1.txt", "share/app/plugins/a/2.txt")
	app := owns("app", "app-1-1.src.rpm", "bin/app")
	before := SplitLayers(tree("bin/app", "lib/app/plugins/a.so", "share/app/plugins/a/1.txt", "share/app/plugins/a/2.txt"), append(app, one...), "/app")
	entries := tree("bin/app", "lib/app/plugins/a.so", "lib/app/plugins/b.so", "share/app/plugins/a/1.txt", "share/app/plugins/a/2.txt", "share/app/plugins/b/1.txt")
	after := SplitLayers(entries, slices.Concat(app, one, owns("plugin-b", "plugin-b-1-1.src.rpm", "lib/app/plugins/b.so", "share/app/plugins/b/1.txt")), "/app")
	checkCover(t, entries, after)
	paths := func(ls []Layer, name string) []string {
		for _, l := range ls {
			if l.Name == name {
				return l.Paths
			}
		}
		return nil
	}
	if a, b := paths(before, "plugin-a"), paths(after, "plugin-a"); len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("plugin-a's paths went from %q to %q when plugin-b was added", a, b)
	}
}

func TestSplitLayersOneSourceIsOneLayer(t *testing.T) {
	entries := tree("bin/hello", "share/hello/data")
	layers := SplitLayers(entries, owns("hello", "hello-1-1.src.rpm", "bin/hello", "share/hello/data"), "/app")
	if len(layers) != 1 || layers[0].Paths != nil {
		t.Fatalf("layers = %+v, want one selecting everything", layers)
	}
	if got := SplitLayers(nil, nil, "/app"); len(got) != 1 {
		t.Fatalf("no entries: %+v", got)
	}
}

func TestSplitLayersBoundedAndStable(t *testing.T) {
	var paths []string
	var owners []buildstep.PackagedFile
	for i := range 3 * MaxLayers {
		p := fmt.Sprintf("lib/pkg%03d/lib.so", i)
		paths = append(paths, p)
		owners = append(owners, owns(fmt.Sprintf("pkg%03d", i), fmt.Sprintf("pkg%03d-1-1.src.rpm", i), p)...)
	}
	before := SplitLayers(tree(paths...), owners, "/app")
	if len(before) > MaxLayers {
		t.Fatalf("%d layers, want at most %d", len(before), MaxLayers)
	}
	checkCover(t, tree(paths...), before)

	// One more package changes the selection of one layer only.
	paths = append(paths, "lib/newpkg/lib.so")
	owners = append(owners, owns("newpkg", "newpkg-1-1.src.rpm", "lib/newpkg/lib.so")...)
	after := SplitLayers(tree(paths...), owners, "/app")
	checkCover(t, tree(paths...), after)
	changed := 0
	for _, a := range after {
		i := slices.IndexFunc(before, func(b Layer) bool { return b.Name == a.Name })
		if i < 0 || !slices.Equal(before[i].Paths, a.Paths) {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("adding a package changed %d layers, want 1", changed)
	}
}

func TestSplitLayersOfARuntime(t *testing.T) {
	entries := tree("usr/bin/bash", "usr/lib64/libc.so.6", "usr/share/zoneinfo/Europe/Paris",
		"usr/share/zoneinfo/Europe/Berlin", "usr/share/zoneinfo/UTC", "etc/passwd",
		"usr/lib/sysimage/rpm/rpmdb.sqlite")
	var owners []buildstep.PackagedFile
	for pkg, paths := range map[string][]string{
		"bash-5.2-1.fc41.src.rpm":     {"/usr/bin/bash"},
		"glibc-2.40-1.fc41.src.rpm":   {"/usr/lib64/libc.so.6"},
		"tzdata-2024a-1.fc41.src.rpm": {"/usr/share/zoneinfo/Europe", "/usr/share/zoneinfo/Europe/Paris", "/usr/share/zoneinfo/Europe/Berlin", "/usr/share/zoneinfo/UTC"},
		"setup-2.15-1.fc41.src.rpm":   {"/etc/passwd"},
	} {
		for _, p := range paths {
			owners = append(owners, buildstep.PackagedFile{Package: strings.Split(pkg, "-")[0], SourceRPM: pkg, Path: p})
		}
	}
	layers := SplitLayers(entries, owners, "/")
	got := checkCover(t, entries, layers)
	for p, want := range map[string]string{
		"usr/bin/bash": "bash", "etc/passwd": "setup", "usr/share/zoneinfo/UTC": "tzdata",
		"usr/lib/sysimage/rpm/rpmdb.sqlite": "other",
	} {
		if got[p] != want {
			t.Errorf("%s is in layer %q, want %q", p, got[p], want)
		}
	}
	for _, l := range layers {
		// usr/share/zoneinfo is where other packages may add zones; its
		// subfolder is deep enough to take whole.
		if l.Name == "tzdata" && !slices.Equal(l.Paths, []string{"usr/share/zoneinfo/Europe", "usr/share/zoneinfo/UTC"}) {
			t.Errorf("tzdata's paths = %q", l.Paths)
		}
	}

	// The runtime's /usr is files/ and its /etc files/etc.
	all, _ := ops(t, Layout(bkllb.Image("example.com/root"), LayoutOptions{Metadata: []byte("x"), Runtime: true, Layers: layers}))
	type sel struct{ src, dest string }
	sels := map[string]sel{}
	for _, op := range all {
		for _, a := range op.GetFile().GetActions() {
			if c := a.GetCopy(); c != nil {
				for _, p := range c.IncludePatterns {
					sels[p] = sel{c.Src, c.Dest}
				}
			}
		}
	}
	for pattern, want := range map[string]sel{
		"bin/bash":              {"/usr", "/files/"},
		"etc/passwd":            {"/", "/files/"},
		"share/zoneinfo/Europe": {"/usr", "/files/"},
	} {
		if sels[pattern] != want {
			t.Errorf("%s is copied from %+v, want %+v", pattern, sels[pattern], want)
		}
	}
}

func TestLiteralPatterns(t *testing.T) {
	for p, want := range map[string]string{
		"share/app":     "share/app",
		"!x/a*b?[c]\\d": "\\!x/a\\*b\\?\\[c\\]\\\\d",
	} {
		if got := literalPattern(p); got != want {
			t.Errorf("literalPattern(%q) = %q, want %q", p, got, want)
		}
	}
	// As BuildKit matches them: the path and what it holds, nothing else
	// (coreutils has /usr/bin/[).
	for p, others := range map[string][]string{
		"bin/[":         {"bin/a", "bin/[a", "bin"},
		"share/a*b/x?y": {"share/aab/xzy", "share/a*b/xy"},
		"!bang":         {"bang"},
		"back\\slash":   {"back/slash", "backslash"},
	} {
		m, err := patternmatcher.New([]string{literalPattern(p)})
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		for _, q := range []string{p, p + "/inside"} {
			if ok, err := m.MatchesOrParentMatches(q); !ok || err != nil {
				t.Errorf("pattern of %q does not match %q (%v)", p, q, err)
			}
		}
		for _, q := range others {
			if ok, _ := m.MatchesOrParentMatches(q); ok {
				t.Errorf("pattern of %q matches %q", p, q)
			}
		}
	}
}

func entry(p string, dir bool) buildstep.Entry {
	if dir {
		return buildstep.Entry{Path: p, Type: 'd'}
	}
	return buildstep.Entry{Path: p, Type: 'f'}
}
