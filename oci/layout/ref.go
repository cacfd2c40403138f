package ocilayout

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Ref is an OCI layout folder, or one image in it, as docker buildx names
// one in a build context: oci-layout://DIR[:TAG][@DIGEST].
type Ref struct {
	Dir string
	// Tag is the name index.json gives the image
	// (org.opencontainers.image.ref.name; skopeo copy ... oci:DIR:TAG
	// writes one).
	Tag string
	// Digest is the image's digest.
	Digest string
}

// RefPrefix starts a Ref written as a build context's value.
const RefPrefix = "oci-layout://"

var (
	// A tag as image references spell it.
	anchoredTag = regexp.MustCompile(`^` + reference.TagRegexp.String() + `$`)
	// ALGORITHM:ENCODED, which BuildKit then checks as a digest.
	anchoredDigest = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
)

// ParseRef splits oci-layout://DIR[:TAG][@DIGEST] as docker buildx does (ok
// is false for a value without the prefix). A folder whose own name has a
// colon is taken whole when it exists.
func ParseRef(v string) (r Ref, ok bool) {
	p, ok := strings.CutPrefix(v, RefPrefix)
	if !ok {
		return Ref{}, false
	}
	if i := strings.LastIndex(p, "@"); i >= 0 && anchoredDigest.MatchString(p[i+1:]) {
		p, r.Digest = p[:i], p[i+1:]
	}
	if i := strings.LastIndex(p, ":"); i >= 0 && anchoredTag.MatchString(p[i+1:]) {
		if _, err := os.Stat(p); err != nil {
			p, r.Tag = p[:i], p[i+1:]
		}
	}
	r.Dir = p
	return r, true
}

// String writes r back as oci-layout://DIR[:TAG][@DIGEST].
func (r Ref) String() string {
	s := RefPrefix + r.Dir
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Select returns the entries of the layout's index.json that r names: the
// one with its Digest, else those index.json names Tag, else all of them.
func (r Ref) Select(idx *ocispecs.Index) ([]ocispecs.Descriptor, error) {
	var out []ocispecs.Descriptor
	switch {
	case r.Digest != "":
		for _, m := range idx.Manifests {
			if m.Digest.String() == r.Digest {
				return []ocispecs.Descriptor{m}, nil
			}
		}
		return nil, fmt.Errorf("%s/index.json lists no image %s", r.Dir, r.Digest)
	case r.Tag != "":
		var names []string
		for _, m := range idx.Manifests {
			switch name := m.Annotations[ocispecs.AnnotationRefName]; name {
			case r.Tag:
				out = append(out, m)
			case "":
			default:
				names = append(names, name)
			}
		}
		if len(out) == 0 {
			some := "none"
			if len(names) > 0 {
				some = strings.Join(names, ", ")
			}
			return nil, fmt.Errorf("%s/index.json names no image %s (the names it has: %s)", r.Dir, r.Tag, some)
		}
		return out, nil
	}
	return idx.Manifests, nil
}

// WriteSelected writes into dir, an empty folder, an OCI layout of the
// images of r's layout that r names: its index.json lists only those, and
// its blobs are r's (a symlink to a layout folder's, a copy of those the
// images need from an OCI archive). flatpak build-import-bundle --oci reads
// a folder with one named image; this is how a layout of several, or an
// archive, is given to it.
func WriteSelected(r Ref, dir string) error {
	l, err := OpenLocal(r.Dir)
	if err != nil {
		return err
	}
	defer l.Close()
	idx, err := l.Index()
	if err != nil {
		return err
	}
	ms, err := r.Select(idx)
	if err != nil {
		return err
	}
	if l.IsArchive() {
		if err := copyBlobs(l, ms, dir); err != nil {
			return err
		}
	} else {
		blobs, err := filepath.Abs(filepath.Join(r.Dir, "blobs"))
		if err != nil {
			return err
		}
		if err := os.Symlink(blobs, filepath.Join(dir, "blobs")); err != nil {
			return err
		}
	}
	out := *idx
	out.Manifests = ms
	dt, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ocispecs.ImageLayoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ocispecs.ImageIndexFile), dt, 0o644)
}

// copyBlobs copies the blobs ms reach out of l into the layout folder dir.
func copyBlobs(l *Local, ms []ocispecs.Descriptor, dir string) error {
	need, err := l.Reachable(ms)
	if err != nil {
		return err
	}
	for d := range need {
		if err := copyBlob(l, d, filepath.Join(dir, filepath.FromSlash(blobPath(d)))); err != nil {
			return err
		}
	}
	return nil
}

func copyBlob(l *Local, d digest.Digest, to string) error {
	in, err := l.Files.Open(blobPath(d))
	if err != nil {
		return fmt.Errorf("%s: %w", l.Path, err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ArchiveHint says, for a file that is an image archive rather than a
// layout folder, what it is and how to make a layout of it ("" for any
// other file). It reads the names of the archive's first entries.
func ArchiveHint(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for range 64 {
		h, err := tr.Next()
		if err != nil {
			return ""
		}
		switch path.Clean(h.Name) {
		case ocispecs.ImageLayoutFile, ocispecs.ImageIndexFile:
			return fmt.Sprintf("an OCI archive (a tar of an OCI layout, as docker buildx's --output type=oci and skopeo's oci-archive: write it): give it as oci-layout://%s (flatpak-frontend reads it in place; docker buildx and Flatpak take a folder: mkdir DIR && tar -xf %s -C DIR)", p, p)
		case "manifest.json", "repositories":
			return fmt.Sprintf("a docker save archive: convert it (skopeo copy docker-archive:%s oci:DIR) and give oci-layout://DIR", p)
		}
	}
	return ""
}
