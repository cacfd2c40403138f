package frontend

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
	"golang.org/x/sync/errgroup"
)

// Build is the gateway build function: grpcclient.RunFromEnvironment runs it
// in the frontend image; BuildWith gives the function client.Build runs
// in-process.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	return build(ctx, c, Options{})
}

func build(ctx context.Context, c client.Client, o Options) (*client.Result, error) {
	raw := c
	c = withDefaults{c}
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(bc)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "yaml")
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(src.Filename, src.Data, spec.Options{BuildArgs: cfg.BuildArgs})
	if err != nil {
		return nil, parseError(src.Filename, src.Data, err)
	}

	b := &builder{c: c, bc: bc, cfg: cfg, spec: s, smap: src.SourceMap, warnFn: src.Warn, raw: raw, opts: o}
	if res, ok, err := b.subrequest(ctx); err != nil || ok {
		return res, err
	}
	defer prefetchHelper(ctx, c, o)()

	if err := checkDaemonCaps(c.BuildOpts(), bc.SBOM != nil); err != nil {
		return nil, err
	}
	if err := b.selectPlatforms(ctx); err != nil {
		return nil, err
	}
	// What each platform's build produced, by platform ID (the key
	// dockerui uses for a platform's refs).
	var mu sync.Mutex
	refs := map[string]string{}
	sboms := map[string][]byte{}
	rb, err := bc.Build(ctx, func(ctx context.Context, p *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		platform := platforms.DefaultSpec()
		if p != nil {
			platform = *p
		}
		r, err := b.platform(ctx, platform)
		if err != nil {
			return nil, err
		}
		id := platforms.FormatAll(platforms.Normalize(platform))
		mu.Lock()
		refs[id], sboms[id] = r.flatpakRef, r.sbom
		mu.Unlock()
		return r.BuildResult, nil
	})
	if err != nil {
		return nil, err
	}
	res, err := rb.Finalize()
	if err != nil {
		return nil, err
	}
	if err := b.attachSBOMs(ctx, res, sboms); err != nil {
		return nil, err
	}
	// Flatpak finds the image in an OCI layout by this annotation (when
	// the client keeps it: buildctl and buildx write "latest" instead).
	for id, ref := range refs {
		var p *ocispecs.Platform
		if bc.MultiPlatformRequested {
			pp, err := platforms.Parse(id)
			if err != nil {
				return nil, err
			}
			p = &pp
		}
		res.AddMeta(exptypes.AnnotationManifestDescriptorKey(p, ocispecs.AnnotationRefName), []byte(ref))
	}
	return res, nil
}

// selectPlatforms applies the spec's platforms: building only for
// architectures it excludes is an error at its line; a multi-platform
// build leaves them out.
func (b *builder) selectPlatforms(ctx context.Context) error {
	ps := b.spec.Platforms
	if ps == nil {
		return nil
	}
	targets := b.bc.TargetPlatforms
	if len(targets) == 0 {
		targets = []ocispecs.Platform{platforms.DefaultSpec()}
	}
	var keep, dropped []ocispecs.Platform
	for _, p := range targets {
		arch, err := fllb.FlatpakArch(p)
		if err != nil {
			return err
		}
		if (len(ps.Only) == 0 || slices.Contains(ps.Only, arch)) && !slices.Contains(ps.Not, arch) {
			keep = append(keep, p)
		} else {
			dropped = append(dropped, p)
		}
	}
	if len(keep) == 0 {
		var names []string
		for _, p := range dropped {
			names = append(names, platforms.Format(p))
		}
		return wrapSpec(b.spec, errors.Errorf("platforms: this file is not built for %s", strings.Join(names, ", ")), "platforms")
	}
	for _, p := range dropped {
		b.warn(ctx, fmt.Sprintf("platforms: %s is left out of this build", platforms.Format(p)), "platforms")
	}
	b.bc.TargetPlatforms = keep
	return nil
}

// builder is one frontend invocation.
type builder struct {
	c    client.Client
	bc   *dockerui.Client
	cfg  *Config
	spec *spec.Spec
	smap *llb.SourceMap
	// warnFn shows a warning at spec lines (dockerui's).
	warnFn func(context.Context, string, client.WarnOpts)
	// raw is the client as BuildKit gave it, opts the in-process settings.
	raw  client.Client
	opts Options
}

type platformResult struct {
	*dockerui.BuildResult
	flatpakRef string
	sbom       []byte
}

