package ocilayout

import (
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// tarOf archives dir's contents the way a user does (tar -C DIR -cf FILE
// .: names start with ./, folders have entries) and returns the file.
func tarOf(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.tar")
	args := append([]string{"-C", dir, "-cf", out}, extra...)
	if b, err := exec.Command("tar", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	return out
}

// miniLayout writes a layout with one blob and returns its folder and the
// blob's digest.
func miniLayout(t *testing.T, body string) (string, digest.Digest) {
	t.Helper()
	dir := t.TempDir()
	d := digest.FromString(body)
	for name, dt := range map[string]string{
		"oci-layout":                  `{"imageLayoutVersion":"1.0.0"}`,
		"index.json":                  `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d.String() + `","size":` + strconv.Itoa(len(body)) + `}]}`,
		"blobs/sha256/" + d.Encoded(): body,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(dt), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, d
}

// TestArchiveReadsTheLayoutInPlace: a tar of a layout opens as the layout
// itself: index.json, oci-layout, each blob read from its bytes in the
// tar, also through a hard link (tar --hard-dereference aside, GNU tar
// writes a second name of a file as one).
func TestArchiveReadsTheLayoutInPlace(t *testing.T) {
	body := strings.Repeat("layer bytes ", 5000)
	dir, d := miniLayout(t, body)
	if err := os.Link(filepath.Join(dir, "blobs/sha256", d.Encoded()), filepath.Join(dir, "again")); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{dir, tarOf(t, dir), tarOf(t, dir, "--format=pax")} {
		l, err := OpenLocal(src)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := l.Index()
		if err != nil || len(idx.Manifests) != 1 || idx.Manifests[0].Digest != d {
			t.Fatalf("%s: index %+v, %v", src, idx, err)
		}
		rc, err := l.Open(t.Context(), ocispecs.Descriptor{Digest: d})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != body {
			t.Errorf("%s: the blob read back as %d bytes (%v), want %d", src, len(got), err, len(body))
		}
		if again, err := fs.ReadFile(l.Files, "again"); err != nil || string(again) != body {
			t.Errorf("%s: the hard link read back as %d bytes (%v)", src, len(again), err)
		}
		if _, err := l.Open(t.Context(), ocispecs.Descriptor{Digest: digest.FromString("other")}); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: a blob it lacks: %v, want a not-exist error", src, err)
		}
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestArchivesThatAreNotOneSayWhatTheyAre: a compressed tar, a docker save
// archive, a tar without index.json and a file that is no tar each get an
// error saying what they are.
func TestArchivesThatAreNotOneSayWhatTheyAre(t *testing.T) {
	dir, _ := miniLayout(t, "x")
	plain := tarOf(t, dir)
	gz := filepath.Join(t.TempDir(), "image.tar.gz")
	in, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(gz)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write(in)
	zw.Close()
	f.Close()

	docker := t.TempDir()
	os.WriteFile(filepath.Join(docker, "manifest.json"), []byte("[]"), 0o644)
	os.WriteFile(filepath.Join(docker, "repositories"), []byte("{}"), 0o644)
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "README"), []byte("hi"), 0o644)
	text := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("not a tar at all\n", 100)), 0o644)

	for src, want := range map[string]string{
		gz:                "compressed with gzip: an OCI archive is read uncompressed (gunzip it first)",
		tarOf(t, docker):  "a docker save archive: convert it (skopeo copy docker-archive:",
		tarOf(t, empty):   "a tar without index.json, so no OCI archive",
		text:              "neither an OCI layout folder nor an OCI archive",
		text + ".missing": "no such OCI layout folder or OCI archive",
	} {
		_, err := OpenLocal(src)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), src) {
			t.Errorf("%s: %v, want an error naming it and saying %q", src, err, want)
		}
	}
}
