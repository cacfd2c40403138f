package llb

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Where steps see the trees they build.
const (
	appDir  = "/app"
	sysroot = "/sysroot"
)

// Image is a resolved image a build runs steps in.
type Image struct {
	// State is the image's root filesystem.
	State bkllb.State
	// PlainRuntime is true for a Flatpak runtime image without the
	// container entries (usr -> /files, ...): Build adds them, but for
	// those under a name Top lists.
	PlainRuntime bool
	// Top are the names at the top of the image.
	Top []string
	// Installers are the package managers the image has, in the order
	// "installer: auto" prefers them (microdnf, dnf5, dnf).
	Installers []spec.Installer
	// Env is the image's environment (PATH and friends) for build steps.
	Env []string
}

// Helper is the frontend's own binary, which the steps run.
type Helper struct {
	// State is a filesystem holding it, mounted at buildstep.HelperDir.
	State bkllb.State
	// Args run it, as paths inside buildstep.HelperDir: the binary, or
	// for a dynamically linked one the loader, its options and the binary.
	Args []string
}

// Options is everything Build needs besides the spec.
type Options struct {
	// Platform is the target platform; Arch its Flatpak name.
	Platform ocispecs.Platform
	Arch     string
	// Runtime is the app's runtime. Unused for runtimes.
	Runtime Image
	// BuildImage provides the installer that installs a runtime's packages
	// into a new root, or an app's onto a runtime that has no installer.
	BuildImage *Image
	// Helper is the binary the steps run.
	Helper Helper
	// ExtensionDir is where an extension lives in the runtime it extends,
	// relative to /usr: the directory of the runtime's extension point.
	ExtensionDir string
	// Contexts holds the build contexts repos with a path refer to, by
	// name; "" is the main context.
	Contexts map[string]bkllb.State
	// BuildArgs are the effective values of the spec's declared args,
	// passed to cleanup-commands as environment variables.
	BuildArgs map[string]string
	// SourceMap is the spec file, for attaching YAML locations to steps.
	SourceMap *bkllb.SourceMap
	// Epoch, when set, is the timestamp given to every file written.
	Epoch *time.Time
	// Diagnose makes the install steps never fail and never cached, so
	// the frontend can read why they failed from the reports; an install
	// step that finishes too (see finishTogether) then finishes what
	// installed as DiagnoseFinish does.
	Diagnose bool
	// DiagnoseFinish makes the finishing never fail: it writes why it
	// failed, with the spec key at fault, to its report
	// (buildstep.FinishFailure), which Files then holds. The steps before
	// it are the build's own (and cached, where they succeeded).
	DiagnoseFinish bool
	// CacheNamespace separates package caches of unrelated builds.
	CacheNamespace string
	// NoCache reruns every step (--no-cache).
	NoCache bool
	// BuildPlatform, when set, is the builder's own platform, foreign to
	// Platform: the packages are installed there, by BuildImage's
	// installer (the same runtime for the builder's platform, unless the
	// spec names a build image) into Platform's tree with --forcearch,
	// which needs no CPU of Platform's; scriptlets and file triggers, which
	// would run Platform's code, are not run, and the install step reports
	// which.
	BuildPlatform *ocispecs.Platform
	// KeepContentCache leaves the content-based cache key on the mounts of
	// what an install wrote, for daemons that cannot turn it off
	// (exec.mount.cache.content, BuildKit v0.13 and later): correct, only
	// slower, as every file is read for the key.
	KeepContentCache bool
	// Proxy, when set, is the proxy the steps that reach a repo over the
	// network use (dnf reads http_proxy, https_proxy, no_proxy...): from
	// the build args HTTP_PROXY, HTTPS_PROXY, FTP_PROXY, NO_PROXY and
	// ALL_PROXY, as the Dockerfile frontend takes them. BuildKit keeps it
	// out of the steps' cache keys and out of the image.
	Proxy *bkllb.ProxyEnv
}

// Result is what Build returns.
type Result struct {
	// Files is the content of the result: for an app what /app holds, for
	// a runtime its new root (usr/ and etc/). Its buildstep.ReportDir
	// holds the reports of the steps (buildstep.InstallReportFile,
	// FinishReportFile, InstallerLogFile); in Diagnose mode, a failed
	// install's report. They live inside the result, not in a mount of
	// their own, so that an exported build cache, which follows the
	// image's ancestry, holds them too.
	Files bkllb.State
	// ContentID holds buildstep.ContentIDFile, the digest of Files (not
	// in Diagnose mode).
	ContentID *bkllb.State
}

