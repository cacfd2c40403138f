package labels

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/gvariant"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
)

// Label names.
const (
	Ref           = "org.flatpak.ref"
	Metadata      = "org.flatpak.metadata"
	InstalledSize = "org.flatpak.installed-size"
	DownloadSize  = "org.flatpak.download-size"
	Timestamp     = "org.flatpak.timestamp"
	Subject       = "org.flatpak.subject"
	Body          = "org.flatpak.body"
	// CommitMetadataPrefix is followed by an ostree commit metadata key.
	CommitMetadataPrefix = "org.flatpak.commit-metadata."
	// The build system's labels, as Fedora's flatpak-module-tools (and
	// OSBS before it) writes them: the image's repository name, its Koji
	// component, and the version and release of its NVR.
	Name      = "name"
	Component = "com.redhat.component"
	Version   = "version"
	Release   = "release"
	// AppstreamAppdata is the app's AppStream component, as Flatpak
	// migrates it (package appstream).
	AppstreamAppdata = "org.freedesktop.appstream.appdata"
	// AppstreamIconPrefix is followed by an icon size, 64 or 128; the
	// value is a data: URL of the PNG.
	AppstreamIconPrefix = "org.freedesktop.appstream.icon-"
)

// reservedPrefixes name the labels the frontend writes from what it built:
// Flatpak's (org.flatpak.*, which Flatpak checks against the image's
// content), the AppStream data registries show (org.freedesktop.appstream.*),
// and the frontend's own (org.flatpak-frontend.*, such as the list of the
// image's RPMs that tools trust to find what to rebuild).
var reservedPrefixes = []string{"org.flatpak.", "org.freedesktop.appstream.", "org.flatpak-frontend."}

// ErrReserved is why a user's label of a Reserved name is refused.
var ErrReserved = errors.New("the frontend writes this label from what it builds (Flatpak checks its org.flatpak.* labels against the image; tools trust the others): it cannot be set")

