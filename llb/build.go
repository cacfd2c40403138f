// Package llb translates a flatpak.yaml spec into BuildKit LLB. It is pure:
// everything it needs from the outside world (the runtime and build images,
// build contexts, what was read from earlier solves) comes in through
// Options, and nothing here talks to a gateway.
//
// A build is two solves. Build returns the result's files, with the reports
// the build steps wrote (what the install added, the file list) beside them.
// The frontend reads the reports to write the metadata and labels, then
// Layout turns the files into the Flatpak image: files/, export/, metadata.
//
// Steps keep their outputs in mounts: /app for an app (its content is the
// app's files), /sysroot for a runtime's new root; the reports live in a
// folder of that output that Layout leaves out. So nothing of the root a
// step runs in reaches the result.
package llb

import (
	_ "embed"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Where steps see their inputs and outputs.
const (
	// ReportDir is where Result.Files holds the build's reports. Layout
	// leaves it out of the image.
	ReportDir    = "/.flatpak-frontend"
	appDir       = "/app"
	sysroot      = "/sysroot"
	reposDir     = "/run/flatpak-frontend/repos.d"
	contextDir   = "/run/flatpak-frontend/context"
	tmpDir       = "/run/flatpak-frontend/tmp"
	secretsDir   = "/run/flatpak-frontend/secrets"
	scriptPath   = "/run/flatpak-frontend/script"
	installOut   = "/run/flatpak-frontend/out"
	installState = "/run/flatpak-frontend/state"
)

var (
	//go:embed scripts/install.sh
	installScript []byte
	//go:embed scripts/finish.sh
	finishScript []byte
	//go:embed scripts/finish-runtime.sh
	finishRuntimeScript []byte
	//go:embed scripts/common.sh
	commonScript []byte
)

// Image is a resolved image a build runs steps in.
type Image struct {
	// State is the image's root filesystem.
	State bkllb.State
	// PlainRuntime is true for a Flatpak runtime image without the
	// container entries (usr -> /files, ...): Build adds them.
	PlainRuntime bool
	// Installer is the package manager the image has ("" for none).
	Installer spec.Installer
	// Env is the image's environment (PATH and friends) for build steps.
	Env []string
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
	// Diagnose makes the install step never fail and never cached, so the
	// frontend can read why it failed.
	Diagnose bool
	// CacheNamespace separates package caches of unrelated builds.
	CacheNamespace string
	// NoCache reruns every step (--no-cache).
	NoCache bool
}

// Result is what Build returns.
type Result struct {
	// Files is the content of the result: for an app what /app holds, for
	// a runtime its new root (usr/ and etc/). Its ReportDir holds the
	// files the steps wrote for the frontend: rpms, rpms-before and
	// rpms-added (NAME, EPOCHNUM, VERSION, RELEASE, ARCH, SOURCERPM per
	// line, tab-separated), owners (NAME, SOURCERPM, PATH per line: who
	// owns which file), files (SIZE PATH, NUL-separated), tree (TYPE PATH,
	// NUL-separated, find's %y: every entry of an app's /app), and after a
	// failed install in Diagnose mode: missing, outside, installer.log,
	// installer-status and error.
	// The reports live inside the result, not in a mount of their own, so
	// that an exported build cache, which follows the image's ancestry,
	// holds them too.
	Files bkllb.State
}

// Build returns the files and reports of the spec's app or runtime.
func Build(s *spec.Spec, o Options) (*Result, error) {
	b := builder{s: s, o: o}
	if s.BuildRuntime {
		return b.runtime()
	}
	return b.app()
}

func (b *builder) app() (*Result, error) {
	o := b.o
	root := b.container(o.Runtime)
	app := bkllb.Scratch()

	installer := b.installer(o.Runtime)
	if installer != "" {
		// The app's last install is kept in a cache mount, so that added
		// packages go on top of it (see install.sh). Locked: a build must
		// find the state the one before it left (a private mount still
		// held by the build before would be a new, empty one); builds of
		// the same app take turns.
		opts := []bkllb.RunOption{
			bkllb.AddEnv("FFE_OUT", installOut+ReportDir),
			bkllb.AddEnv("FFE_APP_OUT", installOut),
			bkllb.AddEnv("FFE_STATE", installState),
			bkllb.AddMount(installOut, app),
			bkllb.AddMount(installState, bkllb.Scratch(),
				bkllb.AsPersistentCacheDir(b.cacheID("install-"+b.s.ID), bkllb.CacheMountLocked)),
		}
		if o.NoCache || o.Epoch != nil {
			// Reproducible and no-cache builds start from nothing.
			opts = append(opts, bkllb.AddEnv("FFE_FRESH", "1"))
		}
		st := b.install(root, installer, opts)
		root, app = st.Root(), st.GetMount(installOut)
	} else {
		// The runtime has no package manager: the build image's installs
		// onto the runtime's tree (as OSBS did with base_image).
		if o.BuildImage == nil {
			return nil, fmt.Errorf("the runtime has no microdnf, dnf5 or dnf: give a build image with its installer (base_image, --build-context base=... or --build-arg BASE_IMAGE=...)")
		}
		installer = b.installer(*o.BuildImage)
		if installer == "" {
			return nil, fmt.Errorf("neither the runtime nor the build image has microdnf, dnf5 or dnf")
		}
		root = b.container(*o.BuildImage)
		st := b.install(root, installer, []bkllb.RunOption{
			bkllb.AddEnv("FFE_ROOT", sysroot),
			bkllb.AddEnv("FFE_OUT", sysroot+appDir+ReportDir),
			bkllb.AddMount(sysroot+"/usr", o.Runtime.State, bkllb.SourcePath("/files")),
			bkllb.AddMount(sysroot+"/etc", o.Runtime.State, bkllb.SourcePath("/files/etc")),
			bkllb.AddMount(sysroot+appDir, app),
		})
		app = st.GetMount(sysroot + appDir)
	}
	if strings.TrimSpace(b.s.CleanupCommands) != "" {
		st := b.cleanup(root, installed(appDir, app), hideReports(appDir+ReportDir))
		app = st.GetMount(appDir)
	}
	st := b.finish(root, "finish.sh", "finish /app", b.finishEnv(),
		installed(appDir, app))
	return &Result{Files: st.GetMount(appDir)}, nil
}

func (b *builder) runtime() (*Result, error) {
	o := b.o
	if o.BuildImage == nil {
		return nil, fmt.Errorf("a runtime is installed with a build image's installer: give one (base_image, --build-context base=... or --build-arg BASE_IMAGE=...)")
	}
	installer := b.installer(*o.BuildImage)
	if installer == "" {
		return nil, fmt.Errorf("the build image has no microdnf, dnf5 or dnf")
	}
	root := b.container(*o.BuildImage)
	st := b.install(root, installer, []bkllb.RunOption{
		bkllb.AddEnv("FFE_ROOT", sysroot),
		bkllb.AddEnv("FFE_KIND", "runtime"),
		bkllb.AddEnv("FFE_OUT", sysroot+ReportDir),
		bkllb.AddMount(sysroot, bkllb.Scratch()),
	})
	newRoot := st.GetMount(sysroot)
	if strings.TrimSpace(b.s.CleanupCommands) != "" {
		// cleanup-commands run inside the new root, as in a chroot.
		newRoot = b.cleanup(withEnv(newRoot, nil), hideReports(ReportDir)).Root()
	}
	fin := b.finish(root, "finish-runtime.sh", "finish the runtime", nil,
		installed(sysroot, newRoot))
	return &Result{Files: fin.GetMount(sysroot)}, nil
}

// installed mounts what an install wrote for a step that changes it. The
// step is keyed by the steps before it, not by a checksum of the files:
// the install's log and rpm database differ on every run, so that checksum
// would never match another build's, and it costs a read of every file.
func installed(dest string, st bkllb.State) bkllb.RunOption {
	return bkllb.AddMount(dest, st, bkllb.ContentCache(bkllb.MountContentCacheOff))
}

// container is an image's root ready to run steps in.
func (b *builder) container(img Image) bkllb.State {
	root := img.State
	if img.PlainRuntime {
		root = Hybrid(root, b.o.Epoch, b.group())
	}
	return withEnv(root, img.Env)
}

// installer is the package manager to use in an image: the spec's choice,
// or what the image has.
func (b *builder) installer(img Image) spec.Installer {
	if b.s.Installer != "" && b.s.Installer != spec.InstallerAuto {
		return b.s.Installer
	}
	return img.Installer
}

type builder struct {
	s *spec.Spec
	o Options
}

// group puts every step of this build under one progress group.
func (b *builder) group() bkllb.ConstraintsOpt {
	return bkllb.ProgressGroup("flatpak-"+b.s.ID, "build "+b.s.ID, false)
}

// run adds an exec step with the options every step shares.
func (b *builder) run(root bkllb.State, opts ...bkllb.RunOption) bkllb.ExecState {
	opts = append(opts, b.group())
	if b.o.NoCache {
		opts = append(opts, bkllb.IgnoreCache)
	}
	return root.Run(opts...)
}

// at attaches the YAML location of a key to a step.
func (b *builder) at(path ...any) bkllb.ConstraintsOpt {
	var ranges []*pb.Range
	if b.s.Source != nil {
		if r, ok := b.s.Source.Range(path...); ok {
			ranges = append(ranges, PBRange(r))
		}
	}
	return b.o.SourceMap.Location(ranges)
}

// PBRange converts a spec range to BuildKit's.
func PBRange(r spec.Range) *pb.Range {
	return &pb.Range{
		Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(r.Start.Column)},
		End:   &pb.Position{Line: int32(r.End.Line), Character: int32(r.End.Column)},
	}
}

