package metadata

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
)

// exportCandidates are files under files/ named to probe every part of the
// rule.
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
	"share/mime/packages/org.example.Hello.xml",
	"share/mime/packages/org.example.Hello-mime.xml",
	"share/mime/packages/text.xml",
	"share/metainfo/org.example.Hello.metainfo.xml",
	"share/appdata/org.example.Hello.appdata.xml",
	"share/krunner/dbusplugins/org.example.Hello.desktop",
	"share/doc/org.example.Hello.desktop",
	"bin/org.example.Hello.desktop",
}

// TestExportGlobsMatchBuildFinish runs the real build-finish over the
// candidates and checks the globs select exactly what it exports.
func TestExportGlobsMatchBuildFinish(t *testing.T) {
	if _, err := exec.LookPath("flatpak"); err != nil {
		t.Skip("flatpak not installed")
	}
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	for _, f := range append(exportCandidates, "bin/hello") {
		p := filepath.Join(app, "files", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	md := "[Application]\nname=org.example.Hello\nruntime=" + platform + "\nsdk=" + platform + "\n"
	if err := os.WriteFile(filepath.Join(app, "metadata"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("flatpak", "build-finish", "--command=hello", "--own-name=org.mpris.MediaPlayer2.Hello", app)
	cmd.Env = append(os.Environ(), "FLATPAK_USER_DIR="+filepath.Join(dir, "u"), "FLATPAK_SYSTEM_DIR="+filepath.Join(dir, "s"))
	if out, err := cmd.CombinedOutput(); err != nil {
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
	sort.Strings(exported)

	pm, err := patternmatcher.New(ExportGlobs(appID, "org.mpris.MediaPlayer2.Hello"))
	if err != nil {
		t.Fatal(err)
	}
	var matched []string
	for _, f := range exportCandidates {
		ok, err := pm.MatchesOrParentMatches(f)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if strings.HasPrefix(f, "share/appdata/") {
				f = "share/metainfo/" + strings.TrimPrefix(f, "share/appdata/")
			}
			matched = append(matched, f)
		}
	}
	sort.Strings(matched)
	if strings.Join(matched, "\n") != strings.Join(exported, "\n") {
		t.Errorf("globs match\n  %s\nbuild-finish exported\n  %s", strings.Join(matched, "\n  "), strings.Join(exported, "\n  "))
	}
}
