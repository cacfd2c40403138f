package rpmfile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	rpmutils "github.com/sassoftware/go-rpmutils"
)

const testSpec = `Name: demo
Epoch: 3
Version: 1.2
Release: 4.fc40
Summary: A demo
License: MIT
URL: https://example.org/demo
BuildArch: noarch
AutoReqProv: no
Requires: /bin/sh

%description
Demo.

%install
mkdir -p %{buildroot}/app/bin %{buildroot}/app/share/applications
printf '#!/bin/sh\necho hi\n' > %{buildroot}/app/bin/demo
chmod 0755 %{buildroot}/app/bin/demo
printf '[Desktop Entry]\nName=Demo\nExec=demo\n' > %{buildroot}/app/share/applications/org.example.Demo.desktop
head -c 5 /dev/zero > %{buildroot}/app/share/odd-size
ln %{buildroot}/app/bin/demo %{buildroot}/app/bin/demo-linked
ln %{buildroot}/app/bin/demo %{buildroot}/app/bin/zz-linked

%files
/app/bin/demo
/app/share/applications/org.example.Demo.desktop
/app/share/odd-size
/app/bin/demo-linked
/app/bin/zz-linked
`

// buildRPM makes the demo RPM with the given payload compression.
func buildRPM(t testing.TB, payload string) string {
	t.Helper()
	if _, err := exec.LookPath("rpmbuild"); err != nil {
		t.Fatalf("rpmbuild is needed (make test installs it): %v", err)
	}
	top := t.TempDir()
	spec := filepath.Join(top, "demo.spec")
	if err := os.WriteFile(spec, []byte(testSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top,
		"--define", "_binary_payload "+payload, "--define", "_build_id_links none", spec).CombinedOutput()
	if err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	return filepath.Join(top, "RPMS", "noarch", "demo-1.2-4.fc40.noarch.rpm")
}

func TestReadMatchesRpm(t *testing.T) {
	for _, payload := range []string{"w9.gzdio", "w19.zstdio", "w2.xzdio", "w9.bzdio", "w6.lzdio", "w0.ufdio", "w3T2.zstdio", "w2T2.xzdio"} {
		t.Run(payload, func(t *testing.T) {
			path := buildRPM(t, payload)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, contents, err := Read(f, func(p string) bool { return strings.HasPrefix(p, "/app/") })
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "demo" || p.Epoch != 3 || p.Version != "1.2" || p.Release != "4.fc40" || p.Arch != "noarch" ||
				p.Summary != "A demo" || p.URL != "https://example.org/demo" || p.SourceRPM != "demo-1.2-4.fc40.src.rpm" ||
				!slices.Contains(p.Requires, "/bin/sh") {
				t.Errorf("header read as %+v", p)
			}
			want, err := exec.Command("rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEMODES:octal}\n]", path).Output()
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, f := range p.Files {
				got.WriteString(f.Path + " " + modeOctal(f) + "\n")
			}
			if got.String() != string(want) {
				t.Errorf("files:\n%s\nrpm says:\n%s", got.String(), want)
			}
			for _, linked := range []string{"/app/bin/demo", "/app/bin/demo-linked", "/app/bin/zz-linked"} {
				if string(contents[linked]) != "#!/bin/sh\necho hi\n" {
					t.Errorf("hard link %s: contents %q", linked, contents[linked])
				}
			}
			// Each member of the link group asked for alone still has the contents.
			for _, linked := range []string{"/app/bin/demo", "/app/bin/zz-linked"} {
				if _, err := f.Seek(0, 0); err != nil {
					t.Fatal(err)
				}
				_, one, err := Read(f, func(p string) bool { return p == linked })
				if err != nil || len(one) != 1 || string(one[linked]) != "#!/bin/sh\necho hi\n" {
					t.Errorf("only %s: %q, %v", linked, one, err)
				}
			}
			if len(contents["/app/share/odd-size"]) != 5 ||
				!strings.Contains(string(contents["/app/share/applications/org.example.Demo.desktop"]), "Exec=demo") {
				t.Errorf("contents: %q", contents)
			}
		})
	}
}

func modeOctal(f File) string {
	m := uint64(f.Mode.Perm())
	switch {
	case f.Mode.IsDir():
		m |= 0o040000
	case f.Mode&os.ModeSymlink != 0:
		m |= 0o120000
	default:
		m |= 0o100000
	}
	return strconv.FormatUint(m, 8)
}

func TestReadRefusesNonRPMs(t *testing.T) {
	for _, in := range []string{"", "hello", strings.Repeat("\x00", 200)} {
		if _, _, err := Read(strings.NewReader(in), nil); err == nil {
			t.Errorf("Read(%q) accepted", in)
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, payload := range []string{"w9.gzdio", "w2.xzdio"} {
		dt, err := os.ReadFile(buildRPM(f, payload))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(dt)
	}
	f.Fuzz(func(t *testing.T, dt []byte) {
		p, contents, err := Read(bytes.NewReader(dt), func(string) bool { return true })
		if err == nil && (p == nil || p.Name == "" || contents == nil) {
			t.Errorf("no error and no package: %+v", p)
		}
	})
}

// cpioArchive writes entries the way rpm's cpio.c does: each 4-aligned,
// a stripped entry is "07070X" and the file's index in the header.
type cpioArchive struct{ bytes.Buffer }

func (a *cpioArchive) pad() {
	for a.Len()%4 != 0 {
		a.WriteByte(0)
	}
}

func (a *cpioArchive) stripped(index int, contents string) {
	a.pad()
	fmt.Fprintf(a, "07070X%08x", index)
	a.pad()
	a.WriteString(contents)
}

func (a *cpioArchive) newc(name string, ino, mode, nlink uint32, nameSize int, contents string) {
	a.pad()
	fmt.Fprintf(a, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, len(contents), 0, 0, 0, 0, nameSize, 0)
	a.WriteString(name + "\x00")
	a.pad()
	a.WriteString(contents)
}

func (a *cpioArchive) trailer() { a.newc("TRAILER!!!", 0, 0, 1, 11, "") }

// strippedFixture is a large-file payload (rpm 4.12) and the header's
// file list it refers to.
func strippedFixture() ([]payloadFile, []byte) {
	files := []payloadFile{
		{path: "/app/bin/a", mode: 0o100755, size: 0, link: 7},
		{path: "/app/bin/b", mode: 0o100755, size: 3, link: 7},
		{path: "/app/lib", mode: 0o040755},
		{path: "/app/lib/l", mode: 0o120777, size: 5},
		{path: "/app/big", mode: 0o100644, size: MaxContent + 1},
		{path: "/app/odd", mode: 0o100644, size: 5},
	}
	var a cpioArchive
	a.stripped(0, "")
	a.stripped(1, "hi\n")
	a.stripped(2, "")
	a.stripped(3, "../x1")
	a.stripped(4, strings.Repeat("\x00", MaxContent+1))
	a.stripped(5, "12345")
	a.trailer()
	return files, a.Bytes()
}

func TestReadPayloadStripped(t *testing.T) {
	files, archive := strippedFixture()
	got, err := readPayload(bytes.NewReader(archive), files, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/app/bin/a": "hi\n", "/app/bin/b": "hi\n", "/app/odd": "12345"}
	if len(got) != len(want) {
		t.Errorf("read %d files, want %d: %q", len(got), len(want), got)
	}
	for p, w := range want {
		if string(got[p]) != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
}

func TestPayloadFilesFromTheHeader(t *testing.T) {
	f, err := os.Open(buildRPM(t, "w0.ufdio"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdrs, _, err := readHeaders(f)
	if err != nil {
		t.Fatal(err)
	}
	rpm, err := rpmutils.ReadRpm(bytes.NewReader(hdrs))
	if err != nil {
		t.Fatal(err)
	}
	infos, err := rpm.Header.GetFiles()
	if err != nil {
		t.Fatal(err)
	}
	// The header lists the group sorted: demo, demo-linked, zz-linked;
	// the last one carries the contents.
	sizes := map[string]int64{}
	links := map[string]bool{}
	for _, pf := range payloadFiles(infos) {
		sizes[pf.path], links[pf.path] = pf.size, pf.link != 0
	}
	if sizes["/app/bin/demo"] != 0 || sizes["/app/bin/demo-linked"] != 0 || sizes["/app/bin/zz-linked"] != 18 ||
		!links["/app/bin/demo"] || !links["/app/bin/zz-linked"] || links["/app/share/odd-size"] || sizes["/app/share/odd-size"] != 5 {
		t.Errorf("sizes %v, links %v", sizes, links)
	}
}

func TestReadPayloadRefusesWhatItCannotBe(t *testing.T) {
	files, archive := strippedFixture()
	var huge cpioArchive
	huge.newc("x", 1, 0o100644, 1, 0x7fffffff, "")
	var badIndex cpioArchive
	badIndex.stripped(len(files), "")
	for name, in := range map[string][]byte{
		"truncated":        archive[:len(archive)-20],
		"no trailer":       archive[:len(archive)-124],
		"name of 2 GiB":    huge.Bytes(),
		"index past files": badIndex.Bytes(),
		"not cpio":         []byte("hello, world"),
	} {
		if _, err := readPayload(bytes.NewReader(in), files, func(string) bool { return true }); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// FuzzReadPayload fuzzes the cpio reader alone: FuzzRead's inputs rarely
// get past the header's digests.
func FuzzReadPayload(f *testing.F) {
	files, archive := strippedFixture()
	var small cpioArchive
	small.newc("./app/a", 1, 0o100644, 2, 8, "")
	small.newc("./app/b", 1, 0o100644, 2, 8, "abc")
	small.newc("./app/c", 2, 0o120777, 1, 8, "a")
	small.trailer()
	f.Add(small.Bytes())
	f.Add(archive[len(archive)-300:])
	f.Fuzz(func(t *testing.T, dt []byte) {
		got, err := readPayload(bytes.NewReader(dt), files, func(string) bool { return true })
		if err == nil && got == nil {
			t.Error("no error and no contents")
		}
	})
}

// TestReadMultiBlockPayloads: rpm's threaded compressors (T in the
// payload's macro) cut a large payload into blocks (xz) or jobs (zstd);
// a file after 12 MiB of random bytes reads back whole.
func TestReadMultiBlockPayloads(t *testing.T) {
	if _, err := exec.LookPath("rpmbuild"); err != nil {
		t.Fatalf("rpmbuild is needed (make test installs it): %v", err)
	}
	const spec = `Name: big
Version: 1
Release: 1
Summary: big
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
big
%install
mkdir -p %{buildroot}/app/share
head -c 12582912 /dev/urandom > %{buildroot}/app/share/a-random
printf 'after the blocks\n' > %{buildroot}/app/share/b-last
%files
/app/share/a-random
/app/share/b-last
`
	for _, payload := range []string{"w2T2.xzdio", "w3T2.zstdio"} {
		t.Run(payload, func(t *testing.T) {
			top := t.TempDir()
			if err := os.WriteFile(filepath.Join(top, "big.spec"), []byte(spec), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top,
				"--define", "_binary_payload "+payload, "--define", "_build_id_links none", filepath.Join(top, "big.spec")).CombinedOutput()
			if err != nil {
				t.Fatalf("rpmbuild: %v\n%s", err, out)
			}
			f, err := os.Open(filepath.Join(top, "RPMS", "noarch", "big-1-1.noarch.rpm"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, contents, err := Read(f, func(p string) bool { return true })
			if err != nil {
				t.Fatal(err)
			}
			if len(contents["/app/share/a-random"]) != 12<<20 || string(contents["/app/share/b-last"]) != "after the blocks\n" {
				t.Errorf("read %d random bytes and %q", len(contents["/app/share/a-random"]), contents["/app/share/b-last"])
			}
		})
	}
}
