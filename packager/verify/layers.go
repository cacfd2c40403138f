package verify

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// entry is one path of the image after all layers are applied.
type entry struct {
	typ  byte
	size int64
	// data is the content of the metadata file.
	data []byte
}

// hybridEntries are the container entries a hybrid runtime has beside
// files/ and metadata (see llb.Hybrid), with the modes they may have.
var hybridEntries = map[string][]int64{
	"usr": {0o777}, "etc": {0o777}, "bin": {0o777}, "sbin": {0o777},
	"lib": {0o777}, "lib64": {0o777}, "root": {0o700, 0o755}, "run": {0o755},
	"tmp": {0o1777}, "app": {0o755}, "var": {0o755}, "var/run": {0o777},
	"var/tmp": {0o1777}, "var/db": {0o755}, "var/db/zoneinfo": {0o777},
}

// checkLayers reads every layer, checks its entries and returns the tree.
func (c *checker) checkLayers(img string, mf ocispecs.Manifest, cfg ocispecs.Image, f labelFacts) map[string]*entry {
	tree := map[string]*entry{}
	if len(mf.Layers) == 0 {
		c.problem(img, "manifest", "has no layers")
	}
	if len(cfg.RootFS.DiffIDs) != len(mf.Layers) {
		c.problem(img, "config", "lists %d diff_ids for %d layers", len(cfg.RootFS.DiffIDs), len(mf.Layers))
	}
	for i, l := range mf.Layers {
		var diffID digest.Digest
		if i < len(cfg.RootFS.DiffIDs) {
			diffID = cfg.RootFS.DiffIDs[i]
		}
		c.layer(img, i+1, l, diffID, f, tree)
	}
	return tree
}

