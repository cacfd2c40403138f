package rpmfile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
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
		t.Skip("no rpmbuild here")
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
	for _, payload := range []string{"w9.gzdio", "w19.zstdio", "w2.xzdio", "w9.bzdio"} {
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
