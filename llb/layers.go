package llb

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"path"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

// MaxLayers bounds how many layers an app's files/ is split into.
const MaxLayers = 32

// Layer is one layer of an app's files/: the entries at Paths (relative to
// /app, folders with all they hold; nil for everything).
type Layer struct {
	Name  string
	Paths []string
}

// otherLayer holds what no package owns.
const otherLayer = "other"

// SplitLayers puts each source package's files in a layer of its own, and
// what no package owns in a last one, so that a package whose files did not
// change keeps its layer (BuildKit keys a copy by the content it selects)
// and its compressed blob from build to build. Past MaxLayers source
// packages share layers by a hash of their names. Folders whose whole
// content falls in one layer, and which a package of that layer owns, are
// taken whole, from two levels below /app (an app) or /usr (a runtime)
// down. Entries and the layers' paths are
// relative to the root the packages went into: an app's /app, or a
// runtime's new root (usr/ and etc/).
//
// prefix is the path the packages gave the tree's root: /app, an
// extension's folder, or / for a runtime's new root.
func SplitLayers(entries []buildstep.Entry, owners []buildstep.PackagedFile, prefix string) []Layer {
	minSlashes := 2
	if prefix == "/" {
		minSlashes = 3
	} else {
		prefix += "/"
	}
	owners = slices.Clone(owners)
	slices.SortStableFunc(owners, func(a, b buildstep.PackagedFile) int { return cmp.Compare(a.Package, b.Package) })
	owner := map[string]string{}
	groups := map[string]bool{}
	for _, o := range owners {
		rel, ok := strings.CutPrefix(o.Path, prefix)
		if !ok {
			continue
		}
		if _, seen := owner[rel]; !seen {
			g := sourceName(o)
			owner[rel] = g
			groups[g] = true
		}
	}
	if len(groups) > MaxLayers {
		for rel, g := range owner {
			h := fnv.New32a()
			h.Write([]byte(g))
			owner[rel] = fmt.Sprintf("bucket-%02d", h.Sum32()%MaxLayers)
		}
	}

	children := map[string][]buildstep.Entry{}
	for _, e := range entries {
		children[parentOf(e.Path)] = append(children[parentOf(e.Path)], e)
	}
	// layerOf is the one layer everything under an entry goes to, or ""
	// when that is more than one.
	pure := map[string]string{}
	var layerOf func(e buildstep.Entry) string
	layerOf = func(e buildstep.Entry) string {
		g, ok := owner[e.Path]
		if !ok {
			g = otherLayer
		}
		if kids := children[e.Path]; e.Type == 'd' && len(kids) > 0 {
			g = "?"
			for _, k := range kids {
				switch kg := layerOf(k); {
				case kg == "":
					g = ""
				case g == "?":
					g = kg
				case g != kg:
					g = ""
				}
			}
		}
		pure[e.Path] = g
		return g
	}
	for _, e := range children[""] {
		layerOf(e)
	}

	include := map[string][]string{}
	var select_ func(e buildstep.Entry)
	select_ = func(e buildstep.Entry) {
		// A folder is taken whole only where a package of its layer owns
		// it, below the folders right under /app/share, /usr/lib...:
		// packages of different sources meet in the others (plugins,
		// data, locales), and taking one whole would change its layer's
		// paths when another package adds to it.
		if g := pure[e.Path]; g != "" && (e.Type != 'd' || len(children[e.Path]) == 0 ||
			strings.Count(e.Path, "/") >= minSlashes && owner[e.Path] == g) {
			include[g] = append(include[g], e.Path)
			return
		}
		for _, k := range children[e.Path] {
			select_(k)
		}
	}
	for _, e := range children[""] {
		select_(e)
	}
	if len(include) <= 1 {
		return []Layer{{Name: "all"}}
	}
	var out []Layer
	for g, inc := range include {
		slices.Sort(inc)
		out = append(out, Layer{Name: g, Paths: inc})
	}
	slices.SortFunc(out, func(a, b Layer) int {
		if (a.Name == otherLayer) != (b.Name == otherLayer) {
			if a.Name == otherLayer {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// sourceName is the name of the source package a package was built from
// (its SOURCERPM without version, release and .src.rpm).
func sourceName(o buildstep.PackagedFile) string {
	s, ok := strings.CutSuffix(o.SourceRPM, ".src.rpm")
	if !ok {
		return o.Package
	}
	for range 2 {
		i := strings.LastIndexByte(s, '-')
		if i <= 0 {
			return o.Package
		}
		s = s[:i]
	}
	return s
}

func parentOf(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}
