package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/metadata"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/moby/patternmatcher"
)

// exportCandidates are files under files/ named to probe every part of
// build-finish's export rule.
var exportCandidates = []string{
	"share/applications/org.example.Hello.desktop",
	"share/applications/org.example.Hello.Extra.desktop",
	"share/applications/org.example.Hello-settings.desktop",
	"share/applications/org.example.HelloWorld.desktop",
	"share/applications/org.example.Hello_x.desktop",
	"share/applications/org.example.Hello.txt",
	"share/applications/other.desktop",
	"share/applications/sub/org.example.Hello.desktop",
	"share/icons/hicolor/48x48/apps/org.example.Hello.png",
	"share/icons/hicolor/scalable/apps/org.example.Hello.svg",
	"share/icons/hicolor/scalable/apps/org.example.Hello-symbolic.svg",
	"share/icons/hicolor/scalable/apps/org.example.Hello.svgz",
	"share/icons/hicolor/32x32/apps/org.example.Hello.ico",
	"share/icons/hicolor/32x32/apps/org.example.Hello.xpm",
	"share/icons/hicolor/32x32/apps/org.example.Hello2.png",
	"share/icons/hicolor/32x32/apps/foo.png",
	"share/icons/org.example.Hello/foo.png",
	"share/dbus-1/services/org.example.Hello.service",
	"share/dbus-1/services/org.example.Hello.Helper.service",
	"share/dbus-1/services/org.example.Hello-x.service",
	"share/dbus-1/services/org.mpris.MediaPlayer2.Hello.service",
	"share/dbus-1/services/org.freedesktop.Other.service",
	"share/gnome-shell/search-providers/org.example.Hello.search-provider.ini",
	"share/gnome-shell/search-providers/org.example.Hello.ini",
	"share/krunner/dbusplugins/org.example.Hello.desktop",
	"share/krunner/dbusplugins/org.example.Hello.txt",
	"share/krunner/dbusplugins/other.desktop",
	"share/mime/packages/org.example.Hello.xml",
	"share/mime/packages/org.example.Hello-mime.xml",
	"share/mime/packages/text.xml",
	"share/metainfo/org.example.Hello.metainfo.xml",
	"share/metainfo/releases/org.example.Hello.releases.xml",
	"share/appdata/org.example.Hello.appdata.xml",
	"share/doc/org.example.Hello.desktop",
	"bin/org.example.Hello.desktop",
}

// TestExportsAsBuildFinishWrites runs the build-finish of flatpak 1.14 and
// of 1.18 over the candidates and checks that metadata.ExportGlobs select
// exactly what each exports: all of them for 1.18, and for 1.14 all but
// the directories its build-finish does not know (krunner's, 1.16's).
func TestExportsAsBuildFinishWrites(t *testing.T) {
	for name, fp := range map[string]*harness.FlatpakEnv{"1.14": harness.Flatpak(t), "1.18": harness.NewerFlatpak(t)} {
		t.Run(name, func(t *testing.T) {
			version := strings.TrimPrefix(fp.Version(t), "Flatpak ")
			if !strings.HasPrefix(version, name+".") {
				t.Fatalf("flatpak %s, expected %s", version, name)
			}
			app := filepath.Join(t.TempDir(), "app")
			for _, f := range append(slices.Clone(exportCandidates), "bin/hello") {
				p := filepath.Join(app, "files", f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			md := "[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n"
			if err := os.WriteFile(filepath.Join(app, "metadata"), []byte(md), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := fp.Command("build-finish", "--command=hello", "--own-name=org.mpris.MediaPlayer2.Hello", app); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var exported []string
			_ = filepath.Walk(filepath.Join(app, "export"), func(p string, info os.FileInfo, err error) error {
				if err == nil && info.Mode().IsRegular() {
					rel, _ := filepath.Rel(filepath.Join(app, "export"), p)
					exported = append(exported, rel)
				}
				return nil
			})
			slices.Sort(exported)

			pm, err := patternmatcher.New(metadata.ExportGlobs("org.example.Hello", "org.mpris.MediaPlayer2.Hello"))
			if err != nil {
				t.Fatal(err)
			}
			var matched []string
			for _, f := range exportCandidates {
				ok, err := pm.MatchesOrParentMatches(f)
				if err != nil {
					t.Fatal(err)
				}
				if !ok || !exportedBy(version, f) {
					continue
				}
				if rest, ok := strings.CutPrefix(f, "share/appdata/"); ok {
					f = "share/metainfo/" + rest
				}
				matched = append(matched, f)
			}
			slices.Sort(matched)
			if !slices.Equal(matched, exported) {
				t.Errorf("globs match\n  %s\nflatpak %s build-finish exported\n  %s", strings.Join(matched, "\n  "), version, strings.Join(exported, "\n  "))
			}
		})
	}
}

// exportedBy says whether flatpak VERSION's build-finish exports from the
// ExportDirs entry holding f (its Since).
func exportedBy(version, f string) bool {
	for _, d := range metadata.ExportDirs {
		if strings.HasPrefix(f, d.Dir+"/") {
			return d.Since == "" || !versionLess(version, d.Since)
		}
	}
	return true
}

// versionLess compares dotted decimal versions ("1.14.6" < "1.16").
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}
