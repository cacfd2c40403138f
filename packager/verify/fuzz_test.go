package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// memBlobs is a blob source in memory.
type memBlobs map[digest.Digest][]byte

func (m memBlobs) Open(_ context.Context, d ocispecs.Descriptor) (io.ReadCloser, error) {
	b, ok := m[d.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s not found", d.Digest)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// FuzzCheckImage checks images built from an arbitrary layer and
// arbitrary metadata: verify reads untrusted images, so it must never
// panic, and an image it calls valid must hold the metadata it claims.
func FuzzCheckImage(f *testing.F) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	md := "[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\ncommand=hello\n"
	tw.WriteHeader(&tar.Header{Name: "metadata", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(md))})
	tw.Write([]byte(md))
	tw.WriteHeader(&tar.Header{Name: "files/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "files/a", Typeflag: tar.TypeLink, Linkname: "metadata"})
	tw.Close()
	f.Add(b.Bytes(), md, "app/org.example.Hello/x86_64/stable")
	f.Add([]byte{}, "", "")
	f.Add(b.Bytes()[:700], md+"x", "runtime/a.b.C/x/1")
	f.Fuzz(func(t *testing.T, layer []byte, metadata, ref string) {
		l := labels.Flatpak(labels.Input{Ref: ref, Metadata: []byte(metadata), InstalledSize: 512})
		blobs := memBlobs{}
		put := func(b []byte) ocispecs.Descriptor {
			d := digest.FromBytes(b)
			blobs[d] = b
			return ocispecs.Descriptor{Digest: d, Size: int64(len(b))}
		}
		ld := put(layer)
		ld.MediaType = ocispecs.MediaTypeImageLayer
		cfg, _ := json.Marshal(ocispecs.Image{
			Config: ocispecs.ImageConfig{Labels: l},
			RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{ld.Digest}},
		})
		cd := put(cfg)
		cd.MediaType = ocispecs.MediaTypeImageConfig
		mf, _ := json.Marshal(ocispecs.Manifest{MediaType: ocispecs.MediaTypeImageManifest, Config: cd, Layers: []ocispecs.Descriptor{ld}})
		md := put(mf)
		md.MediaType = ocispecs.MediaTypeImageManifest
		c := &checker{ctx: context.Background(), src: blobs, rep: &Report{Source: "fuzz"}}
		c.walk("fuzz", []ocispecs.Descriptor{md}, 0)
		for _, p := range c.rep.Problems {
			if p.Msg == "" || strings.Contains(p.Where, "\x00") && !strings.Contains(p.Where, "layer") {
				t.Errorf("odd problem %+v", p)
			}
		}
		if c.rep.OK() {
			// Valid: the layer's metadata is the label's.
			tr := tar.NewReader(bytes.NewReader(layer))
			var got []byte
			for {
				h, err := tr.Next()
				if err != nil {
					break
				}
				if strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/") == "metadata" {
					got, _ = io.ReadAll(tr)
				}
			}
			if string(got) != metadata {
				t.Fatalf("valid image whose metadata file %q is not the label %q", got, metadata)
			}
		}
	})
}
