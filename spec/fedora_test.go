package spec_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// TestFedoraCurrentRuntimeAndSDKFilesParse: files shaped like the runtime
// and SDK definitions Fedora writes today parse, with their globs,
// extension points, --env values and top-level platforms.
func TestFedoraCurrentRuntimeAndSDKFilesParse(t *testing.T) {
	data, err := os.ReadFile("testdata/fedora-sdk.container.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse("container.yaml", data, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"glibc-langpack-*", "hunspell-??", "hyphen-???", "langpacks-core-[a-z][a-z]"} {
		if !slices.Contains(s.PackageNames("x86_64"), want) {
			t.Errorf("packages lack the glob %q: %q", want, s.PackageNames("x86_64"))
		}
	}
	if slices.Contains(s.PackageNames("ppc64le"), "valgrind") || !slices.Contains(s.PackageNames("aarch64"), "valgrind") {
		t.Errorf("platforms.only of valgrind not honoured")
	}
	if s.Platforms == nil || !slices.Equal(s.Platforms.Not, []string{"s390x"}) {
		t.Errorf("top-level platforms = %+v", s.Platforms)
	}
	if r, ok := s.Source.Range("platforms", "not"); !ok || r.Start.Line != 63 {
		t.Errorf("platforms.not at %v, %v", r, ok)
	}
	if !slices.Contains(s.FinishArgs, `--env=LUA_PATH=/app/share/lua/5.4/?.lua;/app/share/lua/5.4/?/init.lua;;`) {
		t.Errorf("finish-args: %q", s.FinishArgs)
	}
	if gl := s.AddExtensions["org.freedesktop.Platform.GL"]; gl.Directory != "lib64/GL" || gl.Versions != "25.08;25.08-extra;1.4" {
		t.Errorf("GL extension: %+v", gl)
	}
}

// TestExtraDataAndMimeKeysOfAnApp: an app with extra-data (as Fedora's
// Chrome) and the rename-mime keys.
func TestExtraDataAndMimeKeysOfAnApp(t *testing.T) {
	data, err := os.ReadFile("testdata/chrome.container.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse("container.yaml", data, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ExtraData) != 2 || s.ExtraData[0].Size != 112633480 || s.ExtraData[0].InstalledSize != 361771008 ||
		!slices.Equal(s.ExtraData[0].OnlyArches, []string{"x86_64"}) || !slices.Equal(s.ExtraData[1].OnlyArches, []string{"aarch64"}) {
		t.Errorf("extra-data: %+v", s.ExtraData)
	}
	if s.RenameMimeFile != "chrome-mime.xml" || !slices.Equal(s.RenameMimeIcons, []string{"application-x-chrome-doc"}) {
		t.Errorf("rename-mime: %q %q", s.RenameMimeFile, s.RenameMimeIcons)
	}
}

// TestKeysOfTheOtherKindAreErrors: every error names file:line:col and
// says what to do.
func TestKeysOfTheOtherKindAreErrors(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"runtime keys in an app", "id: org.fedoraproject.Platform\npackages: [glibc]\nsdk: org.fedoraproject.Sdk\n",
			"3:1: sdk: only a runtime names its SDK, and this file builds an app: add build-runtime: true to build the runtime org.fedoraproject.Platform"},
		{"module-era runtime", "compose:\n  modules: [flatpak-runtime:f29]\nflatpak:\n  id: org.fedoraproject.Platform\n  runtime: org.fedoraproject.Platform\n  packages: [glibc]\n",
			"5:3: runtime: only a runtime names its runtime, and this file builds an app: add build-runtime: true to build the runtime org.fedoraproject.Platform from the packages listed under packages (the modules of compose: at line 1 are not built)"},
		{"flatpak-builder's runtime in an app", "id: org.example.App\npackages: [a]\nruntime: org.gnome.Platform\n",
			"3:1: runtime: only a runtime names its runtime, and this file builds an app: add build-runtime: true to build the runtime org.example.App; or, for the runtime this app runs on, write runtime-name"},
		{"flatpak-builder's sdk in an app", "id: org.example.App\npackages: [a]\nsdk: org.gnome.Sdk\n",
			"an app installed from RPMs needs no SDK (flatpak-builder's sdk builds sources)"},
		{"flatpak-builder's app-id", "app-id: org.example.App\npackages: [a]\n", `1:1: unknown key "app-id": flatpak-builder's spelling; here the key is id`},
		{"flatpak-builder's modules", "id: org.example.App\npackages: [a]\nmodules: []\n", `3:1: unknown key "modules": flatpak-builder builds modules from source; this file installs RPMs: list them under packages`},
		{"a key cut short", "id: org.example.App\npackages: [a]\nrename-appdata: a.xml\n", `3:1: unknown key "rename-appdata"; did you mean "rename-appdata-file"?`},
		{"command of a runtime", "id: org.example.Platform\nbuild-runtime: true\npackages: [a]\ncommand: sh\n",
			"4:1: command: only an app has it, and this file builds the runtime org.example.Platform (build-runtime: true)"},
		{"extra-data of a runtime", "id: org.example.Platform\nbuild-runtime: true\npackages: [a]\nextra-data:\n- url: https://x.org/a\n  sha256: " + strings.Repeat("a", 64) + "\n  size: 1\n",
			"4:1: extra-data: only an app has it"},
		{"runtime and extension", "id: org.example.Platform.GL.x\nbuild-runtime: true\nbuild-extension: true\npackages: [a]\n",
			"3:18: build-extension: a file builds a runtime (build-runtime) or an extension (build-extension), not both"},
		{"bad extra-data", "id: org.example.App\npackages: [a]\nextra-data:\n- url: ftp://x.org/a\n  sha256: abc\n  size: 0\n  only-arches: [x86]\n",
			"4:8: extra-data[0].url: \"ftp://x.org/a\" must be an http or https URL"},
		{"bad glob", "id: org.example.App\npackages: [\"a b*\"]\n",
			"2:12: packages[0]: \"a b*\" is not an RPM package name or a dnf glob of one"},
		{"platform typo", "flatpak:\n  id: org.example.App\n  packages: [a]\nplatforms:\n  only: [x86-64]\n",
			"5:10: platforms.only: unknown architecture \"x86-64\""},
		{"platforms twice", "flatpak:\n  id: org.example.App\n  packages: [a]\n  platforms: {only: x86_64}\nplatforms:\n  only: [x86_64]\n",
			"5:1: platforms: given both at the top level and in flatpak:; keep one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := spec.Parse("f.yaml", []byte(c.yaml), spec.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}
