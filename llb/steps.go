package llb

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// How a build step runs: the helper binary's subcommand with its config,
// its constraints (platform, source position, cache namespace), and the
// finish and cleanup steps every graph ends with.

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

// step runs the helper binary's step name with its configuration mounted.
func (b *builder) step(name string, config any) ([]bkllb.RunOption, error) {
	dt, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	conf := bkllb.Scratch().File(bkllb.Mkfile("/step.json", 0o644, dt),
		bkllb.WithCustomName("[internal] configure step "+name))
	var args []string
	for _, a := range b.o.Helper.Args {
		if strings.HasPrefix(a, "-") {
			args = append(args, a)
		} else {
			args = append(args, buildstep.HelperDir+"/"+strings.TrimPrefix(a, "/"))
		}
	}
	return []bkllb.RunOption{
		bkllb.Args(append(args, "step", name)),
		bkllb.AddMount(buildstep.HelperDir, b.o.Helper.State, bkllb.Readonly),
		bkllb.AddMount(buildstep.ConfigDir, conf, bkllb.Readonly),
	}, nil
}

// StepKind is what an op of a graph Build made does, for telling which
// part of the build failed.
type StepKind int

const (
	// OtherStep is any other op: reading a context, laying out the image.
	OtherStep StepKind = iota
	// InstallStep installs (or downloads) the packages, and may finish the
	// tree too (see finishTogether).
	InstallStep
	// FinishStep finishes the tree.
	FinishStep
	// CleanupStep runs cleanup-commands.
	CleanupStep
)

// diagnosing says whether this graph explains a failure (Diagnose,
// DiagnoseFinish): its finishing then reports instead of failing.
func (b *builder) diagnosing() bool { return b.o.Diagnose || b.o.DiagnoseFinish }

// shell is how cleanup-commands run, the only shell of a build.
var shell = []string{"/bin/sh", "-c"}

// KindOf says what op does in a graph Build made.
func KindOf(op *pb.Op) StepKind {
	e := op.GetExec()
	if e == nil || e.Meta == nil {
		return OtherStep
	}
	a := e.Meta.Args
	switch {
	case len(a) == 3 && slices.Equal(a[:2], shell):
		return CleanupStep
	case len(a) < 3 || a[len(a)-2] != "step":
		return OtherStep
	case a[len(a)-1] == buildstep.StepFinish:
		return FinishStep
	case a[len(a)-1] == buildstep.StepInstall:
		return InstallStep
	}
	return OtherStep
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
		bkllb.Args(append(slices.Clone(shell), b.s.CleanupCommands)),
		bkllb.Network(pb.NetMode_NONE),
		bkllb.WithCustomName("cleanup-commands"),
		b.at("cleanup-commands"),
	}
	for _, k := range slices.Sorted(maps.Keys(b.o.BuildArgs)) {
		runOpts = append(runOpts, bkllb.AddEnv(k, b.o.BuildArgs[k]))
	}
	return b.run(root, append(runOpts, extra...)...)
}

// appFinish is the spec's finishing keys of an app.
func (b *builder) appFinish() *buildstep.AppFinish {
	s := b.s
	return &buildstep.AppFinish{
		ID:                    s.ID,
		RenameDesktopFile:     s.RenameDesktopFile,
		RenameIcon:            s.RenameIcon,
		RenameMimeFile:        s.RenameMimeFile,
		RenameMimeIcons:       s.RenameMimeIcons,
		CopyIcon:              s.CopyIcon,
		RenameAppdataFile:     s.RenameAppdataFile,
		DesktopFileNamePrefix: s.DesktopFileNamePrefix,
		DesktopFileNameSuffix: s.DesktopFileNameSuffix,
		AppdataLicense:        s.AppdataLicense,
		AppstreamCompose:      s.AppstreamCompose,
	}
}

// finishName is the name of the finishing of a build of kind k.
func finishName(k buildstep.Kind) string {
	switch k {
	case buildstep.KindApp:
		return "finish /app"
	case buildstep.KindExtension:
		return "finish the extension"
	}
	return "finish the runtime"
}

// finish runs the finishing step with the mounts in extra. It writes the
// content id into a mount of its own at buildstep.ContentIDDir (see result).
func (b *builder) finish(root bkllb.State, cfg buildstep.FinishConfig, extra ...bkllb.RunOption) bkllb.ExecState {
	cfg.ContentIDOut = buildstep.ContentIDDir
	extra = append(extra, bkllb.AddMount(buildstep.ContentIDDir, bkllb.Scratch()))
	runOpts, err := b.step(buildstep.StepFinish, cfg)
	if err != nil {
		// A FinishConfig always marshals.
		panic(err)
	}
	runOpts = append(runOpts,
		bkllb.Network(pb.NetMode_NONE),
		bkllb.WithCustomName(finishName(cfg.Kind)),
	)
	return b.run(root, append(runOpts, extra...)...)
}

// result is what the finishing step fin left at dir, with the content id it
// wrote.
func result(fin bkllb.ExecState, dir string) *Result {
	id := fin.GetMount(buildstep.ContentIDDir)
	return &Result{Files: fin.GetMount(dir), ContentID: &id}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
