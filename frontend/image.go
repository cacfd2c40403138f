package frontend

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/appstream"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/finishargs"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/metadata"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// appMetadata writes the app's metadata file as flatpak build-finish would,
// and returns the include patterns of what build-finish would export.
func appMetadata(s *spec.Spec, arch, runtimeRef, sdkRef string, rep *reports) (md []byte, exports []string, err error) {
	fctx, err := finishargs.Parse(s.FinishArgs)
	if err != nil {
		return nil, nil, err
	}
	// extra-data, as flatpak-builder passes each extra-data source to
	// build-finish: --extra-data=NAME:SHA256:SIZE:INSTALLED-SIZE:URL.
	for _, e := range s.ExtraData {
		if len(e.OnlyArches) > 0 && !slices.Contains(e.OnlyArches, arch) {
			continue
		}
		name := e.Filename
		if name == "" {
			name = path.Base(e.URL)
		}
		installed := ""
		if e.InstalledSize != 0 {
			installed = strconv.FormatUint(e.InstalledSize, 10)
		}
		fctx.ExtraData = append(fctx.ExtraData, finishargs.ExtraData{Name: name, Checksum: strings.ToLower(e.SHA256),
			Size: strconv.FormatUint(e.Size, 10), InstalledSize: installed, URI: e.URL})
	}
	if len(fctx.ExtraData) > 0 && !rep.has("bin/apply_extra", 'f') {
		return nil, nil, errExtraData{errors.New("extra-data: the app must ship /app/bin/apply_extra, which Flatpak runs at install time to unpack the extra data into /app/extra; no package installed it")}
	}
	var owned []string
	for _, n := range fctx.SessionBus {
		if n.Policy == finishargs.PolicyOwn {
			owned = append(owned, n.Name)
		}
	}
	exports = metadata.ExportGlobs(s.ID, owned...)
	command := s.Command
	if command == "" {
		// build-finish picks the first executable in files/bin.
		command = rep.firstBinary()
	}
	if command == "" && fctx.Command == "" {
		return nil, nil, errors.New("no command: set command, or install an executable into /app/bin")
	}
	md, err = metadata.App(metadata.AppInput{
		ID:         s.ID,
		Runtime:    runtimeRef,
		SDK:        sdkRef,
		Command:    command,
		Context:    fctx,
		Tags:       s.Tags,
		Extensions: s.AddExtensions,
	})
	return md, exports, err
}

// runtimeMetadata writes a runtime's metadata: [Runtime] with the runtime
// and sdk it names (itself, unless runtime:/sdk: say otherwise).
func runtimeMetadata(s *spec.Spec, arch string) ([]byte, error) {
	fctx, err := finishargs.Parse(s.FinishArgs)
	if err != nil {
		return nil, err
	}
	partial := func(id string) string {
		if id == "" {
			id = s.ID
		}
		return id + "/" + arch + "/" + s.Branch
	}
	return metadata.Runtime(metadata.RuntimeInput{
		ID:         s.ID,
		Runtime:    partial(s.Runtime),
		SDK:        partial(s.SDK),
		Context:    fctx,
		Tags:       s.Tags,
		Extensions: s.AddExtensions,
	})
}

// extensionMetadata writes an extension's metadata as flatpak build-init
// --type=extension does (its runtime and SDK those of the runtime it
// extends, and [ExtensionOf] naming it) and build-finish then.
func extensionMetadata(s *spec.Spec, arch, runtimeRef, sdkRef string) ([]byte, error) {
	fctx, err := finishargs.Parse(s.FinishArgs)
	if err != nil {
		return nil, err
	}
	return metadata.ExtensionOf(metadata.RuntimeInput{
		ID:         s.ID,
		Runtime:    runtimeRef,
		SDK:        sdkRef,
		Context:    fctx,
		Tags:       s.Tags,
		Extensions: s.AddExtensions,
	}, "runtime/"+runtimeRef)
}

// image is the image config: the target platform and the labels
// flatpak build-bundle --oci writes, plus the user's labels.
func (b *builder) image(p ocispecs.Platform, ref flatpakref.Ref, md []byte, installedSize uint64) *dockerspec.DockerOCIImage {
	s := b.spec
	img := &dockerspec.DockerOCIImage{}
	img.Platform = ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
	img.RootFS.Type = "layers"
	ts := time.Now().UTC()
	if b.cfg.Epoch != nil {
		ts = *b.cfg.Epoch
		img.Created = b.cfg.Epoch
	}
	l := labels.Flatpak(labels.Input{
		Ref:             ref.String(),
		Metadata:        md,
		InstalledSize:   installedSize,
		DownloadSize:    installedSize,
		EndOfLife:       s.EndOfLife,
		EndOfLifeRebase: s.EndOfLifeRebase,
		Timestamp:       ts,
		Subject:         labels.DefaultSubject(ref.ID),
		Body:            "Name: " + ref.ID + "\nArch: " + ref.Arch + "\nBranch: " + ref.Branch + "\nBuilt with: flatpak-frontend\n",
	})
	title := s.Name
	if title == "" {
		title = s.ID
	}
	l[ocispecs.AnnotationTitle] = title
	if b.cfg.Epoch != nil {
		l[ocispecs.AnnotationCreated] = b.cfg.Epoch.Format(time.RFC3339)
	}
	maps.Copy(l, s.Labels)
	maps.Copy(l, b.cfg.Labels)
	img.Config.Labels = l
	return img
}

