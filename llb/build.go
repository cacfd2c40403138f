// Package llb translates a flatpak.yaml spec into BuildKit LLB. It is pure:
// everything it needs from the outside world (the runtime image, build
// contexts, what was read from earlier solves) comes in through Options, and
// nothing here talks to a gateway.
//
// An app build is two solves. Build returns the build root: the runtime with
// the packages installed into /app, cleanup-commands run and /app finished,
// plus reports under /flatpak-frontend (what the install added, the file
// list). The frontend reads those reports to write the metadata and labels,
// then Layout turns the root into the Flatpak image: files/, export/,
// metadata.
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

// ReportDir is where the build root keeps the reports the frontend reads.
const ReportDir = "/flatpak-frontend"

// Paths the install step mounts its inputs at.
const (
	reposDir   = "/run/flatpak-frontend/repos.d"
	contextDir = "/run/flatpak-frontend/context"
	tmpDir     = "/run/flatpak-frontend/tmp"
	secretsDir = "/run/flatpak-frontend/secrets"
	scriptPath = "/run/flatpak-frontend/script"
)

//go:embed scripts/install.sh
var installScript []byte

//go:embed scripts/finish.sh
var finishScript []byte

// Runtime is the resolved image an app is built FROM.
type Runtime struct {
	// State is the runtime image's root filesystem.
	State bkllb.State
	// Hybrid is true when the image already has usr -> /files and the other
	// container entries; otherwise Build adds them.
	Hybrid bool
	// Installer is the package manager the runtime has (InstallerAuto when
	// it has none that Build knows).
	Installer spec.Installer
	// Env is the image's environment (PATH and friends) for build steps.
	Env []string
}

// Options is everything Build needs besides the spec.
type Options struct {
	// Platform is the target platform; Arch its Flatpak name.
	Platform ocispecs.Platform
	Arch     string
	Runtime  Runtime
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

// Build returns the build root for an application spec.
func Build(s *spec.Spec, o Options) (bkllb.State, error) {
	if s.BuildRuntime {
		return bkllb.State{}, fmt.Errorf("%s: building runtimes is not supported yet", s.Source.Filename)
	}
	installer := s.Installer
	if installer == "" || installer == spec.InstallerAuto {
		installer = o.Runtime.Installer
	}
	if installer == "" || installer == spec.InstallerAuto {
		return bkllb.State{}, fmt.Errorf("the runtime image has no microdnf, dnf5 or dnf; set installer: or use a runtime that has one")
	}
	b := builder{s: s, o: o}
	root := o.Runtime.State
	if !o.Runtime.Hybrid {
		root = Hybrid(root, o.Epoch, b.group())
	}
	root = withEnv(root, o.Runtime.Env)
	root = b.install(root, installer)
	if strings.TrimSpace(s.CleanupCommands) != "" {
		root = b.cleanup(root)
	}
	root = b.finish(root)
	return root, nil
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
func (b *builder) run(root bkllb.State, opts ...bkllb.RunOption) bkllb.State {
	opts = append(opts, b.group())
	if b.o.NoCache {
		opts = append(opts, bkllb.IgnoreCache)
	}
	return root.Run(opts...).Root()
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
			Mkfile("/finish.sh", 0o644, finishScript),
		bkllb.WithCustomName("[internal] flatpak-frontend scripts"),
	)
}

func (b *builder) install(root bkllb.State, installer spec.Installer) bkllb.State {
	s, o := b.s, b.o
	pkgs := s.PackageNames(o.Arch)
	args := append([]string{"/bin/sh", scriptPath + "/install.sh"}, pkgs...)

	runOpts := []bkllb.RunOption{
		bkllb.Args(args),
		bkllb.AddEnv("FFE_INSTALLER", string(installer)),
		bkllb.AddMount(scriptPath, scripts(), bkllb.Readonly),
		bkllb.AddMount(tmpDir, bkllb.Scratch(), bkllb.Tmpfs()),
		bkllb.AddMount("/var/cache/dnf", bkllb.Scratch(),
			bkllb.AsPersistentCacheDir(b.cacheID("dnf"), bkllb.CacheMountLocked)),
		bkllb.AddMount("/var/cache/libdnf5", bkllb.Scratch(),
			bkllb.AsPersistentCacheDir(b.cacheID("libdnf5"), bkllb.CacheMountLocked)),
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
	return b.run(root, runOpts...)
}

func (b *builder) cacheID(what string) string {
	id := "flatpak-frontend-" + what + "-" + b.o.Arch
	if b.o.CacheNamespace != "" {
		id = b.o.CacheNamespace + "/" + id
	}
	return id
}

func (b *builder) cleanup(root bkllb.State) bkllb.State {
	runOpts := []bkllb.RunOption{
		bkllb.Args([]string{"/bin/sh", "-c", b.s.CleanupCommands}),
		bkllb.Network(pb.NetMode_NONE),
		bkllb.WithCustomName("cleanup-commands"),
		b.at("cleanup-commands"),
	}
	for _, k := range slices.Sorted(maps.Keys(b.o.BuildArgs)) {
		runOpts = append(runOpts, bkllb.AddEnv(k, b.o.BuildArgs[k]))
	}
	return b.run(root, runOpts...)
}

func (b *builder) finish(root bkllb.State) bkllb.State {
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
	runOpts := []bkllb.RunOption{
		bkllb.Args([]string{"/bin/sh", scriptPath + "/finish.sh"}),
		bkllb.AddMount(scriptPath, scripts(), bkllb.Readonly),
		bkllb.Network(pb.NetMode_NONE),
		bkllb.WithCustomName("finish /app"),
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if env[k] != "" {
			runOpts = append(runOpts, bkllb.AddEnv(k, env[k]))
		}
	}
	return b.run(root, runOpts...)
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