// Build returns the files and reports of the spec's app or runtime.
func Build(s *spec.Spec, o Options) (*Result, error) {
	if len(o.Helper.Args) == 0 {
		return nil, fmt.Errorf("no helper binary for the build steps")
	}
	b := builder{s: s, o: o}
	switch {
	case s.BuildRuntime:
		return b.runtime()
	case s.BuildExtension:
		return b.extension()
	}
	return b.app()
}

func (b *builder) app() (*Result, error) {
	return b.onRuntime(buildstep.KindApp, appDir)
}

// extension builds an extension of the runtime: its packages installed onto
// the runtime, keeping to the folder the runtime's extension point names.
func (b *builder) extension() (*Result, error) {
	if b.o.ExtensionDir == "" {
		return nil, fmt.Errorf("no folder for the extension %s", b.s.ID)
	}
	return b.onRuntime(buildstep.KindExtension, path.Join("/usr", b.o.ExtensionDir))
}

// onRuntime installs the spec's packages onto the runtime, keeping them to
// prefix (/app, an extension's folder), which becomes the result; then
// cleanup-commands and the finishing step run (the finishing in the install
// step itself where finishTogether says so).
func (b *builder) onRuntime(kind buildstep.Kind, prefix string) (*Result, error) {
	o := b.o
	root := b.container(o.Runtime)
	var files bkllb.State

	installer, inRuntime, err := b.appInstaller()
	if err != nil {
		return nil, err
	}
	if o.BuildPlatform != nil {
		if o.BuildImage == nil {
			return nil, fmt.Errorf("building for %s on a %s/%s builder installs with an installer of the builder's architecture: give a build image for it (base_image, --build-context base=...), or a runtime image that has a variant for it too", o.Arch, o.BuildPlatform.OS, o.BuildPlatform.Architecture)
		}
		if installer, err = b.pick(*o.BuildImage, true); err != nil {
			return nil, err
		}
		inRuntime = false
	}
	cleanup := strings.TrimSpace(b.s.CleanupCommands) != ""
	fin := buildstep.FinishConfig{Root: prefix, Prefix: prefix, Kind: kind, CleanupCommands: cleanup, ExtensionPoints: b.extensionPoints(""), ReportFailure: b.diagnosing()}
	if kind == buildstep.KindApp {
		fin.App = b.appFinish()
	}
	together := b.finishTogether(cleanup)
	// finishAt is the finishing the install step runs, on its output at
	// dir, when it runs it.
	finishAt := func(dir string) *buildstep.FinishConfig {
		if !together {
			return nil
		}
		f := fin
		f.Root = dir
		return &f
	}
	var st bkllb.ExecState
	var out string
	switch {
	case inRuntime && kind == buildstep.KindApp:
		// The app's last install is kept in a cache mount, so that added
		// packages go on top of it (see buildstep/install). Locked: a
		// build must find the state the one before it left (a private
		// mount still held by the build before would be a new, empty
		// one); builds of the same app take turns.
		out = buildstep.OutDir
		cfg := buildstep.InstallConfig{
			Kind:   kind,
			Prefix: prefix,
			Out:    out + buildstep.ReportDir,
			AppOut: out,
			State:  buildstep.StateDir,
			// Reproducible and no-cache builds start from nothing.
			Fresh:  o.NoCache || o.Epoch != nil,
			Finish: finishAt(out),
		}
		mounts := []bkllb.RunOption{
			bkllb.AddMount(buildstep.StateDir, bkllb.Scratch(),
				bkllb.AsPersistentCacheDir(b.cacheID("install-"+b.s.ID), bkllb.CacheMountLocked)),
		}
		st = b.install(root, installer, cfg, out, bkllb.Scratch(), mounts)
		root = st.Root()
	case inRuntime:
		// The packages write into the runtime's own tree; what lands in
		// prefix is the result.
		out = prefix
		cfg := buildstep.InstallConfig{Kind: kind, Prefix: prefix, Out: out + buildstep.ReportDir, Finish: finishAt(out)}
		st = b.install(root, installer, cfg, out, bkllb.Scratch(), nil)
		root = st.Root()
	default:
		// The runtime has no package manager, or not the one the spec
		// names: the build image's installs onto the runtime's tree (as
		// OSBS did with base_image).
		root = b.buildContainer()
		out = sysroot + prefix
		cfg := buildstep.InstallConfig{
			Kind:        kind,
			Prefix:      prefix,
			InstallRoot: sysroot,
			Out:         out + buildstep.ReportDir,
			ForceArch:   b.forceArch(),
			Finish:      finishAt(out),
		}
		mounts := []bkllb.RunOption{
			// The runtime as a root that scriptlets and file triggers run
			// in (rpm chroots into it): /usr, /etc and the links to them.
			bkllb.AddMount(sysroot, rootLinks(b.o.Epoch)),
			bkllb.AddMount(sysroot+"/usr", o.Runtime.State, bkllb.SourcePath("/files")),
			bkllb.AddMount(sysroot+"/etc", o.Runtime.State, bkllb.SourcePath("/files/etc")),
		}
		st = b.install(root, installer, cfg, out, bkllb.Scratch(), mounts)
	}
	files = st.GetMount(out)
	switch {
	case b.o.Diagnose:
		return &Result{Files: files}, nil
	case together:
		return result(st, out), nil
	}
	if cleanup {
		st := b.cleanup(root, b.installed(prefix, files), hideReports(prefix+buildstep.ReportDir))
		files = st.GetMount(prefix)
	}
	return result(b.finish(root, fin, b.installed(prefix, files)), prefix), nil
}

