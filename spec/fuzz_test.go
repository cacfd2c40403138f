package spec_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// FuzzParse checks that Parse never panics and that every error points
// inside the file.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "id: org.a.B\npackages: [a]\n", "flatpak: {id: x}\n", "a: &a [*a]\n", "finish-args: \"'\"\n",
		"id: ${A:-${B}}\nargs: {A: }\n", "packages: [{name: a, platforms: {only: x}}]\n",
		"labels: {a: b, a: c}\n", "? [a]\n: b\n", "x: &x {id: a}\nflatpak: {<<: [*x, {b: c}], packages: [a]}\n", "a: &a {<<: *a}\n", "- \u2028\n", "a: |\n  b\n c\n", "\xef\xbb\xbfid: a\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := spec.Parse("f.yaml", data, spec.Options{BuildArgs: map[string]string{"A": "1"}})
		if err == nil {
			if s == nil || s.Source == nil {
				t.Fatal("nil spec without error")
			}
			// Every recorded range is inside the file.
			checkRanges(t, data, s)
			return
		}
		var errs spec.Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %T is not spec.Errors: %v", err, err)
		}
		for _, e := range errs {
			if e.Msg == "" {
				t.Errorf("empty message at %v", e.Range)
			}
			if strings.Contains(e.Msg, "internal error") {
				t.Errorf("panic: %v", e)
			}
			if !inside(data, e.Range.Start) || !inside(data, e.Range.End) {
				t.Errorf("error outside the file: %v (range %v)", e, e.Range)
			}
		}
	})
}

func checkRanges(t *testing.T, data []byte, s *spec.Spec) {
	for i := range s.FinishArgs {
		r, ok := s.Source.Range("finish-args", i)
		if !ok || !inside(data, r.Start) || !inside(data, r.End) {
			t.Errorf("finish-args[%d]: range %v ok=%v", i, r, ok)
		}
	}
	for i := range s.Packages {
		r, ok := s.Source.Range("packages", i)
		if !ok || !inside(data, r.Start) || !inside(data, r.End) {
			t.Errorf("packages[%d]: range %v ok=%v", i, r, ok)
		}
	}
}

// inside reports whether pos is a position in data (the column may be one
// past the end of its line). Lines break as in YAML: LF, CR, CRLF, NEL, LS,
// PS.
func inside(data []byte, pos spec.Pos) bool {
	lines := splitLines(string(data))
	if pos.Line < 1 || pos.Line > len(lines) {
		return false
	}
	return pos.Column >= 1 && pos.Column <= utf8.RuneCountInString(lines[pos.Line-1])+1
}

func splitLines(s string) []string {
	r := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")
	return strings.Split(r.Replace(s), "\n")
}
