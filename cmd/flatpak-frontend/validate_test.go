package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// capture runs f with os.Stdout and os.Stderr redirected and returns what
// it wrote.
func capture(t *testing.T, f func() int) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(filepath.Join(dir, "err"))
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outF, errF
	code = f()
	os.Stdout, os.Stderr = oldOut, oldErr
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return code, string(o), string(e)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateReportsEachProblemWithItsPosition(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", "id: org.example.App\npackages: [app]\n")
	bad := writeFile(t, dir, "bad.yaml", "id: org.example\npackages: [app]\ncomand: app\n")
	fedora := filepath.Join("..", "..", "spec", "testdata", "eog.container.yaml")

	code, out, errOut := capture(t, func() int { return runValidate([]string{good, fedora}) })
	if code != 0 || out != "" || errOut != "" {
		t.Errorf("valid files: code %d, stdout %q, stderr %q", code, out, errOut)
	}

	code, _, errOut = capture(t, func() int { return runValidate([]string{good, bad}) })
	want := bad + ":1:5: id: \"org.example\" is not a valid Flatpak ID: must have at least 3 elements separated by '.', like org.example.App\n" +
		bad + ":3:1: unknown key \"comand\"; did you mean \"command\"?\n"
	if code != 1 || errOut != want {
		t.Errorf("invalid file: code %d, stderr\n%s\nwant\n%s", code, errOut, want)
	}
}

func TestValidateBuildArgs(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "args.yaml", "args: {V: ''}\nid: org.example.App${V}\npackages: [app]\n")
	if code, _, errOut := capture(t, func() int { return runValidate([]string{"--build-arg", "V=/x", f}) }); code != 1 || !strings.Contains(errOut, "org.example.App/x") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := capture(t, func() int { return runValidate([]string{"--build-arg", "V=", f}) }); code != 0 {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
	// NAME alone takes the variable's value, as docker build does.
	t.Setenv("V", "/from-env")
	if code, _, errOut := capture(t, func() int { return runValidate([]string{"--build-arg", "V", f}) }); code != 1 || !strings.Contains(errOut, "org.example.App/from-env") {
		t.Errorf("--build-arg V with V=/from-env: code %d, stderr %q", code, errOut)
	}
}

func TestValidateUsageAndIOErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", "id: org.example.App\npackages: [app]\n")
	bad := writeFile(t, dir, "bad.yaml", "id: x\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no files", nil, 2, "usage: flatpak-frontend validate"},
		{"unknown flag", []string{"--frob", good}, 2, "flag provided but not defined"},
		{"bad build-arg", []string{"--build-arg", "=novalue", good}, 2, "--build-arg =novalue: want NAME=VALUE"},
		{"build-arg from an unset variable", []string{"--build-arg", "FLATPAK_FRONTEND_UNSET_ARG", good}, 2, "no variable FLATPAK_FRONTEND_UNSET_ARG in the environment"},
		{"missing file", []string{filepath.Join(dir, "nope.yaml")}, 2, "no such file or directory"},
		{"directory", []string{dir}, 2, "is a directory"},
		{"missing and invalid", []string{bad, filepath.Join(dir, "nope.yaml")}, 2, "bad.yaml:1:5"},
		{"help", []string{"-h"}, 0, "usage:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := capture(t, func() int { return runValidate(tc.args) })
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("code %d (want %d), stderr:\n%s\nwant it to contain %q", code, tc.code, errOut, tc.want)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace: %s", errOut)
			}
		})
	}
}

func TestValidateStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		io.WriteString(w, "id: org.example.App\npackages: [\"a b\"]\n")
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old }()
	code, _, errOut := capture(t, func() int { return runValidate([]string{"-"}) })
	if code != 1 || !strings.HasPrefix(errOut, "-:2:12: packages[0]") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}

func TestSchemaPrintsTheJSONSchema(t *testing.T) {
	code, out, errOut := capture(t, func() int { return runSchema(nil) })
	if code != 0 || errOut != "" {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", s["$schema"])
	}
	if code, _, _ := capture(t, func() int { return runSchema([]string{"x"}) }); code != 2 {
		t.Errorf("extra argument: code %d", code)
	}
}
