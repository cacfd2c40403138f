package integration

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/contentid"
	"github.com/flatpak-frontend/flatpak-frontend/oci/tardiff"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// image is an image read back from an OCI layout.
type image struct {
	manifest ocispecs.Manifest
	config   ocispecs.Image
	// entries are the tar headers of every layer, in order.
	entries []*tar.Header
}

func blobPath(dir string, d ocispecs.Descriptor) string {
	return filepath.Join(dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded())
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dt, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readImage reads the one image of an OCI layout and, when into is not
// empty, unpacks its layers there.
func readImage(t *testing.T, dir, into string) *image {
	t.Helper()
	desc := readIndex(t, dir)
	img := &image{}
	readJSON(t, blobPath(dir, desc), &img.manifest)
	readJSON(t, blobPath(dir, img.manifest.Config), &img.config)
	for _, l := range img.manifest.Layers {
		f, err := os.Open(blobPath(dir, l))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		switch {
		case strings.HasSuffix(l.MediaType, "gzip"):
			gz, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			r = gz
		case strings.HasSuffix(l.MediaType, "zstd"):
			zr, err := zstd.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			r = zr
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			img.entries = append(img.entries, h)
			if into != "" {
				unpackEntry(t, into, h, tr)
			}
		}
		f.Close()
	}
	return img
}

func unpackEntry(t *testing.T, root string, h *tar.Header, r io.Reader) {
	t.Helper()
	name := filepath.Clean("/" + h.Name)
	p := filepath.Join(root, name)
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(p, os.FileMode(h.Mode)&0o7777); err != nil {
			t.Fatal(err)
		}
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o7777)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, r); err != nil {
			t.Fatal(err)
		}
		f.Close()
	case tar.TypeLink:
		if err := os.Link(filepath.Join(root, filepath.Clean("/"+h.Linkname)), p); err != nil {
			t.Fatal(err)
		}
	case tar.TypeSymlink:
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		if err := os.Symlink(h.Linkname, p); err != nil {
			t.Fatal(err)
		}
	}
}

// contentIDLine is what the finishing step prints about the content id.
var contentIDLine = regexp.MustCompile(`content id (sha256:[0-9a-f]{64}): (\d+) files read, (\d+) digests taken from the install's check`)

// checkContentID: the content id an image carries is the digest of the
// files it holds, read from them, although the build that wrote it (whose
// output is log) took the digests of the packaged files from the install's
// check, through BuildKit's snapshots, instead of reading them. The
// build's install must be its own (a repo of its own): an install result
// that another test imported from a registry cache, with files of new
// inodes, is read whole, rightly.
func checkContentID(t *testing.T, layout, log string) {
	t.Helper()
	dir := t.TempDir()
	readImage(t, layout, dir)
	p := filepath.Join(dir, tardiff.ContentIDPath)
	dt, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	sum, err := contentid.Tree(filepath.Join(dir, "files"), buildstep.ReportDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(dt) != sum.ID+"\n" {
		t.Errorf("the image's content id is %q, the digest of its files %s", dt, sum.ID)
	}
	m := contentIDLine.FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("the build did not say how it made the content id:\n%s", log)
	}
	if m[1] != sum.ID || m[3] == "0" {
		t.Errorf("the build made content id %s reading %s files and taking %s digests from the install's check; want %s, some taken", m[1], m[2], m[3], sum.ID)
	}
}

// withFiles copies the one image of the OCI layout src into a new layout
// with one more layer, an uncompressed tar of files (path: content), and
// returns the new layout's folder.
func withFiles(t *testing.T, src string, files map[string]string) string {
	t.Helper()
	var hs []tar.Header
	for _, name := range slices.Sorted(maps.Keys(files)) {
		hs = append(hs, tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
	}
	return withLayer(t, src, hs, files)
}

// withLayer copies the one image of the OCI layout src into a new layout
// with one more layer, an uncompressed tar of the entries hs (a regular
// file's content in contents, by name), and returns the new layout's
// folder.
func withLayer(t *testing.T, src string, hs []tar.Header, contents map[string]string) string {
	t.Helper()
	var layer strings.Builder
	tw := tar.NewWriter(&layer)
	for _, h := range hs {
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(contents[h.Name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return rewriteImage(t, src, func(cfg map[string]any, mf *ocispecs.Manifest, put func(string, []byte) ocispecs.Descriptor) {
		ld := put(ocispecs.MediaTypeImageLayer, []byte(layer.String()))
		rootfs := cfg["rootfs"].(map[string]any)
		rootfs["diff_ids"] = append(rootfs["diff_ids"].([]any), ld.Digest.String())
		mf.Layers = append(mf.Layers, ld)
	})
}

// withLabels copies the one image of the OCI layout src into a new layout
// whose config has labels set (an empty value removes the label), and
// returns the new layout's folder.
func withLabels(t *testing.T, src string, set map[string]string) string {
	t.Helper()
	return rewriteImage(t, src, func(cfg map[string]any, _ *ocispecs.Manifest, _ func(string, []byte) ocispecs.Descriptor) {
		labels := cfg["config"].(map[string]any)["Labels"].(map[string]any)
		for k, v := range set {
			if v == "" {
				delete(labels, k)
			} else {
				labels[k] = v
			}
		}
	})
}

// rewriteImage copies the one image of the OCI layout src into a new
// layout, with its config and manifest as edit leaves them (put writes a
// blob), and returns the new layout's folder.
func rewriteImage(t *testing.T, src string, edit func(cfg map[string]any, mf *ocispecs.Manifest, put func(mediaType string, dt []byte) ocispecs.Descriptor)) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	desc := readIndex(t, dir)
	var mf ocispecs.Manifest
	var cfg map[string]any
	readJSON(t, blobPath(dir, desc), &mf)
	readJSON(t, blobPath(dir, mf.Config), &cfg)
	put := func(mediaType string, dt []byte) ocispecs.Descriptor {
		d := ocispecs.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(dt), Size: int64(len(dt))}
		if err := os.WriteFile(blobPath(dir, d), dt, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	edit(cfg, &mf, put)
	mustJSON := func(v any) []byte {
		dt, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return dt
	}
	mf.Config = put(mf.Config.MediaType, mustJSON(cfg))
	md := put(desc.MediaType, mustJSON(mf))
	md.Annotations, md.Platform = desc.Annotations, desc.Platform
	idx := ocispecs.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{md}}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), mustJSON(idx), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