// Reserved says whether a label of this name is the frontend's to write:
// one a user gave would contradict the image, so it is refused
// (ErrReserved).
func Reserved(key string) bool {
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// Commit metadata keys (written as CommitMetadataPrefix + key).
const (
	KeyMetadata          = "xa.metadata"
	KeyRef               = "xa.ref"
	KeyInstalledSize     = "xa.installed-size"
	KeyDownloadSize      = "xa.download-size"
	KeyRefBinding        = "ostree.ref-binding"
	KeyCollectionBinding = "ostree.collection-binding"
	// KeyEndOfLife and KeyEndOfLifeRebase are OSTREE_COMMIT_META_KEY_ENDOFLIFE
	// and OSTREE_COMMIT_META_KEY_ENDOFLIFE_REBASE, what `flatpak build-export
	// --end-of-life[-rebase]` sets and what flatpak's OCI code reads back.
	KeyEndOfLife       = "ostree.endoflife"
	KeyEndOfLifeRebase = "ostree.endoflife-rebase"
	// KeyExtraDataSources is what flatpak build-export makes of the
	// metadata's [Extra Data] group (see ExtraDataSources).
	KeyExtraDataSources = "xa.extra-data-sources"
)

// Input is what the labels are computed from.
type Input struct {
	// Ref is the full ref: app/ID/ARCH/BRANCH or runtime/ID/ARCH/BRANCH.
	Ref string
	// Metadata is the metadata file.
	Metadata []byte
	// InstalledSize is the size of the files on disk: see InstalledSizeOf.
	InstalledSize uint64
	// DownloadSize is xa.download-size and, unless LayerSize is set,
	// org.flatpak.download-size. Flatpak puts the sum of the compressed
	// ostree objects in the first and the size of the compressed OCI layer
	// in the second; neither is known before the image is exported, and
	// both are only shown to users as estimates.
	DownloadSize uint64
	// LayerSize, if not 0, is org.flatpak.download-size.
	LayerSize uint64
	// EndOfLife marks the build end-of-life with this reason.
	EndOfLife string
	// EndOfLifeRebase is the ID that replaces this one; the label holds the
	// ref with the ID replaced, as build-export writes it.
	EndOfLifeRebase string
	// CollectionID is ostree.collection-binding ("" as build-export writes
	// without --collection-id).
	CollectionID string
	// Timestamp is the commit time; zero omits the label.
	Timestamp time.Time
	// Subject and Body are the commit's; empty omits them. DefaultSubject
	// and DefaultBody give what build-export writes.
	Subject, Body string
}

// DefaultSubject is build-export's default commit subject.
func DefaultSubject(id string) string { return "Export " + id }

// DefaultBody is build-export's default commit body for a ref, naming the
// flatpak version (such as "1.14.10") it claims to be built with.
func DefaultBody(ref, flatpakVersion string) string {
	r, err := flatpakref.Parse(ref)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("Name: %s\nArch: %s\nBranch: %s\nBuilt with: Flatpak %s\n", r.ID, r.Arch, r.Branch, flatpakVersion)
}

func variant(v gvariant.Value) (string, error) {
	b, err := gvariant.Variant(v)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// Check reports why in cannot be labelled faithfully: a ref that is not
// app/ID/ARCH/BRANCH or runtime/ID/ARCH/BRANCH, or a NUL byte in a string
// (GVariant strings cannot hold one).
func Check(in Input) error {
	if _, err := flatpakref.Parse(in.Ref); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	for _, s := range []string{in.Ref, string(in.Metadata), in.EndOfLife, in.EndOfLifeRebase, in.CollectionID} {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("labels: %q contains a NUL byte", s)
		}
	}
	return nil
}

// Flatpak returns the labels `flatpak build-bundle --oci` writes for in.
// Call Check first: for input Check refuses, commit-metadata labels that
// cannot be encoded are left out.
func Flatpak(in Input) map[string]string {
	l := map[string]string{
		Ref:           in.Ref,
		Metadata:      string(in.Metadata),
		InstalledSize: strconv.FormatUint(in.InstalledSize, 10),
		DownloadSize:  strconv.FormatUint(in.DownloadSize, 10),
	}
	if in.LayerSize != 0 {
		l[DownloadSize] = strconv.FormatUint(in.LayerSize, 10)
	}
	cm := map[string]gvariant.Value{
		KeyMetadata:          gvariant.String(string(in.Metadata)),
		KeyRef:               gvariant.String(in.Ref),
		KeyInstalledSize:     gvariant.Uint64(bits.ReverseBytes64(in.InstalledSize)),
		KeyDownloadSize:      gvariant.Uint64(bits.ReverseBytes64(in.DownloadSize)),
		KeyRefBinding:        gvariant.StringArray([]string{in.Ref}),
		KeyCollectionBinding: gvariant.String(in.CollectionID),
	}
	if in.EndOfLife != "" {
		cm[KeyEndOfLife] = gvariant.String(in.EndOfLife)
	}
	if r, err := flatpakref.Parse(in.Ref); err == nil && in.EndOfLifeRebase != "" {
		r.ID = in.EndOfLifeRebase
		cm[KeyEndOfLifeRebase] = gvariant.String(r.String())
	}
	if eds, err := ExtraDataSources(in.Metadata); err == nil && eds != nil {
		if v, err := gvariant.ExtraDataSources(eds); err == nil {
			cm[KeyExtraDataSources] = v
		}
	}
	for k, v := range cm {
		if s, err := variant(v); err == nil {
			l[CommitMetadataPrefix+k] = s
		}
	}
	if !in.Timestamp.IsZero() {
		l[Timestamp] = strconv.FormatInt(in.Timestamp.Unix(), 10)
	}
	if in.Subject != "" {
		l[Subject] = in.Subject
	}
	if in.Body != "" {
		l[Body] = in.Body
	}
	return l
}

// FileSize is the installed size of one regular file of size bytes: flatpak
// (_flatpak_repo_collect_sizes) counts every regular file of the commit —
// metadata, files/... and export/... alike, each path on its own — rounded
// up to a multiple of 512 bytes. Directories and symlinks count nothing.
func FileSize(size uint64) uint64 { return (size + 511) / 512 * 512 }

// InstalledSizeOf is xa.installed-size / org.flatpak.installed-size for the
// sizes of the commit's regular files (not directories or symlinks).
func InstalledSizeOf(regularFileSizes ...uint64) uint64 {
	var total uint64
	for _, s := range regularFileSizes {
		total += FileSize(s)
	}
	return total
}

// ExtraDataSources reads the metadata's [Extra Data] group as flatpak
// build-export does (collect_extra_data): one source per uri key (uri,
// uri1, ...), in the group's order, with the name, checksum, size and
// installed size of the same suffix; the name defaults to the URI's last
// element. Nil when there is none.
func ExtraDataSources(metadata []byte) ([]gvariant.ExtraDataSource, error) {
	kf, err := keyfile.Parse(metadata)
	if err != nil {
		return nil, err
	}
	const group = "Extra Data"
	var out []gvariant.ExtraDataSource
	for _, key := range kf.Keys(group) {
		suffix, ok := strings.CutPrefix(key, "uri")
		if !ok {
			continue
		}
		get := func(k string) string { v, _ := kf.String(group, k+suffix); return v }
		uri := get("uri")
		if !strings.HasPrefix(uri, "http:") && !strings.HasPrefix(uri, "https:") {
			return nil, fmt.Errorf("extra data %s: only http and https URIs", uri)
		}
		name := get("name")
		if name == "" {
			name = path.Base(uri)
		}
		sum, err := hex.DecodeString(get("checksum"))
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("extra data %s: checksum %q is not a SHA-256", name, get("checksum"))
		}
		size, err := strconv.ParseUint(get("size"), 10, 64)
		if err != nil || size == 0 {
			return nil, fmt.Errorf("extra data %s: size %q", name, get("size"))
		}
		installed, _ := strconv.ParseUint(get("installed-size"), 10, 64)
		src := gvariant.ExtraDataSource{Name: name, Size: size, InstalledSize: installed, URI: uri}
		copy(src.SHA256[:], sum)
		out = append(out, src)
	}
	return out, nil
}