func withEnv(st bkllb.State, env []string) bkllb.State {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		st = st.AddEnv(k, v)
	}
	if len(env) == 0 {
		st = st.AddEnv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	return st
}

// scripts is a small state holding the step scripts, mounted read-only.
func scripts() bkllb.State {
	return bkllb.Scratch().File(
		bkllb.Mkfile("/install.sh", 0o644, installScript).
			Mkfile("/finish.sh", 0o644, finishScript).
			Mkfile("/finish-runtime.sh", 0o644, finishRuntimeScript).
			Mkfile("/common.sh", 0o644, commonScript),
		bkllb.WithCustomName("[internal] flatpak-frontend scripts"),
	)
}

// install runs the installer in root; extra adds the mounts that receive
// its output.
func (b *builder) install(root bkllb.State, installer spec.Installer, extra []bkllb.RunOption) bkllb.ExecState {
	s, o := b.s, b.o
	pkgs := s.PackageNames(o.Arch)
	args := append([]string{"/bin/sh", scriptPath + "/install.sh"}, pkgs...)

	runOpts := []bkllb.RunOption{
		bkllb.Args(args),
		bkllb.AddEnv("FFE_INSTALLER", string(installer)),
		bkllb.AddMount(scriptPath, scripts(), bkllb.Readonly),
		bkllb.AddMount(tmpDir, bkllb.Scratch(), bkllb.Tmpfs()),
		// The installers' caches (dnf, dnf5, microdnf), kept between
		// builds. Private: dnf's cache lock records a PID, which another
		// build's PID namespace takes for a dead process (dnf then fails
		// on the lock file), and a locked mount would serialize concurrent
		// builds. A build running beside another gets a cache of its own.
		bkllb.AddMount("/var/cache/dnf", bkllb.Scratch(),
			bkllb.AsPersistentCacheDir(b.cacheID("dnf"), bkllb.CacheMountPrivate)),
		bkllb.AddMount("/var/cache/libdnf5", bkllb.Scratch(),
			bkllb.AsPersistentCacheDir(b.cacheID("libdnf5"), bkllb.CacheMountPrivate)),
		bkllb.AddMount("/var/cache/yum", bkllb.Scratch(),
			bkllb.AsPersistentCacheDir(b.cacheID("yum"), bkllb.CacheMountPrivate)),
		bkllb.WithCustomNamef("install %d package%s", len(pkgs), plural(len(pkgs))),
		b.at("packages"),
	}
	if len(s.AllowOutsideApp) > 0 {
		runOpts = append(runOpts, bkllb.AddEnv("FFE_ALLOW", strings.Join(s.AllowOutsideApp, " ")))
	}
	if len(s.Repos) > 0 {
		runOpts = append(runOpts,
			bkllb.AddEnv("FFE_REPOSDIR", reposDir),
			bkllb.AddMount(reposDir, repoFiles(s.Repos), bkllb.Readonly))
		var secretRepos []string
		for i, r := range s.Repos {
			if r.Path != "" {
				ctx := o.Contexts[r.Context]
				runOpts = append(runOpts, bkllb.AddMount(repoMountPath(i), ctx,
					bkllb.SourcePath(path.Clean("/"+r.Path)), bkllb.Readonly))
			}
			if r.Secret != "" {
				dest := secretsDir + "/" + r.Secret
				runOpts = append(runOpts, bkllb.AddSecret(dest, bkllb.SecretID(r.Secret)))
				secretRepos = append(secretRepos, r.Name+"="+dest)
			}
		}
		if len(secretRepos) > 0 {
			runOpts = append(runOpts, bkllb.AddEnv("FFE_SECRET_REPOS", strings.Join(secretRepos, " ")))
		}
		if allLocal(s.Repos) {
			runOpts = append(runOpts, bkllb.Network(pb.NetMode_NONE))
		}
	}
	if o.Diagnose {
		runOpts = append(runOpts, bkllb.AddEnv("FFE_DIAGNOSE", "1"), bkllb.IgnoreCache)
	}
	return b.run(root, append(runOpts, extra...)...)
}

