package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/distribution/reference"
	"github.com/flatpak-frontend/flatpak-frontend/keyfile"
	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// runtimeInfo is what the app's metadata needs from its runtime.
type runtimeInfo struct {
	fllb.Runtime
	// Ref is ID/ARCH/BRANCH of the runtime, SDK likewise.
	Ref string
	SDK string
	// Source names where the runtime came from, for messages.
	Source string
}

// resolveRuntime finds the runtime image (named context, build arg, spec)
// and reads what the build needs from it: whether it is already hybrid,
// which installer it has, and its Flatpak ref and SDK.
func resolveRuntime(ctx context.Context, c client.Client, bc *dockerui.Client, cfg *Config, s *spec.Spec, p ocispecs.Platform, arch string) (*runtimeInfo, error) {
	var (
		st  *llb.State
		img *dockerspec.DockerOCIImage
		src string
	)
	nc, err := bc.NamedContext(RuntimeContext, dockerui.ContextOpt{Platform: &p})
	if err != nil {
		return nil, err
	}
	if nc != nil {
		st, img, err = nc.Load(ctx)
		if err != nil {
			return nil, errors.Wrapf(err, "build context %q", RuntimeContext)
		}
		src = "build context " + RuntimeContext
	} else {
		ref := cfg.RuntimeImage
		src = "build-arg:" + ArgRuntimeImage
		if ref == "" {
			ref = s.DefaultRuntimeImage()
			src = "runtime-image " + ref
		}
		if ref == "" {
			return nil, wrapSpec(s, errors.New("no runtime image: set runtime-image, --build-arg RUNTIME_IMAGE=REF or --build-context runtime=..."), "runtime-name")
		}
		st, img, err = resolveImage(ctx, c, ref, p)
		if err != nil {
			return nil, wrapSpec(s, errors.Wrapf(err, "runtime image %s", ref), "runtime-image")
		}
	}

	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, errors.Wrapf(err, "load runtime from %s", src)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}

	ri := &runtimeInfo{Runtime: fllb.Runtime{State: *st}, Source: src}
	if img != nil {
		ri.Env = img.Config.Env
	}
	// StatFile follows symlinks; the top directory's listing does not.
	top, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: "/"})
	if err != nil {
		return nil, errors.Wrapf(err, "list the runtime from %s", src)
	}
	var hasFiles bool
	for _, fi := range top {
		switch fi.Path {
		case "files":
			hasFiles = fs.FileMode(fi.Mode).IsDir()
		case "usr":
			ri.Hybrid = fs.FileMode(fi.Mode)&fs.ModeSymlink != 0 && strings.TrimSuffix(fi.Linkname, "/") == "/files"
		}
	}
	if !hasFiles {
		return nil, errors.Errorf("the runtime from %s is not a Flatpak runtime image: it has no /files", src)
	}
	for _, inst := range []spec.Installer{spec.InstallerMicrodnf, spec.InstallerDnf5, spec.InstallerDnf} {
		if _, err := ref.StatFile(ctx, client.StatRequest{Path: "/files/bin/" + string(inst)}); err == nil {
			ri.Installer = inst
			break
		}
	}

	var md []byte
	var labels map[string]string
	if img != nil {
		labels = img.Config.Labels
	}
	if v := labels["org.flatpak.metadata"]; v != "" {
		md = []byte(v)
	} else {
		md, err = ref.ReadFile(ctx, client.ReadRequest{Filename: "/metadata"})
		if err != nil {
			return nil, errors.Errorf("the runtime from %s has no /metadata", src)
		}
	}
	kf, err := keyfile.Parse(md)
	if err != nil {
		return nil, errors.Wrapf(err, "the metadata of the runtime from %s", src)
	}
	name, _ := kf.String("Runtime", "name")
	if name == "" {
		return nil, errors.Errorf("the runtime from %s is not a Flatpak runtime: its metadata has no [Runtime] name", src)
	}
	branch := s.RuntimeVersion
	if r := labels["org.flatpak.ref"]; r != "" {
		parts := strings.Split(r, "/")
		if len(parts) == 4 && parts[0] == "runtime" {
			name, branch = parts[1], parts[3]
		}
	}
	if branch == "" {
		return nil, wrapSpec(s, errors.Errorf("the runtime %s from %s has no org.flatpak.ref label; set runtime-version to its branch", name, src), "runtime-name")
	}
	if s.RuntimeName != "" && s.RuntimeName != name {
		return nil, wrapSpec(s, errors.Errorf("runtime-name is %s but the runtime from %s is %s", s.RuntimeName, src, name), "runtime-name")
	}
	ri.Ref = fmt.Sprintf("%s/%s/%s", name, arch, branch)
	ri.SDK = ri.Ref
	if sdk, _ := kf.String("Runtime", "sdk"); sdk != "" {
		ri.SDK = sdk
	}
	return ri, nil
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
