package appstream

import (
	"strings"
	"testing"
)

func TestRenameIDAsFlatpakBuilder(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<!-- Copyright -->
<component type="desktop-application">
  <id>viewer.desktop</id>
  <launchable type="desktop-id">viewer.desktop</launchable>
  <name xml:lang="de">Betrachter &amp; Co</name>
</component>
`
	out, err := RenameID([]byte(in), "org.example.Viewer", "viewer.desktop")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>org.example.Viewer</id>
  <launchable type="desktop-id">org.example.Viewer.desktop</launchable>
  <name xml:lang="de">Betrachter &amp; Co</name>
<provides><id>viewer.desktop</id></provides></component>`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	same := `<component><id>org.example.Viewer</id></component>`
	if out, err := RenameID([]byte(same), "org.example.Viewer", ""); err != nil || strings.Contains(string(out), "provides") {
		t.Errorf("an id that is the app's: %s, %v", out, err)
	}
}

func TestSetLicenseSetsOrAdds(t *testing.T) {
	in := "<components>\n<component>\n  <project_license>old</project_license>\n</component>\n<component>\n  <id>b</id>\n</component>\n</components>\n"
	out, err := SetLicense([]byte(in), "MIT & <x>")
	if err != nil {
		t.Fatal(err)
	}
	want := "<components>\n<component>\n  <project_license>MIT &amp; &lt;x&gt;</project_license>\n</component>\n<component>\n  <id>b</id>\n<project_license>MIT &amp; &lt;x&gt;</project_license>\n</component>\n</components>\n"
	if string(out) != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
}

func TestRenameMimeIcons(t *testing.T) {
	in := `<?xml version="1.0"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="application/x-foo"><icon name="foo-doc"/></mime-type>
  <mime-type type="application/x-bar"><generic-icon name="bar"/></mime-type>
  <mime-type type="application/x-baz"><comment>Baz</comment></mime-type>
</mime-info>`
	out, err := RenameMimeIcons([]byte(in), "org.example.App", []string{"foo-doc", "application-x-baz"})
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{`<icon name="org.example.App.foo-doc"/>`, `<generic-icon name="bar"/>`, `<comment>Baz</comment><icon name="org.example.App.application-x-baz"/>`} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s:\n%s", want, got)
		}
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
