package keyfile

import "testing"

func TestEditValuesKeepsEverythingElse(t *testing.T) {
	in := "# a comment\n[Desktop Entry]\nName=Viewer\nName[de]= Betrachter\nIcon=viewer\r\nExec=viewer %f\n\n[Desktop Action New]\nName=New window\nIcon=viewer"
	got := string(EditValues([]byte(in), "Desktop Entry", func(key, value string) string {
		switch {
		case key == "Icon" && Unescape(value) == "viewer":
			return "org.example.Viewer"
		case key == "Name" || key == "Name[de]":
			return "Pre " + value + " Post"
		}
		return value
	}))
	want := "# a comment\n[Desktop Entry]\nName=Pre Viewer Post\nName[de]= Pre Betrachter Post\nIcon=org.example.Viewer\r\nExec=viewer %f\n\n[Desktop Action New]\nName=New window\nIcon=viewer"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
