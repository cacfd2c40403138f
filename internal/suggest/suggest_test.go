package suggest

import "testing"

func TestClosest(t *testing.T) {
	keys := []string{"command", "finish-args", "packages", "runtime-name"}
	for in, want := range map[string]string{
		"comand": "command", "COMMAND": "command", "finishargs": "finish-args", "pakages": "packages",
		"cmd": "", "zzzzzzzz": "", "": "",
		// A word cut short: the one key it begins.
		"runtime": "runtime-name", "pack": "packages", "com": "",
	} {
		if got := Closest(in, keys); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Closest("x12", []string{"x11", "wayland"}); got != "x11" {
		t.Errorf("x12: %q", got)
	}
	if got := Closest("runtime", []string{"runtime-name", "runtime-version"}); got != "" {
		t.Errorf("a word two keys begin: %q", got)
	}
	if got := Closest("a", nil); got != "" {
		t.Errorf("no candidates: %q", got)
	}
}
