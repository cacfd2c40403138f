package clientbuild

import (
	"os"
	"path/filepath"
	"testing"
)

func writeLayout(t *testing.T, dir, index string, blobs ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", b), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	if index != "" {
		os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644)
	}
}

func TestPublishLayoutReplacesTheIndexLast(t *testing.T) {
	out := filepath.Join(t.TempDir(), "oci")
	writeLayout(t, out, "old", "a", "b")
	staging, err := stageDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(staging) != filepath.Dir(out) {
		t.Fatalf("staging %s is not beside %s", staging, out)
	}
	writeLayout(t, staging, "new", "b", "c")
	if err := publishLayout(staging, out); err != nil {
		t.Fatal(err)
	}
	if dt, _ := os.ReadFile(filepath.Join(out, "index.json")); string(dt) != "new" {
		t.Errorf("index.json = %q", dt)
	}
	for _, b := range []string{"a", "b", "c"} {
		if _, err := os.Stat(filepath.Join(out, "blobs", "sha256", b)); err != nil {
			t.Errorf("blob %s: %v", b, err)
		}
	}
}

func TestPublishLayoutWithoutIndexLeavesTheOldImage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "oci")
	writeLayout(t, out, "old", "a")
	staging, err := stageDir(out)
	if err != nil {
		t.Fatal(err)
	}
	writeLayout(t, staging, "", "c") // an export cut short: no index.json
	if err := publishLayout(staging, out); err == nil {
		t.Fatal("published a layout without index.json")
	}
	if dt, _ := os.ReadFile(filepath.Join(out, "index.json")); string(dt) != "old" {
		t.Errorf("index.json = %q", dt)
	}
	if _, err := os.Stat(filepath.Join(out, "blobs", "sha256", "c")); err == nil {
		t.Error("a blob of the cut-short export reached the output")
	}
}
