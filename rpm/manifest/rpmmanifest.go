package manifest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

// Label is the image label that holds the encoded manifest.
const Label = "org.flatpak-frontend.rpms"

// Version is the format version Encode writes.
const Version = "v1"

// Origin says where a package in an image comes from.
type Origin string

const (
	// App: installed into /app, part of the image's own files.
	App Origin = "a"
	// Runtime: provided by the runtime.
	Runtime Origin = "r"
)

func (o Origin) String() string {
	switch o {
	case App:
		return "bundled"
	case Runtime:
		return "runtime"
	}
	return string(o)
}

// Package is one RPM of an image and where it comes from. SourceRPM is ""
// for none.
type Package struct {
	rpmver.NEVRA
	SourceRPM string
	Origin    Origin
}

// SourceName is the name of the source package, "" if unknown.
func (p Package) SourceName() string {
	s, ok := strings.CutSuffix(p.SourceRPM, ".src.rpm")
	if !ok {
		s, ok = strings.CutSuffix(p.SourceRPM, ".nosrc.rpm")
	}
	if !ok {
		return ""
	}
	// NAME-VERSION-RELEASE: neither version nor release holds a '-'.
	for range 2 {
		i := strings.LastIndexByte(s, '-')
		if i <= 0 {
			return ""
		}
		s = s[:i]
	}
	return s
}

func compare(a, b Package) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Arch, b.Arch),
		strings.Compare(string(a.Origin), string(b.Origin)), strings.Compare(a.EVR().String(), b.EVR().String()))
}

// Sort puts packages in the order Encode writes them.
func Sort(pkgs []Package) { slices.SortFunc(pkgs, compare) }

// Encode writes the label value of pkgs.
func Encode(pkgs []Package) (string, error) {
	pkgs = slices.Clone(pkgs)
	Sort(pkgs)
	var b strings.Builder
	b.WriteString(Version)
	for _, p := range pkgs {
		if err := p.check(); err != nil {
			return "", err
		}
		b.WriteString("\n")
		b.WriteString(string(p.Origin) + " " + p.Name + " " + p.EVR().String() + "." + p.Arch + " " + encodeSource(p))
	}
	return b.String(), nil
}

func (p Package) check() error {
	if p.Origin != App && p.Origin != Runtime {
		return fmt.Errorf("package %s: origin %q is neither %q nor %q", p.Name, p.Origin, App, Runtime)
	}
	if p.Epoch < 0 {
		return fmt.Errorf("package %s: negative epoch %d", p.Name, p.Epoch)
	}
	for _, f := range []struct{ name, v, bad string }{
		{"name", p.Name, " \t\n:"},
		{"version", p.Version, " \t\n-:"},
		{"release", p.Release, " \t\n-"},
		{"arch", p.Arch, " \t\n.-"},
		{"source RPM", p.SourceRPM, " \t\n"},
	} {
		if f.v == "" && f.name != "source RPM" {
			return fmt.Errorf("package %q: empty %s", p.Name, f.name)
		}
		if strings.ContainsAny(f.v, f.bad) {
			return fmt.Errorf("package %q: %s %q holds one of %q", p.Name, f.name, f.v, f.bad)
		}
	}
	if strings.HasPrefix(p.SourceRPM, "~") || p.SourceRPM == "=" || p.SourceRPM == "-" {
		return fmt.Errorf("package %s: source RPM %q cannot be told from the format's shorthands", p.Name, p.SourceRPM)
	}
	return nil
}

func encodeSource(p Package) string {
	vr := "-" + p.Version + "-" + p.Release + ".src.rpm"
	switch {
	case p.SourceRPM == "":
		return "-"
	case p.SourceRPM == p.Name+vr:
		return "="
	case strings.HasSuffix(p.SourceRPM, vr) && len(p.SourceRPM) > len(vr):
		return "~" + strings.TrimSuffix(p.SourceRPM, vr)
	}
	return p.SourceRPM
}

// Decode reads a label value.
func Decode(s string) ([]Package, error) {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if lines[0] != Version {
		if strings.HasPrefix(lines[0], "v") {
			return nil, fmt.Errorf("%s: format %q is not one this version knows (%s)", Label, lines[0], Version)
		}
		return nil, fmt.Errorf("%s: does not start with a format version line (%s)", Label, Version)
	}
	var out []Package
	for i, line := range lines[1:] {
		p, err := decodeLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", Label, i+2, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func decodeLine(line string) (Package, error) {
	f := strings.Split(line, " ")
	if len(f) != 4 {
		return Package{}, fmt.Errorf("want 4 fields (ORIGIN NAME EVR.ARCH SOURCE), have %d: %q", len(f), line)
	}
	p := Package{Origin: Origin(f[0]), NEVRA: rpmver.NEVRA{Name: f[1]}}
	evra := f[2]
	i := strings.LastIndexByte(evra, '.')
	if i < 0 {
		return p, fmt.Errorf("%s: no .ARCH in %q", p.Name, evra)
	}
	p.Arch = evra[i+1:]
	evr := evra[:i]
	if e, rest, ok := strings.Cut(evr, ":"); ok {
		n, err := strconv.Atoi(e)
		if err != nil || n < 0 {
			return p, fmt.Errorf("%s: bad epoch %q", p.Name, e)
		}
		p.Epoch, evr = n, rest
	}
	j := strings.LastIndexByte(evr, '-')
	if j < 0 {
		return p, fmt.Errorf("%s: no -RELEASE in %q", p.Name, f[2])
	}
	p.Version, p.Release = evr[:j], evr[j+1:]
	switch src := f[3]; {
	case src == "-":
	case src == "=":
		p.SourceRPM = p.Name + "-" + p.Version + "-" + p.Release + ".src.rpm"
	case strings.HasPrefix(src, "~"):
		p.SourceRPM = src[1:] + "-" + p.Version + "-" + p.Release + ".src.rpm"
	default:
		p.SourceRPM = src
	}
	return p, p.check()
}
