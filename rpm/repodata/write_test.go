package repodata

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// writeSpecs are packages with every kind of dependency, flags and EVR
// repodata records, file and rich dependencies, ghost files, folders,
// primary files (/etc, bin/), and text that needs escaping.
var writeSpecs = map[string]string{
	"alpha": `Name: alpha
Epoch: 2
Version: 1.0
Release: 3.fc41
Summary: Alpha & <friends> "quoted"
License: MIT and (LGPL-2.1-or-later)
URL: https://example.org/alpha?a=1&b=2
BuildArch: noarch
Requires: /bin/sh
Requires: beta >= 1.2-1
Requires: (gamma or delta)
Requires(pre): /usr/bin/true
Requires(post): coreutils
Requires: /app/bin/alpha
Recommends: rec-pkg
Suggests: sug-pkg > 3
Supplements: (alpha and langpacks-de)
Enhances: enh-pkg
Conflicts: old-alpha < 1:2
Obsoletes: alpha-legacy <= 0.9
Provides: alpha-cap = 5
Provides: /app/bin/alpha-alias

%description
Alpha's "description" with <markup> & odd chars,
on two lines.

%install
mkdir -p %{buildroot}/app/bin %{buildroot}/etc/alpha %{buildroot}/app/share/alpha
echo hi > %{buildroot}/app/bin/alpha
echo conf > %{buildroot}/etc/alpha/alpha.conf
echo x > %{buildroot}/app/share/alpha/data
ln -s alpha %{buildroot}/app/bin/alpha-link

%files
/app/bin/alpha
/app/bin/alpha-link
%dir /etc/alpha
%config /etc/alpha/alpha.conf
%ghost /etc/alpha/ghost.log
%dir /app/share/alpha
/app/share/alpha/data
`,
	"beta": `Name: beta
Version: 1.2
Release: 1
Summary: Beta
License: MIT
Requires: alpha-cap
Requires: /app/share/alpha/data

%description
Beta.

%install
mkdir -p %{buildroot}/app/lib
head -c 70000 /dev/urandom > %{buildroot}/app/lib/libbeta.so.1

%files
/app/lib/libbeta.so.1
`,
}

// buildRepoRPMs builds writeSpecs and returns their files.
func buildRepoRPMs(t *testing.T) []string {
	t.Helper()
	for _, tool := range []string{"rpmbuild", "createrepo_c", "dnf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (make test installs it): %v", tool, err)
		}
	}
	top := t.TempDir()
	for name, spec := range writeSpecs {
		file := filepath.Join(top, name+".spec")
		if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top,
			"--define", "_build_id_links none", "--define", "debug_package %{nil}", file).CombinedOutput()
		if err != nil {
			t.Fatalf("rpmbuild %s: %v\n%s", name, err, out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if len(files) != len(writeSpecs) {
		t.Fatalf("rpmbuild made %v", files)
	}
	return files
}

// TestWriteAsCreaterepo: the metadata Write makes of a folder of RPMs
// (one in a folder of its own) says what createrepo_c's says of the same
// files, element by element, and dnf reads the same packages from both.
func TestWriteAsCreaterepo(t *testing.T) {
	files := buildRepoRPMs(t)
	ours, theirs := t.TempDir(), t.TempDir()
	for _, dir := range []string{ours, theirs} {
		for i, f := range files {
			dst := filepath.Join(dir, filepath.Base(f))
			if i == 0 {
				dst = filepath.Join(dir, "Packages", "a", filepath.Base(f))
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			dt, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, dt, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Neither takes source packages, nor files that only look like RPMs.
		os.WriteFile(filepath.Join(dir, "alpha-1.0-3.fc41.src.rpm"), []byte("not read"), 0o644)
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not read"), 0o644)
	}
	ix, err := Index(ours)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(ours, ix); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("createrepo_c", "--quiet", "--no-database", theirs).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	for _, kind := range []string{"primary", "filelists"} {
		got, want := packageElements(t, ours, kind), packageElements(t, theirs, kind)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n%s\ncreaterepo_c's:\n%s", kind, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	query := func(dir string) string {
		out, err := exec.Command("dnf", "-q", "--setopt=reposdir=/dev/null", "--setopt=cachedir="+t.TempDir(),
			"--releasever=1", "--repofrompath=r,file://"+dir, "--repo=r", "repoquery",
			"--qf", "%{name} %{evr} %{arch} %{location}|%{requires}|%{provides}|%{conflicts}|%{obsoletes}|%{recommends}|%{suggests}|%{supplements}|%{enhances}|%{files}").CombinedOutput()
		if err != nil {
			t.Fatalf("dnf repoquery: %v\n%s", err, out)
		}
		return string(out)
	}
	if got, want := query(ours), query(theirs); got != want || !strings.Contains(got, "alpha 2:1.0-3.fc41") {
		t.Errorf("dnf reads:\n%s\nfrom createrepo_c's:\n%s", got, want)
	}
	// The same packages make the same metadata.
	again := t.TempDir()
	if err := Write(again, ix); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(ours, RepomdFile))
	b, _ := os.ReadFile(filepath.Join(again, RepomdFile))
	if !bytes.Equal(a, b) {
		t.Errorf("written twice, repomd.xml differs:\n%s\n%s", a, b)
	}
}

// TestIndexNamesTheFileThatIsNotAnRPM: a damaged package is an error that
// names its file.
func TestIndexNamesTheFileThatIsNotAnRPM(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "x86_64"), 0o755)
	os.WriteFile(filepath.Join(dir, "x86_64", "broken-1-1.x86_64.rpm"), []byte("\xed\xab\xee\xdb garbage"), 0o644)
	_, err := Index(dir)
	if err == nil || !strings.Contains(err.Error(), "x86_64/broken-1-1.x86_64.rpm: ") {
		t.Errorf("a damaged RPM: %v", err)
	}
}

// packageElements are the <package> elements of a repo's metadata of one
// kind, each as a canonical line (attributes sorted, the file's mtime
// left out: createrepo_c records it, Write the build time), sorted.
func packageElements(t *testing.T, dir, kind string) []string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, "repodata", "*-"+kind+".xml.gz"))
	if len(matches) != 1 {
		t.Fatalf("%s: %s metadata: %v", dir, kind, matches)
	}
	f, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(zr)
	var out []string
	var cur strings.Builder
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", matches[0], err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "package" {
				depth = 1
				cur.Reset()
			} else if depth > 0 {
				depth++
			}
			if depth == 0 {
				continue
			}
			var attrs []string
			for _, a := range tok.Attr {
				if tok.Name.Local == "time" && a.Name.Local == "file" {
					continue
				}
				attrs = append(attrs, a.Name.Local+"="+a.Value)
			}
			sort.Strings(attrs)
			cur.WriteString("<" + tok.Name.Local + " " + strings.Join(attrs, " ") + ">")
		case xml.CharData:
			if depth > 0 {
				cur.WriteString(strings.TrimSpace(string(tok)))
			}
		case xml.EndElement:
			if depth == 0 {
				continue
			}
			cur.WriteString("</>")
			if depth--; depth == 0 {
				out = append(out, cur.String())
			}
		}
	}
	slices.Sort(out)
	return out
}
