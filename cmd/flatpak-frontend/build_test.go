package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultSpecFallsBackToContainerYAML(t *testing.T) {
	dir := t.TempDir()
	if got, want := defaultSpec(dir), filepath.Join(dir, "flatpak.yaml"); got != want {
		t.Errorf("empty folder: %s, want %s", got, want)
	}
	writeFile(t, dir, "container.yaml", "flatpak:\n  id: org.example.A\n")
	if got, want := defaultSpec(dir), filepath.Join(dir, "container.yaml"); got != want {
		t.Errorf("container.yaml only: %s, want %s", got, want)
	}
	writeFile(t, dir, "flatpak.yaml", "id: org.example.A\n")
	if got, want := defaultSpec(dir), filepath.Join(dir, "flatpak.yaml"); got != want {
		t.Errorf("both: %s, want %s", got, want)
	}
}

// A missing context is said before any daemon is reached: with
// BUILDKIT_HOST naming nothing, reaching for it would fail differently.
func TestBuildSaysWhatIsMissingBeforeConnecting(t *testing.T) {
	t.Setenv("BUILDKIT_HOST", "unix:///nonexistent/buildkitd.sock")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	writeFile(t, dir, "flatpak.yaml", "id: org.example.A\n")
	missing := filepath.Join(dir, "rpms")
	code, _, stderr := capture(t, func() int {
		return runBuild([]string{"--build-context", "rpms=" + missing, dir})
	})
	if want := "flatpak-frontend build: --build-context rpms=" + missing + ": no such file or folder"; code != 2 || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
}

func TestBuildRefusesALabelTheFrontendWrites(t *testing.T) {
	t.Setenv("BUILDKIT_HOST", "unix:///nonexistent/buildkitd.sock")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	writeFile(t, dir, "flatpak.yaml", "id: org.example.A\n")
	for arg, want := range map[string]string{
		"org.flatpak.ref=app/org.example.B/x86_64/stable": "--label org.flatpak.ref: the frontend writes this label",
		"novalue": "--label novalue: want NAME=VALUE",
	} {
		code, _, stderr := capture(t, func() int { return runBuild([]string{"--label", arg, dir}) })
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("--label %s: exit %d, stderr %q; want 2 and %q", arg, code, stderr, want)
		}
	}
}
