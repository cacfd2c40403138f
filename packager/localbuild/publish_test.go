package localbuild

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// writeLayout writes an OCI layout in dir whose one image has the given
// layers (contents); it returns the digests of every blob it wrote.
// Without withIndex it writes no index.json (an export cut short).
func writeLayout(t *testing.T, dir string, withIndex bool, layers ...string) []digest.Digest {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	var all []digest.Digest
	blob := func(mt string, dt []byte) ocispecs.Descriptor {
		d := digest.FromBytes(dt)
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), dt, 0o644); err != nil {
			t.Fatal(err)
		}
		all = append(all, d)
		return ocispecs.Descriptor{MediaType: mt, Digest: d, Size: int64(len(dt))}
	}
	mf := ocispecs.Manifest{MediaType: ocispecs.MediaTypeImageManifest, Config: blob(ocispecs.MediaTypeImageConfig, []byte("{}"))}
	for _, l := range layers {
		mf.Layers = append(mf.Layers, blob(ocispecs.MediaTypeImageLayer, []byte(l)))
	}
	dt, _ := json.Marshal(mf)
	idx := ocispecs.Index{Manifests: []ocispecs.Descriptor{blob(ocispecs.MediaTypeImageManifest, dt)}}
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	if withIndex {
		dt, _ := json.Marshal(idx)
		os.WriteFile(filepath.Join(dir, "index.json"), dt, 0o644)
	}
	return all
}

func blobPath(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", "sha256", d.Encoded())
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestPublishLayoutReplacesTheIndexAndDropsOnlyTheOldImagesBlobs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "oci")
	old := writeLayout(t, out, true, "a", "b")
	// Not the old image's: publishing leaves it alone.
	stray := digest.FromString("stray")
	os.WriteFile(blobPath(out, stray), []byte("stray"), 0o644)

	staging, err := stageDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(staging) != filepath.Dir(out) {
		t.Fatalf("staging %s is not beside %s", staging, out)
	}
	// The blobs out holds are linked in, so the exporter skips them.
	for _, d := range old {
		a, err1 := os.Stat(blobPath(out, d))
		b, err2 := os.Stat(blobPath(staging, d))
		if err1 != nil || err2 != nil || a.Sys().(*syscall.Stat_t).Ino != b.Sys().(*syscall.Stat_t).Ino {
			t.Errorf("blob %s was not linked into the staging folder (%v, %v)", d, err1, err2)
		}
	}
	now := writeLayout(t, staging, true, "b", "c")
	want, _ := os.ReadFile(filepath.Join(staging, "index.json"))
	if err := publishLayout(staging, out); err != nil {
		t.Fatal(err)
	}
	if idx, _ := os.ReadFile(filepath.Join(out, "index.json")); len(idx) == 0 || string(idx) != string(want) {
		t.Errorf("index.json = %q", idx)
	}
	for _, d := range now {
		if !exists(blobPath(out, d)) {
			t.Errorf("blob %s of the new image is missing", d)
		}
	}
	if exists(blobPath(out, digest.FromString("a"))) {
		t.Error("layer a, which only the replaced image used, is still there")
	}
	if !exists(blobPath(out, stray)) {
		t.Error("a blob no image listed was removed")
	}
}

func TestPublishLayoutWithoutIndexLeavesTheOldImage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "oci")
	writeLayout(t, out, true, "a")
	before, _ := os.ReadFile(filepath.Join(out, "index.json"))
	staging, err := stageDir(out)
	if err != nil {
		t.Fatal(err)
	}
	writeLayout(t, staging, false, "c") // an export cut short: no index.json
	if err := publishLayout(staging, out); err == nil {
		t.Fatal("published a layout without index.json")
	}
	if dt, _ := os.ReadFile(filepath.Join(out, "index.json")); string(dt) != string(before) {
		t.Errorf("index.json = %q", dt)
	}
	if exists(blobPath(out, digest.FromString("c"))) {
		t.Error("a blob of the cut-short export reached the output")
	}
	if !exists(blobPath(out, digest.FromString("a"))) {
		t.Error("a blob of the old image is gone")
	}
}