// layer checks one layer's blob and entries, adding them to tree.
func (c *checker) layer(img string, n int, d ocispecs.Descriptor, diffID digest.Digest, f labelFacts, tree map[string]*entry) {
	where := fmt.Sprintf("layer %d (%s)", n, d.Digest)
	if err := d.Digest.Validate(); err != nil {
		c.problem(img, where, "bad digest: %v", err)
		return
	}
	rc, err := c.src.Open(c.ctx, d)
	if err != nil {
		c.problem(img, where, "cannot be read: %v", err)
		return
	}
	defer rc.Close()
	blobDigester := d.Digest.Algorithm().Digester()
	counted := &countingReader{r: io.TeeReader(rc, blobDigester.Hash())}
	var r io.Reader = counted
	switch {
	case strings.HasSuffix(d.MediaType, "gzip"):
		gz, err := gzip.NewReader(r)
		if err != nil {
			c.problem(img, where, "not gzip: %v", err)
			return
		}
		defer gz.Close()
		r = gz
	case strings.HasSuffix(d.MediaType, "zstd"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			c.problem(img, where, "not zstd: %v", err)
			return
		}
		defer zr.Close()
		r = zr
	case d.MediaType == ocispecs.MediaTypeImageLayer || d.MediaType == "application/vnd.docker.image.rootfs.diff.tar":
	default:
		c.problem(img, where, "media type %q is not a tar layer (plain, gzip or zstd)", d.MediaType)
		return
	}
	diffDigester := digest.SHA256.Digester()
	if diffID != "" {
		if err := diffID.Validate(); err == nil {
			diffDigester = diffID.Algorithm().Digester()
		}
	}
	tr := tar.NewReader(io.TeeReader(r, diffDigester.Hash()))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.problem(img, where, "not a valid tar archive: %v", err)
			return
		}
		c.entry(img, where, h, tr, f, tree)
	}
	// The rest of the stream (tar padding, compression trailer) counts for
	// the digests.
	if _, err := io.Copy(io.Discard, io.TeeReader(r, diffDigester.Hash())); err != nil {
		c.problem(img, where, "cannot be read to the end: %v", err)
		return
	}
	if _, err := io.Copy(io.Discard, counted); err != nil {
		c.problem(img, where, "cannot be read to the end: %v", err)
		return
	}
	if got := blobDigester.Digest(); got != d.Digest {
		c.problem(img, where, "the blob's digest is %s: the layer is corrupt", got)
	}
	if counted.n != d.Size {
		c.problem(img, where, "the blob is %d bytes, the manifest says %d", counted.n, d.Size)
	}
	if diffID != "" && diffDigester.Digest() != diffID {
		c.problem(img, where, "uncompressed digest %s differs from the config's diff_id %s", diffDigester.Digest(), diffID)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// entry checks one tar entry.
func (c *checker) entry(img, layer string, h *tar.Header, r io.Reader, f labelFacts, tree map[string]*entry) {
	raw := h.Name
	if strings.HasPrefix(raw, "/") {
		c.problem(img, layer+": "+raw, "absolute path in a layer; entries are relative to the image root")
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+raw), "/")
	for _, e := range strings.Split(strings.TrimSuffix(raw, "/"), "/") {
		if e == ".." {
			c.problem(img, layer+": "+raw, "'..' in a layer entry name")
			return
		}
	}
	if name == "" {
		return // the root itself, "./"
	}
	where := layer + ": " + name
	base := path.Base(name)
	if strings.HasPrefix(base, ".wh.") {
		c.problem(img, where, "whiteout: Flatpak imports layers as they are and does not delete files; build the image without deleting across layers")
		return
	}

	// Where the entry may be.
	top, _, _ := strings.Cut(name, "/")
	hybridModes, hybrid := hybridEntries[name]
	switch {
	case name == "metadata":
		if h.Typeflag != tar.TypeReg {
			c.problem(img, where, "is a %s; metadata must be a regular file", typeName(h.Typeflag))
		}
	case top == "files" || top == "export":
		if name == top && h.Typeflag != tar.TypeDir {
			c.problem(img, where, "is a %s; %s must be a directory", typeName(h.Typeflag), top)
		}
	case hybrid && f.kind == "runtime":
	case hybrid && f.kind == "app":
		c.problem(img, where, "is a runtime's container entry; an app image holds only files/, export/ and metadata")
	default:
		msg := "is outside files/, export/ and metadata"
		if f.kind != "app" {
			msg += " (and not one of a hybrid runtime's container entries)"
		}
		c.problem(img, where, "%s", msg)
	}

	// Owner.
	if h.Uid != 0 || h.Gid != 0 {
		c.problem(img, where, "owned by %d:%d; Flatpak images are owned by 0:0", h.Uid, h.Gid)
	}

	// Type and mode.
	mode := h.Mode & 0o7777
	switch h.Typeflag {
	case tar.TypeReg:
		if mode&0o7000 != 0 {
			c.problem(img, where, "has mode %04o: setuid, setgid and sticky bits are not allowed", mode)
		} else if mode != 0o644 && mode != 0o755 {
			c.problem(img, where, "has mode %04o; Flatpak's canonical file modes are 0644 and 0755", mode)
		}
	case tar.TypeDir:
		switch {
		case hybrid && f.kind == "runtime" && containsMode(hybridModes, mode):
		case mode&0o7000 != 0:
			c.problem(img, where, "directory has mode %04o: setuid, setgid and sticky bits are not allowed", mode)
		case mode != 0o755:
			c.problem(img, where, "directory has mode %04o; Flatpak's canonical directory mode is 0755", mode)
		}
	case tar.TypeSymlink:
		if h.Linkname == "" {
			c.problem(img, where, "symlink with an empty target")
		}
	case tar.TypeLink:
		target := strings.TrimPrefix(path.Clean("/"+h.Linkname), "/")
		t, ok := tree[target]
		if !ok || t.typ != tar.TypeReg {
			c.problem(img, where, "hard link to %q, which is not an earlier regular file of the image", h.Linkname)
		} else {
			tree[name] = &entry{typ: tar.TypeReg, size: t.size, data: t.data}
			return
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		c.problem(img, where, "is a %s; Flatpak images hold only files, directories and symlinks", typeName(h.Typeflag))
	default:
		c.problem(img, where, "has tar type %q, which Flatpak does not import", h.Typeflag)
	}

	e := &entry{typ: h.Typeflag, size: h.Size}
	if name == "metadata" && e.typ == tar.TypeReg {
		if h.Size > maxMetadata {
			c.problem(img, where, "is %d bytes; a metadata file that large is not plausible", h.Size)
		} else {
			var b bytes.Buffer
			if _, err := io.Copy(&b, io.LimitReader(r, maxMetadata)); err != nil {
				c.problem(img, where, "cannot be read: %v", err)
			}
			e.data = b.Bytes()
		}
	}
	tree[name] = e
}

func containsMode(modes []int64, m int64) bool {
	for _, x := range modes {
		if x == m {
			return true
		}
	}
	return false
}

func typeName(t byte) string {
	switch t {
	case tar.TypeReg:
		return "regular file"
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	}
	return fmt.Sprintf("tar type %q", t)
}
