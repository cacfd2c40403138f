package keyfile

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeLikeGLib(t *testing.T) {
	tests := []struct{ in, str, list string }{
		{"plain", "plain", "plain"},
		{"a\nb", `a\nb`, `a\nb`},
		{"a\rb", `a\rb`, `a\rb`},
		{`a\b`, `a\\b`, `a\\b`},
		{"  lead", `\s\slead`, `\s\slead`},
		{"\tlead", `\tlead`, `\tlead`},
		{"mid dle ", "mid dle ", "mid dle "},
		{"a\tb", "a\tb", "a\tb"},
		{"a;b", "a;b", `a\;b`},
		{"a; b", "a; b", `a\;\sb`}, // a space after an escaped ';' is leading again
		{`\ x`, `\\ x`, `\\ x`},    // a backslash ends the leading run
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := EscapeString(tt.in); got != tt.str {
			t.Errorf("EscapeString(%q) = %q, want %q", tt.in, got, tt.str)
		}
		if got := EscapeListElement(tt.in); got != tt.list {
			t.Errorf("EscapeListElement(%q) = %q, want %q", tt.in, got, tt.list)
		}
	}
}

func TestOrderAndLayout(t *testing.T) {
	f := New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetString("Application", "name", "org.example.App"))
	must(f.SetString("Application", "runtime", "x"))
	must(f.SetStringList("Context", "shared", []string{"network", "ipc"}))
	must(f.SetString("Environment", "A", "1"))
	must(f.SetString("Application", "runtime", "y")) // replaced in place
	must(f.SetInteger("ExtensionOf", "priority", -3))
	f.RemoveGroup("Environment")
	must(f.SetString("Environment", "B", "2")) // moves to the end
	f.RemoveKey("Context", "nothing")
	f.RemoveKey("Nothing", "nothing")
	must(f.SetStringList("Empty", "list", nil))
	want := "[Application]\nname=org.example.App\nruntime=y\n\n[Context]\nshared=network;ipc;\n\n[ExtensionOf]\npriority=-3\n\n[Environment]\nB=2\n\n[Empty]\nlist=\n"
	if got := string(f.Bytes()); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if got := string(New().Bytes()); got != "" {
		t.Errorf("empty file: %q", got)
	}
}

func TestEmptyGroupSeparation(t *testing.T) {
	// g_key_file_to_data adds an empty line after a group without keys too.
	f := New()
	_ = f.SetString("A", "k", "v")
	_ = f.SetString("B", "k", "v")
	f.RemoveKey("B", "k")
	_ = f.SetString("C", "k", "v")
	if got, want := string(f.Bytes()), "[A]\nk=v\n\n[B]\n\n[C]\nk=v\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestInvalidNames(t *testing.T) {
	f := New()
	bad := []struct{ group, key, value string }{
		{"", "k", "v"}, {"a[b", "k", "v"}, {"a]b", "k", "v"}, {"a\nb", "k", "v"},
		{"g", "", "v"}, {"g", "a=b", "v"}, {"g", "a[b", "v"}, {"g", "a]", "v"}, {"g", " a", "v"}, {"g", "a ", "v"}, {"g", "a\nb", "v"},
		{"g", "k", "a\x00b"}, {"g", "k", "\xff"}, {"\xff", "k", "v"},
	}
	for _, b := range bad {
		if err := f.SetString(b.group, b.key, b.value); err == nil {
			t.Errorf("SetString(%q, %q, %q) accepted", b.group, b.key, b.value)
		}
	}
	if err := f.SetValue("g", "k", "a\nb"); err == nil {
		t.Error("raw value with a newline accepted")
	}
	if len(f.Groups()) != 0 {
		t.Errorf("groups created by failed sets: %q", f.Groups())
	}
	if err := f.SetString("g", "a b", "v"); err != nil {
		t.Errorf("GLib accepts inner spaces in keys: %v", err)
	}
}

func TestParse(t *testing.T) {
	f, err := Parse([]byte("# comment\n[Application]\nname = org.example.App\nName[de]=x\n\n[Context]\nshared=network;ipc;\n[Application]\ncommand=\\sfoo\\nbar\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Groups(); !reflect.DeepEqual(got, []string{"Application", "Context"}) {
		t.Errorf("groups %q", got)
	}
	if s, _ := f.String("Application", "name"); s != "org.example.App" {
		t.Errorf("name %q", s)
	}
	if s, _ := f.String("Application", "command"); s != " foo\nbar" {
		t.Errorf("command %q", s)
	}
	if l, _ := f.StringList("Context", "shared"); !reflect.DeepEqual(l, []string{"network", "ipc"}) {
		t.Errorf("shared %q", l)
	}
	for _, bad := range []string{"k=v\n", "[A\n", "[A]\nnovalue\n", "[A]\n=v\n", "[A]\nk=\\x\n", "[A]\nk=a\\\n"} {
		if f, err := Parse([]byte(bad)); err == nil {
			if _, err := f.String("A", "k"); err == nil {
				t.Errorf("Parse(%q) accepted", bad)
			}
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("Group", "key", " lead;ing\\ \n\t\r", "a;b")
	f.Add("Session Bus Policy", "org.example.*", "talk", "")
	f.Fuzz(func(t *testing.T, group, key, value, list string) {
		kf := New()
		if err := kf.SetString(group, key, value); err != nil {
			// Only what GLib cannot hold is refused.
			if ValidGroupName(group) == nil && ValidKeyName(key) == nil && utf8.ValidString(value) && !strings.Contains(value, "\x00") {
				t.Fatalf("SetString(%q, %q, %q): %v", group, key, value, err)
			}
			return
		}
		elems := strings.Split(list, ",")
		if err := kf.SetStringList(group, key+"s", elems); err != nil {
			if ValidKeyName(key+"s") == nil && utf8.ValidString(list) && !strings.Contains(list, "\x00") {
				t.Fatalf("SetStringList: %v", err)
			}
			return
		}
		back, err := Parse(kf.Bytes())
		if err != nil {
			t.Fatalf("Parse(%q): %v", kf.Bytes(), err)
		}
		if got, err := back.String(group, key); err != nil || got != value {
			t.Fatalf("String = %q, %v; want %q (file %q)", got, err, value, kf.Bytes())
		}
		got, err := back.StringList(group, key+"s")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(elems) || (len(got) > 0 && !reflect.DeepEqual(got, elems)) {
			t.Fatalf("StringList = %q, want %q (file %q)", got, elems, kf.Bytes())
		}
		if string(back.Bytes()) != string(kf.Bytes()) {
			t.Fatalf("rewrite differs: %q vs %q", back.Bytes(), kf.Bytes())
		}
	})
}