func (b *builder) cacheID(what string) string {
	id := "flatpak-frontend-" + what + "-" + b.o.Arch
	if b.o.CacheNamespace != "" {
		id = b.o.CacheNamespace + "/" + id
	}
	return id
}

// hideReports covers the reports with an empty tmpfs while
// cleanup-commands run: the spec's script must not edit what the frontend
// takes as the truth about the installed RPMs (the rpms label, the SBOM).
func hideReports(dir string) bkllb.RunOption {
	return bkllb.AddMount(dir, bkllb.Scratch(), bkllb.Tmpfs())
}

func (b *builder) cleanup(root bkllb.State, extra ...bkllb.RunOption) bkllb.ExecState {
	runOpts := []bkllb.RunOption{
		bkllb.Args([]string{"/bin/sh", "-c", b.s.CleanupCommands}),
		bkllb.Network(pb.NetMode_NONE),
		bkllb.WithCustomName("cleanup-commands"),
		b.at("cleanup-commands"),
	}
	for _, k := range slices.Sorted(maps.Keys(b.o.BuildArgs)) {
		runOpts = append(runOpts, bkllb.AddEnv(k, b.o.BuildArgs[k]))
	}
	return b.run(root, append(runOpts, extra...)...)
}

// finishEnv passes the app's finishing keys to finish.sh.
func (b *builder) finishEnv() map[string]string {
	s := b.s
	env := map[string]string{
		"FFE_ID":              s.ID,
		"FFE_RENAME_DESKTOP":  s.RenameDesktopFile,
		"FFE_RENAME_ICON":     s.RenameIcon,
		"FFE_RENAME_APPDATA":  s.RenameAppdataFile,
		"FFE_NAME_PREFIX":     s.DesktopFileNamePrefix,
		"FFE_NAME_SUFFIX":     s.DesktopFileNameSuffix,
		"FFE_APPDATA_LICENSE": xmlEscape(s.AppdataLicense),
	}
	if s.CopyIcon {
		env["FFE_COPY_ICON"] = "1"
	}
	if s.AppstreamCompose {
		env["FFE_COMPOSE"] = "1"
	}
	return env
}

