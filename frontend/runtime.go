package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
	"golang.org/x/sync/errgroup"
)

// imageSource is where one of the images a build uses can be named, in
// order of precedence: a named context, a build arg, a spec key.
type imageSource struct {
	context, arg string
	// specRef and specKey are the spec's value and its key's name.
	specRef, specKey string
}

func runtimeSource(s *spec.Spec) imageSource {
	return imageSource{RuntimeContext, ArgRuntimeImage, s.DefaultRuntimeImage(), "runtime-image"}
}

func baseSource(s *spec.Spec) imageSource {
	return imageSource{BaseContext, ArgBaseImage, s.BaseImage, "base_image"}
}

// image is a resolved image with what the build reads from it.
type image struct {
	fllb.Image
	labels map[string]string
	// flatpak is true for a Flatpak runtime image (files/ at the top).
	flatpak bool
	ref     client.Reference
	// metadata is a runtime's metadata file, once runtimeRefs read it.
	metadata *keyfile.File
	// source names where it came from, for messages.
	source string
	// arch is the image config's architecture ("" when it has none).
	arch string
}

// loadImage resolves an image and looks inside it: is it a Flatpak runtime,
// already hybrid, which installer does it have. It returns nil, nil when
// nothing names the image.
func (b *builder) loadImage(ctx context.Context, src imageSource, p ocispecs.Platform) (*image, error) {
	var (
		st   *llb.State
		conf *dockerspec.DockerOCIImage
		from string
	)
	nc, err := b.bc.NamedContext(src.context, dockerui.ContextOpt{Platform: &p})
	if err != nil {
		return nil, err
	}
	switch {
	case nc != nil:
		st, conf, err = nc.Load(ctx)
		if err != nil {
			return nil, withContext(err, "build context %q", src.context)
		}
		from = "build context " + src.context
	case b.cfg.BuildArgs[src.arg] != "":
		ref := b.cfg.BuildArgs[src.arg]
		from = "build-arg:" + src.arg + " " + ref
		if st, conf, err = resolveImage(ctx, b.c, ref, p); err != nil {
			return nil, withContext(err, "%s", from)
		}
	case src.specRef != "":
		from, key := src.specKey+" "+src.specRef, src.specKey
		derived := src.specKey == "runtime-image" && b.spec.RuntimeImage == ""
		if derived {
			// Fedora's image for runtime-name and runtime-version.
			from, key = "the runtime image "+src.specRef+" (from runtime-name and runtime-version)", "runtime-name"
		}
		if st, conf, err = resolveImage(ctx, b.c, src.specRef, p); err != nil {
			err = withContext(err, "%s", from)
			if derived {
				err = fmt.Errorf("%w; to build on a copy of it, give --build-context %s=docker-image://REF or oci-layout://DIR (or --build-arg %s=REF)", err, src.context, src.arg)
			}
			return nil, wrapSpec(b.spec, err, key)
		}
	default:
		return nil, nil
	}

	ref, err := b.solve(ctx, *st, p)
	if err != nil {
		return nil, errors.Wrapf(err, "load %s", from)
	}
	img := &image{Image: fllb.Image{State: *st}, ref: ref, source: from}
	if conf != nil {
		img.Env = conf.Config.Env
		img.labels = conf.Config.Labels
		img.arch = conf.Architecture
	}
	// The listing comes first: it pulls the image's layers into the
	// daemon, and pulls racing each other turn a full disk's "no space left
	// on device" into a resumed copy's "unsupported offset". StatFile
	// follows symlinks; the top directory's listing does not.
	top, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: "/"})
	if err != nil {
		return nil, errors.Wrapf(err, "list %s", from)
	}
	// Then the installer probes, side by side: each is a round trip.
	installers := []spec.Installer{spec.InstallerMicrodnf, spec.InstallerDnf5, spec.InstallerDnf}
	dirs := []string{"/usr/bin/", "/files/bin/"}
	found := make([]bool, len(installers)*len(dirs))
	var eg errgroup.Group
	for i, inst := range installers {
		for j, dir := range dirs {
			eg.Go(func() error {
				_, err := ref.StatFile(ctx, client.StatRequest{Path: dir + string(inst)})
				found[i*len(dirs)+j] = err == nil
				return nil
			})
		}
	}
	eg.Wait()
	hybrid := false
	for _, fi := range top {
		img.Top = append(img.Top, fi.Path)
		switch fi.Path {
		case "files":
			img.flatpak = fs.FileMode(fi.Mode).IsDir()
		case "usr":
			// usr -> /files (the hybrid layout of seeds/01), or a
			// relative link to the same folder.
			target := path.Clean(strings.TrimSuffix(fi.Linkname, "/"))
			hybrid = fs.FileMode(fi.Mode)&fs.ModeSymlink != 0 && (target == "/files" || target == "files")
		}
	}
	img.PlainRuntime = img.flatpak && !hybrid
	for i, inst := range installers {
		if slices.Contains(found[i*len(dirs):(i+1)*len(dirs)], true) {
			img.Installers = append(img.Installers, inst)
		}
	}
	return img, nil
}

