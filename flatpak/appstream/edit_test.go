package appstream

import "testing"

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
