package appstream

import (
	"strings"
	"testing"
)

func TestRenameDesktopFileAndLicenseKeepTheRest(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<!-- Copyright -->
<component type="desktop-application">
  <id>viewer.desktop</id>
  <launchable type="desktop-id">viewer.desktop</launchable>
  <launchable type="url">viewer.desktop</launchable>
  <project_license>GPL-2.0+</project_license>
  <provides><id>other</id></provides>
  <name xml:lang="de">Betrachter &amp; Co</name>
</component>
`
	out, err := RenameDesktopFile([]byte(in), "viewer.desktop", "org.example.Viewer")
	if err != nil {
		t.Fatal(err)
	}
	out, err = SetLicense(out, "MIT & <Apache-2.0>")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<!-- Copyright -->
<component type="desktop-application">
  <id>org.example.Viewer.desktop</id>
  <launchable type="desktop-id">org.example.Viewer.desktop</launchable>
  <launchable type="url">viewer.desktop</launchable>
  <project_license>MIT &amp; &lt;Apache-2.0&gt;</project_license>
  <provides><id>other</id></provides>
  <name xml:lang="de">Betrachter &amp; Co</name>
</component>
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// An id without .desktop becomes the app ID.
	out, err = RenameDesktopFile([]byte("<component><id>viewer</id></component>"), "viewer.desktop", "org.example.Viewer")
	if err != nil || string(out) != "<component><id>org.example.Viewer</id></component>" {
		t.Errorf("got %q, %v", out, err)
	}
}

func TestSetTextRefusesBrokenXML(t *testing.T) {
	if _, _, err := SetText([]byte("<a><b>x</a>"), Element{Name: "b"}, "", "y"); err == nil {
		t.Error("broken XML edited")
	}
}

func TestMigrateAsFlatpakBuildBundle(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<!-- composed -->
<components version="0.16" origin="org.gnome.GHex">
  <component type="desktop-application">
    <id>org.gnome.GHex.desktop</id>
    <name xml:lang="de">Hex-Editor &amp; mehr</name>
    <summary>Inspect and edit binary files</summary>
    <bundle type="limba">old</bundle>
    <icon type="cached" width="64" height="64">org.gnome.GHex.png</icon>
    <launchable type="desktop-id">org.gnome.GHex.desktop</launchable>
  </component>
  <component type="addon">
    <id>org.other.Plugin</id>
  </component>
</components>
`
	doc, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	out, ok := Migrate(doc, Bundle{Ref: "app/org.gnome.GHex/x86_64/stable", ID: "org.gnome.GHex",
		Runtime: "org.example.GtkPlatform/x86_64/1", SDK: "org.example.GtkPlatform/x86_64/1", Tags: []string{"beta", "x"}})
	if !ok {
		t.Fatal("no component migrated")
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<components version="0.8" origin="flatpak">
  <component type="desktop-application">
    <id>org.gnome.GHex.desktop</id>
    <name xml:lang="de">Hex-Editor &amp; mehr</name>
    <summary>Inspect and edit binary files</summary>
    
    <icon type="cached" width="64" height="64">org.gnome.GHex.png</icon>
    <launchable type="desktop-id">org.gnome.GHex.desktop</launchable>
    <bundle type="flatpak" runtime="org.example.GtkPlatform/x86_64/1" sdk="org.example.GtkPlatform/x86_64/1">app/org.gnome.GHex/x86_64/stable</bundle>
    <metadata>
       <value key="X-Flatpak-Tags">beta,x</value>
    </metadata>
  </component>
</components>`
	if got := string(out.Bytes()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, ok := Migrate(doc, Bundle{Ref: "app/org.other.App/x86_64/stable", ID: "org.other.App"}); ok {
		t.Error("a catalog without the app's component migrated")
	}
}