// finish runs one of the finishing scripts with the mounts in extra.
func (b *builder) finish(root bkllb.State, script, name string, env map[string]string, extra ...bkllb.RunOption) bkllb.ExecState {
	runOpts := []bkllb.RunOption{
		bkllb.Args([]string{"/bin/sh", scriptPath + "/" + script}),
		bkllb.AddMount(scriptPath, scripts(), bkllb.Readonly),
		bkllb.Network(pb.NetMode_NONE),
		bkllb.WithCustomName(name),
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if env[k] != "" {
			runOpts = append(runOpts, bkllb.AddEnv(k, env[k]))
		}
	}
	return b.run(root, append(runOpts, extra...)...)
}

func repoMountPath(i int) string { return fmt.Sprintf("%s/%d", contextDir, i) }

// repoFiles writes one .repo file per repository. Values were validated by
// spec (no newlines), so they cannot add keys or groups.
func repoFiles(repos []spec.Repo) bkllb.State {
	var fa *bkllb.FileAction
	for i, r := range repos {
		var sb strings.Builder
		fmt.Fprintf(&sb, "[%s]\nname=%s\n", r.Name, r.Name)
		if r.Path != "" {
			fmt.Fprintf(&sb, "baseurl=file://%s/\n", repoMountPath(i))
		} else {
			fmt.Fprintf(&sb, "baseurl=%s\n", r.BaseURL)
		}
		sb.WriteString("enabled=1\n")
		gpg := r.GPGCheck != nil && *r.GPGCheck
		fmt.Fprintf(&sb, "gpgcheck=%d\n", b2i(gpg))
		if r.GPGKey != "" {
			fmt.Fprintf(&sb, "gpgkey=%s\n", r.GPGKey)
		}
		if r.Priority != 0 {
			fmt.Fprintf(&sb, "priority=%d\n", r.Priority)
		}
		if len(r.IncludePkgs) > 0 {
			fmt.Fprintf(&sb, "includepkgs=%s\n", strings.Join(r.IncludePkgs, ","))
		}
		if len(r.ExcludePkgs) > 0 {
			fmt.Fprintf(&sb, "excludepkgs=%s\n", strings.Join(r.ExcludePkgs, ","))
		}
		file := "/" + r.Name + ".repo"
		if fa == nil {
			fa = bkllb.Mkfile(file, 0o644, []byte(sb.String()))
		} else {
			fa = fa.Mkfile(file, 0o644, []byte(sb.String()))
		}
	}
	return bkllb.Scratch().File(fa, bkllb.WithCustomName("[internal] write repo files"))
}

func allLocal(repos []spec.Repo) bool {
	for _, r := range repos {
		if r.Path == "" && !strings.HasPrefix(r.BaseURL, "file:") {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
