package verify

import (
	"bytes"
	"encoding/base64"
	"math/bits"
	"strconv"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/gvariant"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const labelRef = labels.Ref

// labelFacts is what the labels say, for the layer checks.
type labelFacts struct {
	// ref and its parts; kind is "app" or "runtime", "" when the ref is bad.
	ref, kind, id, arch, branch string
	// metadata is org.flatpak.metadata (hasMetadata: the label exists).
	metadata    []byte
	hasMetadata bool
	// installed is org.flatpak.installed-size (hasInstalled: it parsed).
	installed    uint64
	hasInstalled bool
}

// checkLabels checks the labels against each other.
func (c *checker) checkLabels(img string, cfg ocispecs.Image) labelFacts {
	l := cfg.Config.Labels
	var f labelFacts
	need := func(name string) (string, bool) {
		v, ok := l[name]
		if !ok {
			c.problem(img, "label "+name, "missing (flatpak build-bundle --oci writes it; flatpak install needs the commit metadata)")
		}
		return v, ok
	}

	// org.flatpak.ref.
	if ref, ok := need(labels.Ref); ok {
		f.ref = ref
		r, err := flatpakref.Parse(ref)
		switch {
		case err != nil:
			c.problem(img, "label "+labels.Ref, "%v", err)
		default:
			f.kind, f.id, f.arch, f.branch = string(r.Kind), r.ID, r.Arch, r.Branch
			if want, known := flatpakref.ArchOfOCI(cfg.Architecture); cfg.Architecture != "" && known && want != f.arch {
				c.problem(img, "label "+labels.Ref, "architecture %s, but the image config says %s (Flatpak %s)", f.arch, cfg.Architecture, want)
			}
		}
	}

	// org.flatpak.metadata and the metadata it holds.
	if md, ok := need(labels.Metadata); ok {
		f.metadata, f.hasMetadata = []byte(md), true
		c.checkMetadataText(img, "label "+labels.Metadata, f, f.metadata)
	}

	// Sizes.
	size := func(name string) (uint64, bool) {
		v, ok := need(name)
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			c.problem(img, "label "+name, "%q is not a decimal number of bytes", v)
			return 0, false
		}
		return n, true
	}
	f.installed, f.hasInstalled = size(labels.InstalledSize)
	size(labels.DownloadSize)
	if v, ok := l[labels.Timestamp]; ok {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			c.problem(img, "label "+labels.Timestamp, "%q is not seconds since 1970", v)
		}
	}

	// Commit metadata: base64 of a GVariant variant of the right type.
	cm := func(key, typ string) (gvariant.Value, bool) {
		name := labels.CommitMetadataPrefix + key
		v, ok := need(name)
		if !ok {
			return gvariant.Value{}, false
		}
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			c.problem(img, "label "+name, "not base64: %v", err)
			return gvariant.Value{}, false
		}
		gv, err := gvariant.UnmarshalVariant(raw)
		if err != nil {
			c.problem(img, "label "+name, "not a serialized GVariant variant: %v", err)
			return gvariant.Value{}, false
		}
		if gv.Type() != typ {
			c.problem(img, "label "+name, "holds a GVariant of type %q, want %q", gv.Type(), typ)
			return gvariant.Value{}, false
		}
		return gv, true
	}
	if v, ok := cm(labels.KeyMetadata, "s"); ok && f.hasMetadata && !bytes.Equal([]byte(v.Str()), f.metadata) {
		c.problem(img, "label "+labels.CommitMetadataPrefix+labels.KeyMetadata,
			"differs from %s (%d and %d bytes): flatpak install fails with \"Commit metadata ... not matching expected metadata\"", labels.Metadata, len(v.Str()), len(f.metadata))
	}
	if v, ok := cm(labels.KeyRef, "s"); ok && f.ref != "" && v.Str() != f.ref {
		c.problem(img, "label "+labels.CommitMetadataPrefix+labels.KeyRef, "is %q, but %s is %q", v.Str(), labels.Ref, f.ref)
	}
	if v, ok := cm(labels.KeyRefBinding, "as"); ok && f.ref != "" {
		if s := v.Strv(); len(s) != 1 || s[0] != f.ref {
			c.problem(img, "label "+labels.CommitMetadataPrefix+labels.KeyRefBinding, "is %q, want [%q]: ostree refuses a commit bound to other refs", s, f.ref)
		}
	}
	cm(labels.KeyCollectionBinding, "s")
	if v, ok := cm(labels.KeyInstalledSize, "t"); ok && f.hasInstalled {
		// flatpak stores the sizes byte-swapped (big-endian).
		if got := bits.ReverseBytes64(v.Uint64()); got != f.installed {
			c.problem(img, "label "+labels.CommitMetadataPrefix+labels.KeyInstalledSize, "is %d (big-endian), but %s is %d", got, labels.InstalledSize, f.installed)
		}
	}
	cm(labels.KeyDownloadSize, "t")
	for _, key := range []string{labels.KeyEndOfLife, labels.KeyEndOfLifeRebase} {
		if _, ok := l[labels.CommitMetadataPrefix+key]; ok {
			cm(key, "s")
		}
	}
	return f
}

// checkMetadataText checks a metadata file: a key file whose
// [Application] or [Runtime] group names the ref's ID.
func (c *checker) checkMetadataText(img, where string, f labelFacts, md []byte) {
	kf, err := keyfile.Parse(md)
	if err != nil {
		c.problem(img, where, "not a key file: %v", err)
		return
	}
	if f.kind == "" {
		return
	}
	group := "Application"
	if f.kind == "runtime" {
		group = "Runtime"
	}
	if !kf.HasGroup(group) {
		c.problem(img, where, "has no [%s] group, which a %s's metadata starts with", group, f.kind)
		return
	}
	if name, err := kf.String(group, "name"); err != nil || name != f.id {
		c.problem(img, where, "[%s] name is %q, want the ref's ID %q", group, name, f.id)
	}
	if rt, err := kf.String(group, "runtime"); err != nil || rt == "" {
		c.problem(img, where, "[%s] has no runtime key", group)
	}
}
