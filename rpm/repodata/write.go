package repodata

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmfile"
	"golang.org/x/sync/errgroup"
)

// Indexed is a package file of a repository being written.
type Indexed struct {
	// Location is the file's path relative to the repository.
	Location string
	// Size is the file's size, SHA256 its digest (hex).
	Size   int64
	SHA256 string
	*rpmfile.Package
}

// Index reads the binary package files (*.rpm but source packages) in dir
// and its folders, as createrepo_c does, in the order of their paths. A
// file that is not an RPM is an error that names it.
func Index(dir string) ([]Indexed, error) {
	var rels []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "repodata" && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".rpm") || strings.HasSuffix(name, ".src.rpm") || strings.HasSuffix(name, ".nosrc.rpm") {
			return nil
		}
		if !d.Type().IsRegular() {
			// A symlink counts when it leads to a file.
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rels = append(rels, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(rels)
	out := make([]Indexed, len(rels))
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i, rel := range rels {
		g.Go(func() error {
			ix, err := indexFile(filepath.Join(dir, filepath.FromSlash(rel)))
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			ix.Location = rel
			out[i] = ix
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// indexFile reads one package file's header and digest.
func indexFile(file string) (Indexed, error) {
	f, err := os.Open(file)
	if err != nil {
		return Indexed{}, err
	}
	defer f.Close()
	h := sha256.New()
	tee := io.TeeReader(f, h)
	p, _, err := rpmfile.Read(tee, nil)
	if err != nil {
		return Indexed{}, err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return Indexed{}, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return Indexed{}, err
	}
	return Indexed{Size: size, SHA256: hex.EncodeToString(h.Sum(nil)), Package: p}, nil
}

// Write writes the metadata of a repository of pkgs into dir/repodata, as
// createrepo_c does: repomd.xml, and the primary and filelists metadata,
// gzip-compressed, each named by its digest. It writes what installers
// read (no other.xml: changelogs). What it writes depends on pkgs alone,
// not on the time it runs.
func Write(dir string, pkgs []Indexed) error {
	md := filepath.Join(dir, "repodata")
	if err := os.MkdirAll(md, 0o755); err != nil {
		return err
	}
	var revision int64
	for _, p := range pkgs {
		revision = max(revision, p.BuildTime)
	}
	var data []repomdData
	for _, kind := range []struct {
		name  string
		write func(io.Writer, []Indexed) error
	}{{"primary", writePrimary}, {"filelists", writeFilelists}} {
		d, err := writeCompressed(md, kind.name, func(w io.Writer) error { return kind.write(w, pkgs) })
		if err != nil {
			return err
		}
		d.timestamp = revision
		data = append(data, d)
	}
	var sb strings.Builder
	sb.WriteString(xml.Header)
	sb.WriteString(`<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">` + "\n")
	fmt.Fprintf(&sb, "  <revision>%d</revision>\n", revision)
	for _, d := range data {
		fmt.Fprintf(&sb, `  <data type="%s">
    <checksum type="sha256">%s</checksum>
    <open-checksum type="sha256">%s</open-checksum>
    <location href="repodata/%s"/>
    <timestamp>%d</timestamp>
    <size>%d</size>
    <open-size>%d</open-size>
  </data>
`, d.kind, d.sum, d.openSum, d.file, d.timestamp, d.size, d.openSize)
	}
	sb.WriteString("</repomd>\n")
	return os.WriteFile(filepath.Join(md, "repomd.xml"), []byte(sb.String()), 0o644)
}

type repomdData struct {
	kind, file, sum, openSum string
	size, openSize           int64
	timestamp                int64
}

// writeCompressed writes one metadata file, gzip-compressed, named
// DIGEST-KIND.xml.gz.
func writeCompressed(md, kind string, write func(io.Writer) error) (repomdData, error) {
	tmp, err := os.CreateTemp(md, "."+kind+"-*")
	if err != nil {
		return repomdData{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	zsum, osum := sha256.New(), sha256.New()
	zcount := &countingWriter{w: io.MultiWriter(tmp, zsum)}
	zw, _ := gzip.NewWriterLevel(zcount, gzip.BestSpeed)
	ocount := &countingWriter{w: io.MultiWriter(zw, osum)}
	bw := bufio.NewWriterSize(ocount, 64<<10)
	if err := write(bw); err != nil {
		return repomdData{}, err
	}
	if err := bw.Flush(); err != nil {
		return repomdData{}, err
	}
	if err := zw.Close(); err != nil {
		return repomdData{}, err
	}
	if err := tmp.Close(); err != nil {
		return repomdData{}, err
	}
	d := repomdData{kind: kind, sum: hexSum(zsum), openSum: hexSum(osum), size: zcount.n, openSize: ocount.n}
	d.file = d.sum + "-" + kind + ".xml.gz"
	return d, os.Rename(tmp.Name(), filepath.Join(md, d.file))
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// xmlWriter writes XML text, keeping the first error.
type xmlWriter struct {
	w   io.Writer
	err error
}

func (x *xmlWriter) raw(s string) {
	if x.err == nil {
		_, x.err = io.WriteString(x.w, s)
	}
}

// text writes s escaped as libxml2 escapes text; characters XML 1.0
// cannot hold become U+FFFD.
func (x *xmlWriter) text(s string) { x.raw(escape(s, false)) }

// escape escapes s for XML text, or for an attribute's value (quotes and
// white space other than the space too).
func escape(s string, attr bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case attr && r == '"':
			b.WriteString("&quot;")
		case attr && (r == '\n' || r == '\r' || r == '\t'):
			fmt.Fprintf(&b, "&#%d;", r)
		case r == '\n' || r == '\r' || r == '\t' || r >= 0x20 && r <= 0xd7ff && r != utf8.RuneError || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff:
			b.WriteRune(r)
		default:
			b.WriteRune('\ufffd')
		}
	}
	return b.String()
}

// elem writes <name>text</name> on a line of its own.
func (x *xmlWriter) elem(indent, name, text string) {
	x.raw(indent + "<" + name + ">")
	x.text(text)
	x.raw("</" + name + ">\n")
}

// attr writes name="value" with a space before it.
func (x *xmlWriter) attr(name, value string) {
	x.raw(" " + name + `="` + escape(value, true) + `"`)
}

func (x *xmlWriter) version(indent string, p *rpmfile.Package) {
	x.raw(indent + "<version")
	x.attr("epoch", strconv.Itoa(p.Epoch))
	x.attr("ver", p.Version)
	x.attr("rel", p.Release)
	x.raw("/>\n")
}

func writePrimary(w io.Writer, pkgs []Indexed) error {
	x := &xmlWriter{w: w}
	x.raw(xml.Header)
	x.raw(`<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="` + strconv.Itoa(len(pkgs)) + "\">\n")
	for _, p := range pkgs {
		x.raw("<package type=\"rpm\">\n")
		x.elem("  ", "name", p.Name)
		x.elem("  ", "arch", p.Arch)
		x.version("  ", p.Package)
		x.raw(`  <checksum type="sha256" pkgid="YES">` + p.SHA256 + "</checksum>\n")
		x.elem("  ", "summary", p.Summary)
		x.elem("  ", "description", p.Description)
		x.elem("  ", "packager", p.Packager)
		x.elem("  ", "url", p.URL)
		x.raw(fmt.Sprintf("  <time file=\"%d\" build=\"%d\"/>\n", p.BuildTime, p.BuildTime))
		x.raw(fmt.Sprintf("  <size package=\"%d\" installed=\"%d\" archive=\"%d\"/>\n", p.Size, p.InstalledSize, p.ArchiveSize))
		x.raw("  <location")
		x.attr("href", p.Location)
		x.raw("/>\n  <format>\n")
		x.elem("    ", "rpm:license", p.License)
		x.elem("    ", "rpm:vendor", p.Vendor)
		x.elem("    ", "rpm:group", p.Group)
		x.elem("    ", "rpm:buildhost", p.BuildHost)
		x.elem("    ", "rpm:sourcerpm", p.SourceRPM)
		x.raw(fmt.Sprintf("    <rpm:header-range start=\"%d\" end=\"%d\"/>\n", p.HeaderStart, p.HeaderEnd))
		deps := primaryDeps(p.Package)
		for _, kind := range []rpmfile.DepKind{rpmfile.Provides, rpmfile.Requires, rpmfile.Conflicts, rpmfile.Obsoletes,
			rpmfile.Suggests, rpmfile.Enhances, rpmfile.Recommends, rpmfile.Supplements} {
			if len(deps[kind]) == 0 {
				continue
			}
			x.raw("    <rpm:" + string(kind) + ">\n")
			for _, d := range deps[kind] {
				x.dep(d)
			}
			x.raw("    </rpm:" + string(kind) + ">\n")
		}
		for _, f := range p.Files {
			if IsPrimaryFile(f.Path) {
				x.file("    ", f)
			}
		}
		x.raw("  </format>\n</package>\n")
	}
	x.raw("</metadata>\n")
	return x.err
}

func (x *xmlWriter) file(indent string, f rpmfile.File) {
	x.raw(indent + "<file")
	switch {
	case f.Ghost:
		x.raw(` type="ghost"`)
	case f.Mode.IsDir():
		x.raw(` type="dir"`)
	}
	x.raw(">")
	x.text(f.Path)
	x.raw("</file>\n")
}

// dep writes one rpm:entry.
func (x *xmlWriter) dep(d rpmfile.Dep) {
	x.raw("      <rpm:entry")
	x.attr("name", d.Name)
	if flags := senseName(d.Flags); flags != "" && d.EVR != "" {
		x.attr("flags", flags)
		e, v, r := splitEVR(d.EVR)
		x.attr("epoch", e)
		x.attr("ver", v)
		if r != "" {
			x.attr("rel", r)
		}
	}
	if d.Kind == rpmfile.Requires && d.Flags&(rpmfile.SensePrereq|rpmfile.SenseScriptPre|rpmfile.SenseScriptPost) != 0 {
		x.raw(` pre="1"`)
	}
	x.raw("/>\n")
}

// senseName is the comparison of RPMSENSE flags as repodata names it.
func senseName(flags uint32) string {
	switch flags & (rpmfile.SenseLess | rpmfile.SenseGreater | rpmfile.SenseEqual) {
	case rpmfile.SenseLess:
		return "LT"
	case rpmfile.SenseGreater:
		return "GT"
	case rpmfile.SenseEqual:
		return "EQ"
	case rpmfile.SenseLess | rpmfile.SenseEqual:
		return "LE"
	case rpmfile.SenseGreater | rpmfile.SenseEqual:
		return "GE"
	}
	return ""
}

// splitEVR splits [EPOCH:]VERSION[-RELEASE]; the epoch is "0" when none
// is given.
func splitEVR(evr string) (epoch, version, release string) {
	epoch = "0"
	if i := strings.IndexByte(evr, ':'); i >= 0 && strings.Trim(evr[:i], "0123456789") == "" {
		if i > 0 {
			epoch = evr[:i]
		}
		evr = evr[i+1:]
	}
	version, release = evr, ""
	if i := strings.LastIndexByte(evr, '-'); i >= 0 {
		version, release = evr[:i], evr[i+1:]
	}
	return epoch, version, release
}

// primaryDeps are a package's dependencies by kind as primary metadata
// lists them: requires without rpm's own rpmlib() ones, those the
// package's own primary files or provides satisfy, and repeats.
func primaryDeps(p *rpmfile.Package) map[rpmfile.DepKind][]rpmfile.Dep {
	out := map[rpmfile.DepKind][]rpmfile.Dep{}
	type key struct {
		name, flags, evr string
	}
	provided := map[key]bool{}
	seen := map[rpmfile.DepKind]map[key]bool{}
	files := map[string]bool{}
	for _, f := range p.Files {
		files[f.Path] = true
	}
	for _, d := range p.Deps {
		k := key{d.Name, senseName(d.Flags), d.EVR}
		if d.Kind == rpmfile.Provides {
			provided[k] = true
		}
		if d.Kind == rpmfile.Requires {
			if strings.HasPrefix(d.Name, "rpmlib(") || d.Flags&rpmfile.SenseRPMLib != 0 {
				continue
			}
			if files[d.Name] && IsPrimaryFile(d.Name) || provided[k] {
				continue
			}
		}
		if seen[d.Kind] == nil {
			seen[d.Kind] = map[key]bool{}
		}
		if seen[d.Kind][k] {
			continue
		}
		seen[d.Kind][k] = true
		out[d.Kind] = append(out[d.Kind], d)
	}
	return out
}

// IsPrimaryFile says whether primary metadata lists a path among a
// package's files (all of them are in filelists): those in /etc, in a
// bin/ folder, and /usr/lib/sendmail, which dependencies name most.
func IsPrimaryFile(p string) bool {
	return strings.HasPrefix(p, "/etc/") || strings.Contains(p, "bin/") || p == "/usr/lib/sendmail"
}

func writeFilelists(w io.Writer, pkgs []Indexed) error {
	x := &xmlWriter{w: w}
	x.raw(xml.Header)
	x.raw(`<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="` + strconv.Itoa(len(pkgs)) + "\">\n")
	for _, p := range pkgs {
		x.raw(`<package pkgid="` + p.SHA256 + `"`)
		x.attr("name", p.Name)
		x.attr("arch", p.Arch)
		x.raw(">\n")
		x.version("  ", p.Package)
		for _, f := range p.Files {
			x.file("  ", f)
		}
		x.raw("</package>\n")
	}
	x.raw("</filelists>\n")
	return x.err
}