// runtimeRefs reads the runtime's Flatpak ref and SDK: from its labels, or
// its /metadata file.
func (b *builder) runtimeRefs(ctx context.Context, rt *image, arch string) (runtimeRef, sdkRef string, err error) {
	s := b.spec
	if !rt.flatpak {
		return "", "", wrapSpec(s, errors.Errorf("the runtime from %s is not a Flatpak runtime image: it has no /files", rt.source), "runtime-name")
	}
	var md []byte
	if v := rt.labels[labels.Metadata]; v != "" {
		md = []byte(v)
	} else if md, err = rt.ref.ReadFile(ctx, client.ReadRequest{Filename: "/metadata"}); err != nil {
		return "", "", errors.Errorf("the runtime from %s has no /metadata", rt.source)
	}
	kf, err := keyfile.Parse(md)
	if err != nil {
		return "", "", errors.Wrapf(err, "the metadata of the runtime from %s", rt.source)
	}
	rt.metadata = kf
	name, _ := kf.String("Runtime", "name")
	if name == "" {
		return "", "", errors.Errorf("the runtime from %s is not a Flatpak runtime: its metadata has no [Runtime] name", rt.source)
	}
	branch := s.RuntimeVersion
	if r := rt.labels[labels.Ref]; r != "" {
		if ref, err := flatpakref.Parse(r); err == nil && ref.IsRuntime() {
			name, branch = ref.ID, ref.Branch
			if s.RuntimeVersion != "" && s.RuntimeVersion != branch {
				b.warn(ctx, fmt.Sprintf("runtime-version is %s, but the runtime from %s is %s branch %s: the app is built for %s and runs on it", s.RuntimeVersion, rt.source, name, branch, branch), "runtime-version")
			}
		}
	}
	if branch == "" {
		return "", "", wrapSpec(s, errors.Errorf("the runtime %s from %s has no org.flatpak.ref label; set runtime-version to its branch", name, rt.source), "runtime-name")
	}
	if want := s.RuntimeID(); want != "" && want != name {
		said := s.RuntimeName
		if want != said {
			said += " (" + want + ")"
		}
		return "", "", wrapSpec(s, errors.Errorf("runtime-name is %s but the runtime from %s is %s", said, rt.source, name), "runtime-name")
	}
	runtimeRef = flatpakref.Ref{Kind: flatpakref.Runtime, ID: name, Arch: arch, Branch: branch}.Partial()
	sdkRef = runtimeRef
	if sdk, _ := kf.String("Runtime", "sdk"); sdk != "" {
		sdkRef = sdk
	}
	return runtimeRef, sdkRef, nil
}

func resolveImage(ctx context.Context, c client.Client, ref string, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, nil, err
	}
	named = reference.TagNameOnly(named)
	ref, _, data, err := c.ResolveImageConfig(ctx, named.String(), sourceresolver.Opt{
		LogName:  "load metadata for " + named.String(),
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p},
	})
	if err != nil {
		return nil, nil, err
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(data, &img); err != nil {
		return nil, nil, err
	}
	st, err := llb.Image(ref, llb.Platform(p)).WithImageConfig(data)
	if err != nil {
		return nil, nil, err
	}
	return &st, &img, nil
}

// extensionDir is where the extension id lives in a runtime, relative to
// /usr, as Flatpak mounts it: the directory of the runtime's [Extension
// ID] group, or for a group naming a prefix of id with subdirectories=true,
// that directory and the rest of id (org.freedesktop.Platform.GL.default
// in lib/GL/default).
func extensionDir(md *keyfile.File, id string) (string, error) {
	var points []string
	for _, g := range md.Groups() {
		name, ok := strings.CutPrefix(g, "Extension ")
		if !ok {
			continue
		}
		points = append(points, name)
		dir, _ := md.String(g, "directory")
		if dir == "" {
			continue
		}
		if name == id {
			return dir, nil
		}
		if rest, ok := strings.CutPrefix(id, name+"."); ok && !strings.Contains(rest, ".") {
			if sub, _ := md.String(g, "subdirectories"); sub == "true" {
				return dir + "/" + rest, nil
			}
		}
	}
	if len(points) == 0 {
		return "", errors.Errorf("build-extension: the runtime declares no extension point (add-extensions) for %s, nor any other", id)
	}
	return "", errors.Errorf("build-extension: the runtime declares no extension point for %s (it has %s)", id, strings.Join(points, ", "))
}