// appstreamLabels are the labels that let registry clients (GNOME Software,
// flatpak remote-ls on an OCI remote) show an app without pulling it, as
// flatpak build-bundle --oci writes them: org.freedesktop.appstream.appdata
// is the app's component of its composed catalog
// (share/app-info/xmls/ID.xml.gz) as Flatpak migrates it (package
// appstream), org.freedesktop.appstream.icon-64/-128 the catalog's cached
// icons as data: URLs. read reads a file of the app's /app.
//
// When nothing composed a catalog (appstream-compose: false, or a runtime
// without a compose tool), build-bundle would write no AppStream label;
// the app's metainfo file and hicolor icons stand in, shaped the same, so
// registry clients still show the app.
func appstreamLabels(read func(path string) []byte, ref flatpakref.Ref, md []byte) (map[string]string, error) {
	id := ref.ID
	bundle := appstream.Bundle{Ref: ref.String(), ID: id}
	if kf, err := keyfile.Parse(md); err == nil {
		group := metadata.GroupApplication
		if ref.IsRuntime() {
			group = metadata.GroupRuntime
		}
		bundle.Runtime, _ = kf.String(group, "runtime")
		bundle.SDK, _ = kf.String(group, "sdk")
		bundle.Tags, _ = kf.StringList(group, "tags")
	}
	var catalog *appstream.Node
	icons := map[string]string{"64": "/share/app-info/icons/flatpak/64x64/" + id + ".png", "128": "/share/app-info/icons/flatpak/128x128/" + id + ".png"}
	if gz := read("/share/app-info/xmls/" + id + ".xml.gz"); gz != nil {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return nil, errors.Wrapf(err, "share/app-info/xmls/%s.xml.gz", id)
		}
		if catalog, err = appstream.Parse(zr); err != nil {
			return nil, errors.Wrapf(err, "share/app-info/xmls/%s.xml.gz", id)
		}
	} else {
		for _, p := range appstream.MetainfoPaths(id) {
			if dt := read("/" + p); dt != nil {
				var err error
				if catalog, err = appstream.CatalogOf(dt); err != nil {
					return nil, errors.Wrapf(err, "%s", p)
				}
				break
			}
		}
		for size := range icons {
			icons[size] = "/share/icons/hicolor/" + size + "x" + size + "/apps/" + id + ".png"
		}
	}
	out := map[string]string{}
	if catalog == nil {
		return out, nil
	}
	migrated, ok := appstream.Migrate(catalog, bundle)
	if !ok {
		return out, nil
	}
	out[labels.AppstreamAppdata] = string(migrated.Bytes())
	for size, p := range icons {
		if dt := read(p); dt != nil {
			out[labels.AppstreamIconPrefix+size] = "data:image/png;base64," + base64.StdEncoding.EncodeToString(dt)
		}
	}
	return out, nil
}

// errExtraData is an error about the extra-data key.
type errExtraData struct{ error }

// buildSystemLabels are the labels Fedora's flatpak-module-tools writes,
// which Fedora's registry and flatpak-indexer read: name,
// com.redhat.component, version and release (for an app the main
// package's, the first of packages; for a runtime its branch), and
// org.opencontainers.image.version.
func (b *builder) buildSystemLabels(rep *reports) map[string]string {
	s := b.spec
	main := ""
	if len(s.Packages) > 0 {
		main = s.Packages[0].Name
	}
	version, release := s.Branch, "1"
	component := s.Component
	if s.BuildRuntime || s.BuildExtension {
		if component == "" {
			component = s.Name
		}
		if component == "" {
			component = s.ID
		}
	} else {
		for _, p := range rep.install.Packages {
			if p.Added && p.Name == main {
				version, release = p.Version, p.Release
			}
		}
		if component == "" {
			n := s.Name
			if n == "" {
				n = main
			}
			component = n + "-flatpak"
		}
	}
	name := s.Name
	if name == "" {
		name = strings.TrimSuffix(component, "-flatpak")
	}
	return map[string]string{
		labels.Name:                name,
		labels.Component:           component,
		labels.Version:             version,
		labels.Release:             release,
		ocispecs.AnnotationVersion: version,
	}
}