// foreignTo returns the builder's platform when p's architecture is not
// its own, nil when the builder runs p's code itself.
func (b *builder) foreignTo(p ocispecs.Platform) *ocispecs.Platform {
	if len(b.bc.BuildPlatforms) == 0 {
		return nil
	}
	bp := platforms.Normalize(b.bc.BuildPlatforms[0])
	if platforms.Normalize(p).Architecture == bp.Architecture {
		return nil
	}
	return &bp
}

func (b *builder) platform(ctx context.Context, p ocispecs.Platform) (*platformResult, error) {
	s := b.spec
	arch, err := fllb.FlatpakArch(p)
	if err != nil {
		return nil, err
	}
	h, err := helper(b.raw, b.opts)
	if err != nil {
		return nil, err
	}
	// The repos' contexts and the runtime image load side by side: each
	// is a few round trips to the daemon.
	var contexts map[string]llb.State
	var rt *image
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) {
		contexts, err = b.repoContexts(ectx)
		return err
	})
	if !s.BuildRuntime {
		eg.Go(func() (err error) {
			rt, err = b.loadImage(ectx, runtimeSource(s), p)
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	opts := fllb.Options{
		Platform:  p,
		Arch:      arch,
		Contexts:  contexts,
		BuildArgs: s.Args,
		Helper:    *h,
		SourceMap: b.smap,
		Epoch:     b.cfg.Epoch,
		NoCache:   b.bc.IsNoCache(s.ID),
		// Older daemons key the install's mounts by content: slower, same
		// result (the Dockerfile frontend falls back the same way).
		KeepContentCache: !b.supports(pb.CapExecMountContentCache),
		Proxy:            fllb.ProxyFromBuildArgs(b.cfg.BuildArgs),
	}
	var runtimeRef, sdkRef string
	if !s.BuildRuntime {
		if rt == nil {
			return nil, wrapSpec(s, errors.New("no runtime image: set runtime-image, --build-arg RUNTIME_IMAGE=REF or --build-context runtime=..."), "runtime-name")
		}
		if runtimeRef, sdkRef, err = b.runtimeRefs(ctx, rt, arch); err != nil {
			return nil, err
		}
		opts.Runtime = rt.Image
		if s.BuildExtension {
			if opts.ExtensionDir, err = extensionDir(rt.metadata, s.ID); err != nil {
				return nil, wrapSpec(s, err, "build-extension")
			}
		}
	}
	// A build image installs a runtime's packages, and an app's when the
	// runtime lacks the installer the spec names, or has none, or when
	// the target's architecture is foreign to the builder: then the
	// build image is of the builder's platform (the runtime's own variant
	// of it, unless the spec names one), and installs with --forcearch.
	foreign := b.foreignTo(p)
	if foreign != nil || s.BuildRuntime || len(rt.Installers) == 0 || s.Installer != spec.InstallerAuto && !slices.Contains(rt.Installers, s.Installer) {
		bp := p
		if foreign != nil {
			bp = *foreign
			opts.BuildPlatform = foreign
		}
		base, err := b.loadImage(ctx, baseSource(s), bp)
		if err != nil {
			return nil, err
		}
		if base == nil && foreign != nil && !s.BuildRuntime {
			if base, err = b.loadImage(ctx, runtimeSource(s), bp); err != nil {
				return nil, errors.Wrapf(err, "the runtime for the builder's platform %s, whose installer installs for %s", platforms.Format(bp), platforms.Format(p))
			}
		}
		if base != nil && foreign != nil && base.arch != "" && base.arch != foreign.Architecture {
			here, _ := fllb.FlatpakArch(*foreign)
			theirs, _ := fllb.FlatpakArch(ocispecs.Platform{OS: "linux", Architecture: base.arch})
			return nil, errors.Errorf("building for %s on this %s builder installs with an %s installer, but %s is an image for %s: give a runtime image with a variant for %s too (an image index), or a build image for %s (base_image, --build-context base=...)",
				arch, here, here, base.source, theirs, here, here)
		}
		if base != nil {
			opts.BuildImage = &base.Image
		}
	}

	res, err := fllb.Build(s, opts)
	if err != nil {
		return nil, wrapSpec(s, err)
	}
	filesRef, err := b.solve(ctx, res.Files, p)
	if err != nil {
		if derr := b.diagnose(ctx, opts, err); derr != nil {
			return nil, derr
		}
		return nil, err
	}
	prefix := "/app"
	switch {
	case s.BuildRuntime:
		prefix = "/"
	case s.BuildExtension:
		prefix = path.Join("/usr", opts.ExtensionDir)
	}
	rep, err := readReports(ctx, filesRef, prefix)
	if err != nil {
		return nil, err
	}
	b.warnReports(ctx, rep)

	var md []byte
	var exports []string
	kind := flatpakref.App
	switch {
	case s.BuildRuntime:
		kind = flatpakref.Runtime
		md, err = runtimeMetadata(s, arch)
	case s.BuildExtension:
		kind = flatpakref.Runtime
		md, err = extensionMetadata(s, arch, runtimeRef, sdkRef)
	default:
		md, exports, err = appMetadata(s, arch, runtimeRef, sdkRef, rep)
		if err == nil {
			b.checkCommand(ctx, rt, rep, md)
		}
	}
	var ed errExtraData
	switch {
	case errors.As(err, &ed):
		return nil, wrapSpec(s, err, "extra-data")
	case err != nil:
		return nil, wrapSpec(s, err, "finish-args")
	}
	flatpakRef := flatpakref.Ref{Kind: kind, ID: s.ID, Arch: arch, Branch: s.Branch}
	exported := rep.exported(exports)
	final := fllb.Layout(res.Files, fllb.LayoutOptions{Metadata: md, Exports: exported, Runtime: s.BuildRuntime, Epoch: b.cfg.Epoch, Layers: rep.layers, ContentID: res.ContentID})
	// The layout is solved while an app's AppStream data is read: each
	// is round trips to the daemon.
	var ref client.Reference
	var as map[string]string
	eg, ectx = errgroup.WithContext(ctx)
	eg.Go(func() (err error) {
		ref, err = b.solve(ectx, final, p)
		return err
	})
	if kind == flatpakref.App {
		eg.Go(func() (err error) {
			// From the files, not the image: reading the image would
			// make BuildKit assemble its layers into one tree, which
			// nothing needs.
			as, err = appstreamLabels(func(p string) []byte {
				dt, err := filesRef.ReadFile(ectx, client.ReadRequest{Filename: p})
				if err != nil {
					return nil
				}
				return dt
			}, flatpakRef, md)
			if err != nil {
				return wrapSpec(s, err, "appstream-compose")
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	img := b.image(p, flatpakRef, md, rep.installedSize(md, exported))
	maps.Copy(img.Config.Labels, as)
	// The build system's labels are defaults: the user's labels of the
	// same names win.
	for k, v := range b.buildSystemLabels(rep) {
		if _, given := b.spec.Labels[k]; !given {
			if _, given := b.cfg.Labels[k]; !given {
				img.Config.Labels[k] = v
			}
		}
	}
	doc, err := b.recordContents(img, flatpakRef, runtimeRef, rep)
	if err != nil {
		return nil, err
	}
	return &platformResult{
		BuildResult: &dockerui.BuildResult{Reference: ref, Image: img, Epoch: b.cfg.Epoch},
		flatpakRef:  flatpakRef.String(),
		sbom:        doc,
	}, nil
}

func (b *builder) solve(ctx context.Context, st llb.State, p ocispecs.Platform) (client.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return nil, err
	}
	// Evaluate: a failure must surface here, where it can be diagnosed,
	// not when the result is exported.
	res, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: true})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// repoContexts loads the build contexts that repos with a path live in,
// transferring only those paths.
func (b *builder) repoContexts(ctx context.Context) (map[string]llb.State, error) {
	paths := map[string][]string{}
	for _, r := range b.spec.Repos {
		if r.Path != "" {
			paths[r.Context] = append(paths[r.Context], path.Clean(r.Path))
		}
	}
	out := map[string]llb.State{}
	for name, ps := range paths {
		slices.Sort(ps)
		if name == "" {
			st, err := b.bc.MainContext(ctx, llb.FollowPaths(ps))
			if err != nil {
				return nil, err
			}
			out[name] = *st
			continue
		}
		var opt dockerui.ContextOpt
		if !slices.Contains(ps, ".") {
			// A local folder: only the repos' paths are sent.
			opt.AsyncLocalOpts = func() []llb.LocalOption { return []llb.LocalOption{llb.FollowPaths(ps)} }
		}
		nc, err := b.bc.NamedContext(name, opt)
		if err != nil {
			return nil, err
		}
		if nc == nil {
			return nil, wrapSpec(b.spec, errors.Errorf("repos: no build context named %q (give it with --build-context %s=DIR)", name, name), "repos")
		}
		st, _, err := nc.Load(ctx)
		if err != nil {
			return nil, err
		}
		out[name] = *st
	}
	return out, nil
}
