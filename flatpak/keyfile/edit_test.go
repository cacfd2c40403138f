package keyfile

import "testing"

func TestLinesEditKeepEverythingElse(t *testing.T) {
	in := "# a comment\n[Desktop Entry]\nName=Viewer\nName[de] = Betrachter\nIcon=viewer\r\nExec=viewer %f\n\n[Desktop Action New]\nName=New window\nIcon=viewer"
	l := ParseLines([]byte(in))
	for _, k := range l.Keys("Desktop Entry") {
		if k == "Name" || k == "Name[de]" {
			v, _ := l.Value("Desktop Entry", k)
			l.Set("Desktop Entry", k, EscapeString("Pre "+Unescape(v)+" Post"))
		}
	}
	l.Set("Desktop Entry", "Icon", "org.example.Viewer")
	l.Set("Desktop Entry", "X-Flatpak-RenamedFrom", "viewer.desktop;")
	l.Set("Other", "Key", "v")
	want := "# a comment\n[Desktop Entry]\nName=Pre Viewer Post\nName[de] = Pre Betrachter Post\nIcon=org.example.Viewer\r\nExec=viewer %f\nX-Flatpak-RenamedFrom=viewer.desktop;\n\n[Desktop Action New]\nName=New window\nIcon=viewer\n\n[Other]\nKey=v\n"
	if got := string(l.Bytes()); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if v, ok := l.Value("Desktop Action New", "Icon"); !ok || v != "viewer" {
		t.Errorf("Icon of the action = %q, %v", v, ok)
	}
}