func (b *builder) runtime() (*Result, error) {
	o := b.o
	if o.BuildImage == nil {
		return nil, fmt.Errorf("a runtime is installed with a build image's installer: give one (base_image, --build-context base=... or --build-arg BASE_IMAGE=...)")
	}
	installer, err := b.pick(*o.BuildImage, false)
	if err != nil {
		return nil, err
	}
	root := b.buildContainer()
	cleanup := strings.TrimSpace(b.s.CleanupCommands) != ""
	fin := buildstep.FinishConfig{
		Root:            sysroot,
		Prefix:          "/",
		Kind:            buildstep.KindRuntime,
		CleanupCommands: cleanup,
		ExtensionPoints: b.extensionPoints("usr"),
		ReportFailure:   b.diagnosing(),
	}
	cfg := buildstep.InstallConfig{
		Kind:        buildstep.KindRuntime,
		InstallRoot: sysroot,
		Out:         sysroot + buildstep.ReportDir,
		ForceArch:   b.forceArch(),
	}
	together := b.finishTogether(cleanup)
	if together {
		cfg.Finish = &fin
	}
	st := b.install(root, installer, cfg, sysroot, bkllb.Scratch(), nil)
	newRoot := st.GetMount(sysroot)
	switch {
	case b.o.Diagnose:
		return &Result{Files: newRoot}, nil
	case together:
		return result(st, sysroot), nil
	}
	if cleanup {
		// cleanup-commands run inside the new root, as in a chroot.
		newRoot = b.cleanup(withEnv(newRoot, nil), hideReports(buildstep.ReportDir)).Root()
	}
	return result(b.finish(root, fin, b.installed(sysroot, newRoot)), sysroot), nil
}

// extensionPoints are the folders of the spec's add-extensions, below base
// (a runtime's extensions are mounted below /usr, its usr/).
func (b *builder) extensionPoints(base string) []string {
	var dirs []string
	for _, name := range slices.Sorted(maps.Keys(b.s.AddExtensions)) {
		dirs = append(dirs, path.Join(base, b.s.AddExtensions[name].Directory))
	}
	return dirs
}

// installed mounts what an install wrote for a step that changes it. The
// step is keyed by the steps before it, not by a checksum of the files:
// the install's log and rpm database differ on every run, so that checksum
// would never match another build's, and it costs a read of every file.
func (b *builder) installed(dest string, st bkllb.State) bkllb.RunOption {
	if b.o.KeepContentCache {
		return bkllb.AddMount(dest, st)
	}
	return bkllb.AddMount(dest, st, bkllb.ContentCache(bkllb.MountContentCacheOff))
}

// buildContainer is the build image's root, on the builder's own platform
// when the target's is foreign to it.
func (b *builder) buildContainer() bkllb.State {
	root := b.container(*b.o.BuildImage)
	if b.o.BuildPlatform != nil {
		root = root.Platform(*b.o.BuildPlatform)
	}
	return root
}

// forceArch is the RPM architecture a foreign-arch install forces.
func (b *builder) forceArch() string {
	if b.o.BuildPlatform == nil {
		return ""
	}
	return RPMArch(b.o.Arch)
}

// container is an image's root ready to run steps in.
func (b *builder) container(img Image) bkllb.State {
	root := img.State
	if img.PlainRuntime {
		root = Hybrid(root, b.o.Epoch, img.Top, b.group())
	}
	return withEnv(root, img.Env)
}

type builder struct {
	s *spec.Spec
	o Options
}
