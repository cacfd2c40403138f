package publish

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func img(digest, ref string) remoteindex.Image {
	return remoteindex.Image{Digest: digest, MediaType: "application/vnd.oci.image.manifest.v1+json", OS: "linux",
		Architecture: "amd64", Labels: map[string]string{labels.Ref: ref}}
}

// The pairs are the images that replace the one the last publish named
// for the same repository, tag and ref; a new repository, an unchanged
// image, another tag's image and an image the registry lost give none.
func TestDeltaPairsFollowTheLastPublish(t *testing.T) {
	out := t.TempDir()
	write := func(tag string, resp remoteindex.Response) {
		dt, err := resp.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(out, remoteindex.StaticPath(tag, "amd64"))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, dt, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const app, rt = "app/org.example.App/x86_64/stable", "runtime/org.example.Platform/x86_64/1"
	write("latest", remoteindex.Response{Registry: "https://r/", Results: []remoteindex.Repository{
		{Name: "apps/app", Images: []remoteindex.Image{img("sha256:a1", app)}},
		{Name: "apps/platform", Images: []remoteindex.Image{img("sha256:p1", rt)}},
		{Name: "apps/lost", Images: []remoteindex.Image{img("sha256:l1", app)}},
	}})
	write("testing", remoteindex.Response{Registry: "https://r/", Results: []remoteindex.Repository{
		{Name: "apps/app", Lists: []remoteindex.List{{Digest: "sha256:list", MediaType: "application/vnd.oci.image.index.v1+json", Images: []remoteindex.Image{img("sha256:t1", app)}}}},
	}})
	prev := previousImages(out)
	if prev["apps/app"]["testing"][app] != "sha256:t1" || prev["apps/platform"]["latest"][rt] != "sha256:p1" {
		t.Fatalf("previous images: %v", prev)
	}

	repo := func(name string, imgs ...remoteindex.Image) *remoteindex.Repository {
		return &remoteindex.Repository{Name: name, Images: imgs}
	}
	indexes := map[string]map[string]map[string]*remoteindex.Repository{
		"latest": {"amd64": {
			"apps/app":      repo("apps/app", img("sha256:a2", app)),
			"apps/platform": repo("apps/platform", img("sha256:p1", rt)),
			"apps/new":      repo("apps/new", img("sha256:n1", app)),
			"apps/lost":     repo("apps/lost", img("sha256:l2", app)),
		}},
		"testing": {"amd64": {
			"apps/app": {Name: "apps/app", Lists: []remoteindex.List{{Digest: "sha256:list2", MediaType: "application/vnd.oci.image.index.v1+json", Images: []remoteindex.Image{img("sha256:t2", app)}}}},
		}},
	}
	pairs, published := deltaPairs(indexes, map[string]bool{"sha256:l2": true}, prev)
	want := []deltaPair{
		{repo: "apps/app", ref: app, from: "sha256:a1", to: "sha256:a2"},
		{repo: "apps/app", ref: app, from: "sha256:t1", to: "sha256:t2"},
	}
	if !reflect.DeepEqual(pairs, want) {
		t.Errorf("pairs:\n%+v\nwant\n%+v", pairs, want)
	}
	wantPublished := map[string]map[string]bool{
		"apps/app":      {"sha256:a2": true, "sha256:t2": true},
		"apps/platform": {"sha256:p1": true},
		"apps/new":      {"sha256:n1": true},
	}
	if !reflect.DeepEqual(published, wantPublished) {
		t.Errorf("published: %v, want %v", published, wantPublished)
	}
}

// countingLayer counts the reads of a layer's uncompressed content.
type countingLayer struct {
	v1.Layer
	reads int
}

func (c *countingLayer) Uncompressed() (io.ReadCloser, error) {
	c.reads++
	return c.Layer.Uncompressed()
}

// A new layer is read from the registry once: later reads come from its
// first whole read; a read stopped half way keeps nothing.
func TestLocalLayerReadsTheRegistryOnce(t *testing.T) {
	content := bytes.Repeat([]byte("layer bytes "), 10000)
	inner := &countingLayer{Layer: static.NewLayer(content, types.OCIUncompressedLayer)}
	l := &localLayer{Layer: inner, path: filepath.Join(t.TempDir(), "layer.tar")}
	read := func(n int64) []byte {
		t.Helper()
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if n < 0 {
			_, err = io.Copy(&b, rc)
		} else {
			_, err = io.CopyN(&b, rc, n)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if got := read(100); !bytes.Equal(got, content[:100]) {
		t.Fatal("the half read differs")
	}
	for i := range 3 {
		if got := read(-1); !bytes.Equal(got, content) {
			t.Fatalf("read %d differs", i)
		}
	}
	if inner.reads != 2 {
		t.Errorf("the registry was read %d times, want 2 (the half read, the first whole one)", inner.reads)
	}
}
