package flatpakref

import "testing"

func TestCheckIDBranchArch(t *testing.T) {
	for id, ok := range map[string]bool{
		"org.gnome.eog": true, "org.example.App-beta": true, "_a.b.c": true, "a.b.c9": true, "a.b.-c": true,
		"org.gnome": false, "org..eog": false, ".org.a.b": false, "org.a.b.": false, "org.a-b.c": false,
		"org.a.9b": false, "9a.b.c": false, "org.a.b c": false, "org.a.é": false, "-a.b.c": false, "": false,
	} {
		if got := CheckID(id) == nil; got != ok {
			t.Errorf("CheckID(%q) valid = %v, want %v", id, got, ok)
		}
	}
	for br, ok := range map[string]bool{
		"stable": true, "f40": true, "3.30": true, "-x": true, "_x": true,
		"": false, ".x": false, "a/b": false, "a b": false,
	} {
		if got := CheckBranch(br) == nil; got != ok {
			t.Errorf("CheckBranch(%q) valid = %v, want %v", br, got, ok)
		}
	}
	for arch, ok := range map[string]bool{
		"x86_64": true, "aarch64": true, "i386": true, "": false, "arm-v7": false, "x/y": false,
	} {
		if got := CheckArch(arch) == nil; got != ok {
			t.Errorf("CheckArch(%q) valid = %v, want %v", arch, got, ok)
		}
	}
}

func TestParse(t *testing.T) {
	r, err := Parse("app/org.example.App/x86_64/stable")
	if err != nil || r != (Ref{App, "org.example.App", "x86_64", "stable"}) || r.String() != "app/org.example.App/x86_64/stable" ||
		r.Partial() != "org.example.App/x86_64/stable" || r.IsRuntime() {
		t.Errorf("Parse = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "app", "app/org.example.App/x86_64", "app/org.example.App/x86_64/stable/x",
		"lib/org.example.App/x86_64/stable", "runtime/org.example/x86_64/1", "runtime/org.example.P//1",
		"runtime/org.example.P/x86_64/", "runtime/org.example.P/x86_64/.1"} {
		if r, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v", bad, r)
		}
	}
	if r, err := ParsePartial(Runtime, "org.example.Platform/aarch64/1"); err != nil || r.String() != "runtime/org.example.Platform/aarch64/1" {
		t.Errorf("ParsePartial = %+v, %v", r, err)
	}
}

func TestSplitLoose(t *testing.T) {
	for in, want := range map[string][3]string{
		"org.a.B": {"org.a.B", "", ""}, "runtime/org.a.B//1": {"org.a.B", "", "1"}, "org.a.B/aarch64": {"org.a.B", "aarch64", ""},
	} {
		id, arch, branch, err := SplitLoose(in)
		if err != nil || [3]string{id, arch, branch} != want {
			t.Errorf("SplitLoose(%q) = %q %q %q, %v", in, id, arch, branch, err)
		}
	}
	for _, bad := range []string{"app/org.a.B", "org.a.B/x/1/2", "org.a", "org.a.B/x/.1", "org.a.B/x-y/1"} {
		if _, _, _, err := SplitLoose(bad); err == nil {
			t.Errorf("SplitLoose(%q) accepted", bad)
		}
	}
}
