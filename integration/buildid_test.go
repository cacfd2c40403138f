package integration

import (
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
)

// buildIDSpec is a compiled app as a packager builds it with rpm's
// defaults and flatpak-rpm-macros' prefix: rpmbuild adds build-id links
// for its ELF file under /usr/lib/.build-id (a path rpm fixes, whatever
// the prefix) to the package itself.
const buildIDSpec = `%define _prefix /app
%define _build_id_links compat
Name:           built-c
Version:        1.0
Release:        1
Summary:        A compiled command
License:        MIT
AutoReqProv:    no

%description
A compiled command, with rpm's build-id links.

%build
printf '#include <stdio.h>\nint main(void) { puts("compiled and linked"); return 0; }\n' > main.c
gcc -O2 -g -Wl,--build-id=sha1 -o built-c main.c

%install
mkdir -p %{buildroot}%{_bindir}
install -m 0755 built-c %{buildroot}%{_bindir}/built-c

%files
%{_bindir}/built-c
`

// TestBuildIDLinksOutsideAppAreLeftOut builds an app of a compiled
// package whose rpm carries build-id links outside /app: the build
// succeeds without allow-outside-app, says it leaves them out, the image
// has nothing outside files/, and Flatpak runs the command.
func TestBuildIDLinksOutsideAppAreLeftOut(t *testing.T) {
	repo := t.TempDir()
	buildSpecRPM(t, repo, buildIDSpec)
	createRepo(t, repo)
	yaml := `id: org.example.Compiled
runtime-name: org.example.Platform
runtime-version: "1"
command: built-c
packages:
  - built-c
repos:
  - name: local
    context: local
    path: .
`
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml", contexts: map[string]string{"local": repo}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.log, "/usr/lib/.build-id") {
		t.Errorf("the log does not say the build-id links were left out:\n%s", res.log)
	}
	for _, h := range readImage(t, res.oci, "").entries {
		if name := strings.TrimPrefix(h.Name, "./"); strings.Contains(name, ".build-id") {
			t.Errorf("the image holds %s", h.Name)
		}
	}
	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	fp.ImportOCI(t, res.oci)
	fp.Install(t, harness.RuntimeID)
	fp.Install(t, "org.example.Compiled")
	if out := fp.Run(t, "org.example.Compiled"); out != "compiled and linked\n" {
		t.Errorf("flatpak run printed %q", out)
	}
}
