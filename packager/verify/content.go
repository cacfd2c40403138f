package verify

import (
	"archive/tar"
	"bytes"
	"sort"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
)

// checkContent checks the image's files against the labels: the metadata
// file, files/, export/ names and the installed size.
func (c *checker) checkContent(img string, f labelFacts, tree map[string]*entry) {
	md, ok := tree["metadata"]
	switch {
	case !ok:
		c.problem(img, "metadata", "missing: a Flatpak image has a metadata file at its top")
	case md.typ != tar.TypeReg:
	case f.hasMetadata && !bytes.Equal(md.data, f.metadata):
		c.problem(img, "metadata", "the file (%d bytes) differs from the %s label (%d bytes); they must be byte-identical", len(md.data), labels.Metadata, len(f.metadata))
	case !f.hasMetadata:
		c.checkMetadataText(img, "metadata", f, md.data)
	}
	hasFiles := false
	var names []string
	for name := range tree {
		names = append(names, name)
	}
	sort.Strings(names)
	var sizes []uint64
	for _, name := range names {
		e := tree[name]
		top, _, _ := strings.Cut(name, "/")
		if top == "files" {
			hasFiles = true
		}
		if e.typ == tar.TypeReg && (name == "metadata" || top == "files" || top == "export") {
			sizes = append(sizes, uint64(e.size))
		}
		if top == "export" && e.typ != tar.TypeDir && f.id != "" {
			base := name[strings.LastIndexByte(name, '/')+1:]
			if !hasNamePrefix(base, f.id) {
				c.problem(img, name, "exported file name does not start with the ID %q; flatpak build-finish exports only such names and flatpak refuses others", f.id)
			}
		}
	}
	if !hasFiles {
		c.problem(img, "files/", "missing: a Flatpak image keeps its content in files/")
	}
	if f.hasInstalled {
		if got := labels.InstalledSizeOf(sizes...); got != f.installed {
			c.problem(img, "label "+labels.InstalledSize, "is %d, but the regular files of metadata, files/ and export/ take %d (each rounded up to 512 bytes, as flatpak counts them)", f.installed, got)
		}
	}
}

// hasNamePrefix is flatpak_has_name_prefix: s starts with name, followed by
// nothing, '.', or a character that cannot be part of a name ('-' included).
func hasNamePrefix(s, name string) bool {
	rest, ok := strings.CutPrefix(s, name)
	if !ok {
		return false
	}
	if rest == "" || rest[0] == '.' {
		return true
	}
	ch := rest[0]
	return !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_')
}
