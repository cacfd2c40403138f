package llb

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const testSpec = `id: org.example.Hello
runtime-name: org.example.Platform
runtime-version: "1"
command: hello
packages:
  - hello
  - name: only-arm
    platforms:
      only: [aarch64]
  - "hello-extra"
finish-args: |-
  --share=network
  --socket=wayland
cleanup-commands: rm -rf /app/share/doc
rename-icon: viewer
repos:
  - name: test
    path: rpms/repo
  - name: web
    baseurl: https://example.com/repo/
    secret: webcreds
`

func parse(t *testing.T, src string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("flatpak.yaml", []byte(src), spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testOptions(s *spec.Spec) Options {
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	return Options{
		Platform:  p,
		Arch:      "x86_64",
		Runtime:   Image{State: bkllb.Image("example.com/runtime:1"), Installers: []spec.Installer{spec.InstallerDnf}},
		Helper:    Helper{State: bkllb.Image("example.com/frontend:1"), Args: []string{"bin/flatpak-frontend"}},
		Contexts:  map[string]bkllb.State{"": bkllb.Local("context", bkllb.LocalUniqueID("test"))},
		SourceMap: bkllb.NewSourceMap(nil, s.Source.Filename, "yaml", s.Source.Data),
	}
}

// ops marshals a state (with co, e.g. the target platform) and returns its
// ops in definition order.
func ops(t *testing.T, st bkllb.State, co ...bkllb.ConstraintsOpt) ([]*pb.Op, *bkllb.Definition) {
	t.Helper()
	def, err := st.Marshal(context.Background(), co...)
	if err != nil {
		t.Fatal(err)
	}
	var out []*pb.Op
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		out = append(out, &op)
	}
	return out, def
}

func execs(all []*pb.Op) []*pb.ExecOp {
	var out []*pb.ExecOp
	for _, op := range all {
		if e := op.GetExec(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// stepOf names what an exec runs: the helper's step ("install",
// "finish"), or "sh" for a shell.
func stepOf(e *pb.ExecOp) string {
	a := e.Meta.Args
	if len(a) == 3 && a[0] == buildstep.HelperDir+"/bin/flatpak-frontend" && a[1] == "step" {
		return a[2]
	}
	if len(a) > 0 && a[0] == "/bin/sh" {
		return "sh"
	}
	return ""
}

// stepConfig decodes the configuration mounted into an exec step.
func stepConfig(t *testing.T, def *bkllb.Definition, all []*pb.Op, e *pb.ExecOp, v any) {
	t.Helper()
	var op *pb.Op
	for _, o := range all {
		if o.GetExec() == e {
			op = o
		}
	}
	for _, m := range e.Mounts {
		if m.Dest != buildstep.ConfigDir {
			continue
		}
		in := op.Inputs[m.Input].Digest
		for i, dt := range def.Def {
			if digest.FromBytes(dt).String() != in {
				continue
			}
			for _, a := range all[i].GetFile().GetActions() {
				if mk := a.GetMkfile(); mk != nil && mk.Path == "/step.json" {
					if err := json.Unmarshal(mk.Data, v); err != nil {
						t.Fatal(err)
					}
					return
				}
			}
		}
	}
	t.Fatalf("no configuration mounted in %q", e.Meta.Args)
}

// TestReleaseVerReachesEveryInstall: releasever goes to the installer of
// both steps of a repo with credentials (the download reads the repos'
// URLs, the install its keys' URLs).
func TestReleaseVerReachesEveryInstall(t *testing.T) {
	s := parse(t, testSpec+"releasever: 41\n")
	res, err := Build(s, testOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	all, def := ops(t, res.Files)
	ex := execs(all)
	for _, e := range ex[:2] {
		var cfg buildstep.InstallConfig
		stepConfig(t, def, all, e, &cfg)
		if cfg.ReleaseVer != "41" {
			t.Errorf("%s step: releasever %q, want 41", cfg.Mode, cfg.ReleaseVer)
		}
	}
}

func TestBuildInstallsPackagesAsArguments(t *testing.T) {
	s := parse(t, testSpec)
	res, err := Build(s, testOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	all, def := ops(t, res.Files)
	ex := execs(all)
	// A repo with credentials: download with them, then install without.
	if len(ex) != 4 {
		t.Fatalf("want download, install, cleanup and finish steps, got %d execs", len(ex))
	}
	download, install := ex[0], ex[1]
	for _, e := range ex[:2] {
		if stepOf(e) != buildstep.StepInstall {
			t.Errorf("args %q, want the helper's install step", e.Meta.Args)
		}
	}
	var dl, in buildstep.InstallConfig
	stepConfig(t, def, all, download, &dl)
	stepConfig(t, def, all, install, &in)
	want := []string{"hello", "hello-extra"}
	if !slices.Equal(dl.Packages, want) || !slices.Equal(in.Packages, want) {
		t.Errorf("packages = %q and %q, want %q (aarch64-only package dropped)", dl.Packages, in.Packages, want)
	}
	if dl.Mode != buildstep.ModeDownload || in.Mode != buildstep.ModeInstallDownloaded {
		t.Errorf("modes %q, %q", dl.Mode, in.Mode)
	}
	if dl.Installer != "dnf" || in.Installer != "dnf" {
		t.Errorf("installers %q, %q", dl.Installer, in.Installer)
	}
	if len(dl.Repos) != 2 || dl.Repos[1].Secret != buildstep.SecretsDir+"/webcreds" || dl.Repos[0].Dir != repoMountPath(0) {
		t.Errorf("download repos = %+v", dl.Repos)
	}
	if len(in.Repos) != 0 {
		t.Errorf("the install of downloaded packages has repos %+v", in.Repos)
	}
	// An http repo needs the network; nothing else does.
	if download.Network != pb.NetMode_UNSET {
		t.Errorf("download network = %v, want sandbox default", download.Network)
	}
	for _, e := range ex[1:] {
		if e.Network != pb.NetMode_NONE {
			t.Errorf("%q runs with network %v", e.Meta.Args, e.Network)
		}
	}
	mounts := func(e *pb.ExecOp) (secret, ctxMount bool, caches map[string]bool) {
		caches = map[string]bool{}
		for _, m := range e.Mounts {
			switch {
			case m.MountType == pb.MountType_CACHE:
				caches[m.Dest] = m.CacheOpt.Sharing == pb.CacheSharingOpt_PRIVATE
			case m.MountType == pb.MountType_SECRET:
				secret = m.SecretOpt.ID == "webcreds" && m.Dest == buildstep.SecretsDir+"/webcreds"
			case m.Dest == repoMountPath(0):
				ctxMount = m.Readonly && m.Selector == "/rpms/repo"
			}
		}
		return
	}
	secret, ctxMount, caches := mounts(download)
	if !secret || !ctxMount {
		t.Errorf("download mounts: secret %v, read-only repo dir %v", secret, ctxMount)
	}
	// Where dnf, dnf5 and microdnf keep their caches.
	for _, dir := range []string{"/var/cache/dnf", "/var/cache/libdnf5", "/var/cache/yum"} {
		if !caches[dir] {
			t.Errorf("no private cache mount at %s (cache mounts: %v)", dir, caches)
		}
	}
	if secret, ctxMount, _ := mounts(install); secret || ctxMount {
		t.Errorf("the install of downloaded packages mounts the secret (%v) or the repo (%v)", secret, ctxMount)
	}
	if got := ex[2].Meta.Args; !slices.Equal(got, []string{"/bin/sh", "-c", "rm -rf /app/share/doc"}) {
		t.Errorf("cleanup args = %q", got)
	}
	var fin buildstep.FinishConfig
	stepConfig(t, def, all, ex[3], &fin)
	if stepOf(ex[3]) != buildstep.StepFinish || fin.App == nil || fin.App.RenameIcon != "viewer" || !fin.CleanupCommands {
		t.Errorf("finish %q with %+v", ex[3].Meta.Args, fin)
	}
	// The steps after the install are keyed by it, not by a checksum of
	// /app, which never matches another run's.
	for _, e := range ex[2:] {
		for _, m := range e.Mounts {
			if m.Dest == appDir && m.ContentCache != pb.MountContentCache_OFF {
				t.Errorf("%q: /app content cache %v, want off", e.Meta.Args, m.ContentCache)
			}
		}
	}
}

func TestBuildLocalReposHaveNoNetwork(t *testing.T) {
	s := parse(t, `id: org.example.Hello
command: hello
packages: [hello]
repos:
  - name: test
    path: repo
  - name: disk
    baseurl: file:///srv/repo
`)
	res, err := Build(s, testOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := ops(t, res.Files)
	if n := execs(all)[0].Network; n != pb.NetMode_NONE {
		t.Errorf("install with only local repos has network %v", n)
	}
}

// TestFinishingJoinsAnInstallWithNoNetwork: the finishing runs in the
// install step itself (on the install's output, writing the content id
// there) when the install has no network and nothing runs between them;
// in a step of its own otherwise.
func TestFinishingJoinsAnInstallWithNoNetwork(t *testing.T) {
	const head = `id: org.example.Hello
command: hello
packages: [hello]
rename-icon: viewer
`
	local := "repos:\n  - name: test\n    path: repo\n"
	for _, c := range []struct {
		name, src string
		opts      func(*Options)
		together  bool
		root      string
	}{
		{"local repos", head + local, nil, true, buildstep.OutDir},
		{"a repo with credentials", head + "repos:\n  - name: web\n    baseurl: https://example.com/r/\n    secret: creds\n", nil, true, buildstep.OutDir},
		{"a build image's installer", head + local + "installer: dnf5\n", func(o *Options) {
			o.BuildImage = &Image{State: bkllb.Image("example.com/fedora:41"), Installers: []spec.Installer{spec.InstallerDnf5}}
		}, true, sysroot + appDir},
		{"a remote repo", head + "repos:\n  - name: web\n    baseurl: https://example.com/r/\n", nil, false, appDir},
		{"the runtime's own repos", head, nil, false, appDir},
		{"cleanup-commands", head + local + "cleanup-commands: rm -rf /app/share/doc\n", nil, false, appDir},
		{"a diagnosis", head + local, func(o *Options) { o.Diagnose = true }, true, buildstep.OutDir},
		{"a diagnosis with cleanup-commands", head + local + "cleanup-commands: rm -rf /app/share/doc\n", func(o *Options) { o.Diagnose = true }, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := parse(t, c.src)
			o := testOptions(s)
			if c.opts != nil {
				c.opts(&o)
			}
			res, err := Build(s, o)
			if err != nil {
				t.Fatal(err)
			}
			all, def := ops(t, res.Files)
			var inst, fin []*pb.ExecOp
			for _, e := range execs(all) {
				switch stepOf(e) {
				case buildstep.StepInstall:
					inst = append(inst, e)
				case buildstep.StepFinish:
					fin = append(fin, e)
				}
			}
			if len(inst) == 0 {
				t.Fatal("no install step")
			}
			last := inst[len(inst)-1]
			var cfg buildstep.InstallConfig
			stepConfig(t, def, all, last, &cfg)
			for _, e := range inst[:len(inst)-1] {
				var dl buildstep.InstallConfig
				stepConfig(t, def, all, e, &dl)
				if dl.Finish != nil {
					t.Errorf("the download step finishes: %+v", dl.Finish)
				}
			}
			hasIDMount := slices.ContainsFunc(last.Mounts, func(m *pb.Mount) bool { return m.Dest == buildstep.ContentIDDir })
			switch {
			case c.together:
				if len(fin) != 0 || cfg.Finish == nil {
					t.Fatalf("finishing steps %d, the install's finishing %+v; want it in the install", len(fin), cfg.Finish)
				}
				f := cfg.Finish
				if f.Root != c.root || f.Prefix != appDir || f.App == nil || f.App.RenameIcon != "viewer" || f.ContentIDOut != buildstep.ContentIDDir || f.CleanupCommands {
					t.Errorf("finishing in the install: %+v", f)
				}
				if f.ReportFailure != o.Diagnose || cfg.Diagnose != o.Diagnose {
					t.Errorf("a diagnosis %v: the install's diagnosis %v, the finishing's %v", o.Diagnose, cfg.Diagnose, f.ReportFailure)
				}
				if o.Diagnose {
					// What a diagnosis gives is its reports.
					if res.ContentID != nil {
						t.Error("a diagnosis has a content id")
					}
					return
				}
				lastDigest := digest.FromBytes(def.Def[slices.IndexFunc(all, func(o *pb.Op) bool { return o.GetExec() == last })])
				name := def.Metadata[lastDigest].Description["llb.customname"]
				if last.Network != pb.NetMode_NONE || !hasIDMount || !strings.HasSuffix(name, ", then finish /app") {
					t.Errorf("the install that finishes: network %v, content id mount %v, name %q", last.Network, hasIDMount, name)
				}
				if res.ContentID == nil {
					t.Fatal("no content id")
				}
				_, idDef := ops(t, *res.ContentID)
				if !slices.ContainsFunc(idDef.Def, func(dt []byte) bool { return digest.FromBytes(dt) == lastDigest }) {
					t.Error("the content id is not the install step's")
				}
			case o.Diagnose:
				// The install step is all that runs again.
				if len(fin) != 0 || cfg.Finish != nil || res.ContentID != nil {
					t.Errorf("a diagnosis with cleanup-commands finishes: %d steps, %+v", len(fin), cfg.Finish)
				}
			default:
				var fc buildstep.FinishConfig
				if len(fin) != 1 || cfg.Finish != nil || hasIDMount {
					t.Fatalf("finishing steps %d, the install's finishing %+v; want a step of its own", len(fin), cfg.Finish)
				}
				stepConfig(t, def, all, fin[0], &fc)
				if fc.Root != c.root || fc.ContentIDOut != buildstep.ContentIDDir {
					t.Errorf("finishing step: %+v", fc)
				}
			}
		})
	}
}

// TestDiagnosingTheFinishing: DiagnoseFinish gives the finishing, in the
// install step or in its own, ReportFailure, and leaves every step before
// a finishing step of its own as the build had it (so cached).
func TestDiagnosingTheFinishing(t *testing.T) {
	const head = "id: org.example.Hello\ncommand: hello\npackages: [hello]\nrename-icon: viewer\nrepos:\n  - name: test\n    path: repo\n"
	for _, c := range []struct {
		name, src string
		together  bool
	}{
		{"in the install step", head, true},
		{"after cleanup-commands", head + "cleanup-commands: rm -rf /app/share/doc\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := parse(t, c.src)
			finishings := func(o Options) (map[digest.Digest]bool, []buildstep.FinishConfig) {
				res, err := Build(s, o)
				if err != nil {
					t.Fatal(err)
				}
				all, def := ops(t, res.Files)
				others := map[digest.Digest]bool{}
				var fins []buildstep.FinishConfig
				for i, op := range all {
					e := op.GetExec()
					switch {
					case e != nil && stepOf(e) == buildstep.StepFinish:
						var fc buildstep.FinishConfig
						stepConfig(t, def, all, e, &fc)
						fins = append(fins, fc)
					case e != nil && stepOf(e) == buildstep.StepInstall:
						var ic buildstep.InstallConfig
						stepConfig(t, def, all, e, &ic)
						if ic.Finish != nil {
							fins = append(fins, *ic.Finish)
							continue
						}
						others[digest.FromBytes(def.Def[i])] = true
					case e != nil:
						others[digest.FromBytes(def.Def[i])] = true
					}
				}
				return others, fins
			}
			o := testOptions(s)
			before, fins := finishings(o)
			if len(fins) != 1 || fins[0].ReportFailure {
				t.Fatalf("the build's finishing: %+v", fins)
			}
			o.DiagnoseFinish = true
			after, fins := finishings(o)
			if len(fins) != 1 || !fins[0].ReportFailure || fins[0].App == nil || fins[0].App.RenameIcon != "viewer" {
				t.Fatalf("the diagnosis's finishing: %+v", fins)
			}
			// Every other step (the install, cleanup-commands) is the
			// build's own.
			if c.together != (len(before) == 0) || !maps.Equal(before, after) {
				t.Errorf("the build's other steps %v, the diagnosis's %v", before, after)
			}
		})
	}
}

// TestKindOfTellsTheSteps: KindOf names each exec of a graph.
func TestKindOfTellsTheSteps(t *testing.T) {
	const head = "id: org.example.Hello\ncommand: hello\npackages: [hello]\nrepos:\n  - name: test\n    path: repo\n"
	for src, want := range map[string][]StepKind{
		head: {InstallStep},
		head + "cleanup-commands: rm -rf /app/share/doc\n": {InstallStep, FinishStep, CleanupStep},
	} {
		s := parse(t, src)
		res, err := Build(s, testOptions(s))
		if err != nil {
			t.Fatal(err)
		}
		all, _ := ops(t, res.Files)
		var got []StepKind
		for _, op := range all {
			if k := KindOf(op); k != OtherStep {
				got = append(got, k)
			} else if e := op.GetExec(); e != nil {
				t.Errorf("exec %q is no step", e.Meta.Args)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: kinds %v, want %v", src, got, want)
		}
	}
}

func TestBuildStepsCarryYAMLLocations(t *testing.T) {
	s := parse(t, testSpec)
	res, err := Build(s, testOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	all, def := ops(t, res.Files)
	lineOf := map[string]int32{}
	for i, dt := range def.Def {
		locs := def.Source.Locations[digest.FromBytes(dt).String()]
		if e := all[i].GetExec(); e != nil && locs != nil && len(locs.Locations) > 0 {
			lineOf[stepOf(e)] = locs.Locations[0].Ranges[0].Start.Line
		}
	}
	// packages' value starts on line 6, cleanup-commands' on line 14.
	if lineOf[buildstep.StepInstall] != 6 || lineOf["sh"] != 14 {
		t.Errorf("lines attached to install and cleanup = %v, want 6 and 14", lineOf)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	s := parse(t, testSpec)
	marshal := func() []byte {
		res, err := Build(s, testOptions(s))
		if err != nil {
			t.Fatal(err)
		}
		epoch := time.Unix(1700000000, 0)
		final := Layout(res.Files, LayoutOptions{Metadata: []byte("[Application]\n"), Exports: []string{"share/applications/org.example.Hello.desktop"}, Epoch: &epoch})
		def, err := final.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Join(def.Def, nil)
	}
	if !bytes.Equal(marshal(), marshal()) {
		t.Error("two marshals of the same spec differ")
	}
}

func TestInstallCacheKeyIgnoresFinishArgs(t *testing.T) {
	installDigest := func(src string) string {
		s := parse(t, src)
		res, err := Build(s, testOptions(s))
		if err != nil {
			t.Fatal(err)
		}
		all, def := ops(t, res.Files)
		for i, op := range all {
			if e := op.GetExec(); e != nil && stepOf(e) == buildstep.StepInstall {
				return digest.FromBytes(def.Def[i]).String()
			}
		}
		t.Fatal("no install step")
		return ""
	}
	a := installDigest(testSpec)
	b := installDigest(strings.Replace(testSpec, "--socket=wayland", "--socket=x11", 1))
	if a != b {
		t.Error("changing finish-args changed the install step's cache key")
	}
	c := installDigest(strings.Replace(testSpec, "  - hello\n", "  - hello\n  - more\n", 1))
	if a == c {
		t.Error("adding a package did not change the install step")
	}
}

func TestPlainRuntimeGetsHybridLayer(t *testing.T) {
	s := parse(t, testSpec)
	o := testOptions(s)
	for _, hybrid := range []bool{false, true} {
		o.Runtime.PlainRuntime = !hybrid
		res, err := Build(s, o)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := ops(t, res.Files)
		var links []string
		for _, op := range all {
			if f := op.GetFile(); f != nil {
				for _, a := range f.Actions {
					if l := a.GetSymlink(); l != nil {
						links = append(links, l.Newpath+"->"+l.Oldpath)
					}
				}
			}
		}
		if hybrid && len(links) != 0 {
			t.Errorf("hybrid runtime got symlinks %v", links)
		}
		if !hybrid && !slices.Contains(links, "/usr->/files") {
			t.Errorf("plain runtime symlinks = %v, want /usr->/files among them", links)
		}
	}
}

// TestHybridKeepsWhatTheImageHas: entries under a name the image has
// already are left to it (a symlink over an existing path fails).
func TestHybridKeepsWhatTheImageHas(t *testing.T) {
	paths := func(st bkllb.State) []string {
		all, _ := ops(t, st)
		var out []string
		for _, op := range all {
			if f := op.GetFile(); f != nil {
				for _, a := range f.Actions {
					switch {
					case a.GetSymlink() != nil:
						out = append(out, a.GetSymlink().Newpath)
					case a.GetMkdir() != nil:
						out = append(out, a.GetMkdir().Path)
					case a.GetCopy() != nil:
						out = append(out, a.GetCopy().Dest)
					}
				}
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	all := paths(Hybrid(bkllb.Image("example.com/rt"), nil, []string{"files", "metadata"}))
	for _, want := range []string{"/usr", "/etc", "/var/run", "/var/tmp", "/root"} {
		if !slices.Contains(all, want) {
			t.Errorf("a plain runtime: no %s among %v", want, all)
		}
	}
	some := paths(Hybrid(bkllb.Image("example.com/rt"), nil, []string{"files", "metadata", "etc", "var", "usr"}))
	for _, p := range some {
		if p == "/usr" || p == "/etc" || strings.HasPrefix(p, "/var/") || p == "/var" {
			t.Errorf("the runtime's own %s was made again: %v", p, some)
		}
	}
	if !slices.Contains(some, "/bin") || !slices.Contains(some, "/root") {
		t.Errorf("what the runtime lacks was not made: %v", some)
	}
	whole := bkllb.Image("example.com/rt")
	if got := Hybrid(whole, nil, []string{"root", "run", "var", "app", "tmp", "usr", "etc", "bin", "sbin", "lib", "lib64"}); got.Output() != whole.Output() {
		t.Error("a runtime that has every entry got a layer")
	}
}

func TestLayoutOwnsFilesByRootAndSplitsLayers(t *testing.T) {
	root := bkllb.Image("example.com/root")
	all, _ := ops(t, Layout(root, LayoutOptions{Metadata: []byte("x"), Exports: []string{"share/applications/a.desktop"}}))
	var merge *pb.MergeOp
	var copies []*pb.FileActionCopy
	for _, op := range all {
		if m := op.GetMerge(); m != nil {
			merge = m
		}
		if f := op.GetFile(); f != nil {
			for _, a := range f.Actions {
				if c := a.GetCopy(); c != nil {
					copies = append(copies, c)
				}
			}
		}
	}
	if merge == nil || len(merge.Inputs) != 2 {
		t.Fatalf("want a merge of two layers, got %v", merge)
	}
	if len(copies) != 2 {
		t.Fatalf("want 2 copies (files/, export/), got %d", len(copies))
	}
	for _, c := range copies {
		if !strings.HasPrefix(c.Dest, "/files/") && !strings.HasPrefix(c.Dest, "/export/") {
			t.Errorf("copy %s -> %s", c.Src, c.Dest)
		}
		if c.Owner == nil || c.Owner.User.GetByID() != 0 || c.Owner.Group.GetByID() != 0 {
			t.Errorf("copy %s -> %s not owned by 0:0", c.Src, c.Dest)
		}
	}
}

func TestNoCacheIgnoresCacheOfEveryStep(t *testing.T) {
	s := parse(t, testSpec)
	o := testOptions(s)
	o.NoCache = true
	res, err := Build(s, o)
	if err != nil {
		t.Fatal(err)
	}
	_, def := ops(t, res.Files)
	n := 0
	for _, md := range def.Metadata {
		if md.IgnoreCache {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d ops ignore the cache, want the 4 steps", n)
	}
}

// TestInstallerNamedByTheSpecComesFromTheBuildImage: installer: dnf5 on a
// runtime that only has dnf installs with the build image's dnf5 onto the
// runtime's tree, in a root whose links let scriptlets run; without such a
// build image the error says what to give.
func TestInstallerNamedByTheSpecComesFromTheBuildImage(t *testing.T) {
	s := parse(t, "id: org.example.Hello\ncommand: hello\ninstaller: dnf5\npackages: [hello]\n")
	o := testOptions(s)
	if _, err := Build(s, o); err == nil || !strings.Contains(err.Error(), "the runtime has no dnf5 (it has dnf)") {
		t.Errorf("no build image: %v", err)
	}
	o.BuildImage = &Image{State: bkllb.Image("example.com/build:1"), Installers: []spec.Installer{spec.InstallerDnf}}
	if _, err := Build(s, o); err == nil || !strings.Contains(err.Error(), "neither the runtime nor the build image has dnf5") {
		t.Errorf("a build image without dnf5: %v", err)
	}
	o.BuildImage.Installers = []spec.Installer{spec.InstallerDnf5}
	res, err := Build(s, o)
	if err != nil {
		t.Fatal(err)
	}
	all, def := ops(t, res.Files)
	install := execs(all)[0]
	var cfg buildstep.InstallConfig
	stepConfig(t, def, all, install, &cfg)
	if cfg.Installer != "dnf5" || cfg.InstallRoot != sysroot {
		t.Errorf("install with %q into %q", cfg.Installer, cfg.InstallRoot)
	}
	var links []string
	for _, op := range all {
		for _, a := range op.GetFile().GetActions() {
			if l := a.GetSymlink(); l != nil {
				links = append(links, l.Newpath+"->"+l.Oldpath)
			}
		}
	}
	if !slices.Contains(links, "/bin->usr/bin") || !slices.Contains(links, "/lib64->usr/lib64") {
		t.Errorf("the root the runtime's tree is mounted in has links %v", links)
	}
}

// A foreign target installs natively: the build image's installer on the
// builder's platform, --forcearch for the target, into the target's tree.
func TestForeignArchInstallsOnTheBuilderWithForceArch(t *testing.T) {
	s := parse(t, "id: org.example.Hello\ncommand: hello\npackages: [hello]\n")
	o := testOptions(s)
	foreign(&o)
	noImage := o
	noImage.BuildImage = nil
	if _, err := Build(s, noImage); err == nil || !strings.Contains(err.Error(), "give a build image for it") {
		t.Errorf("no build image: %v", err)
	}
	res, err := Build(s, o)
	if err != nil {
		t.Fatal(err)
	}
	all, def := ops(t, res.Files, bkllb.Platform(o.Platform))
	var steps []string
	for _, op := range all {
		e := op.GetExec()
		if e == nil {
			continue
		}
		steps = append(steps, stepOf(e))
		if op.Platform == nil || op.Platform.Architecture != "amd64" {
			t.Errorf("step %q runs on %v, want the builder's amd64", stepOf(e), op.Platform)
		}
		if stepOf(e) == "install" {
			var cfg buildstep.InstallConfig
			stepConfig(t, def, all, e, &cfg)
			if cfg.ForceArch != "aarch64" || cfg.InstallRoot != sysroot {
				t.Errorf("install: forcearch %q into %q", cfg.ForceArch, cfg.InstallRoot)
			}
		}
	}
	if !slices.Contains(steps, "install") || !slices.Contains(steps, "finish") {
		t.Errorf("steps %v", steps)
	}
}

// foreign makes o an aarch64 build on an x86_64 builder, with a build
// image whose dnf installs for it.
func foreign(o *Options) {
	builder := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	o.Platform, o.Arch = ocispecs.Platform{OS: "linux", Architecture: "arm64"}, "aarch64"
	o.BuildPlatform = &builder
	o.BuildImage = &Image{State: bkllb.Image("example.com/runtime:1"), Installers: []spec.Installer{spec.InstallerDnf}}
}

// TestRepoFilesSayWhereEachRepoIs: a repo file names a repository by the
// one key its spec entry gives; a metalink or mirrorlist repo is remote.
func TestRepoFilesSayWhereEachRepoIs(t *testing.T) {
	s := parse(t, `id: org.example.Hello
command: hello
packages: [hello]
repos:
  - name: local
    path: repo
  - name: fedora
    metalink: https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch
  - name: mirrors
    mirrorlist: https://example.com/mirrors
    gpgkey: file:///etc/pki/rpm-gpg/old-key, https://example.com/new-key
`)
	res, err := Build(s, testOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := ops(t, res.Files)
	files := map[string]string{}
	for _, op := range all {
		if f := op.GetFile(); f != nil {
			for _, a := range f.Actions {
				if mk := a.GetMkfile(); mk != nil && strings.HasSuffix(mk.Path, ".repo") {
					files[mk.Path] = string(mk.Data)
				}
			}
		}
	}
	for name, want := range map[string]string{
		"/local.repo":   "baseurl=file://",
		"/fedora.repo":  "\nmetalink=https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch\n",
		"/mirrors.repo": "\nmirrorlist=https://example.com/mirrors\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/old-key https://example.com/new-key\n",
	} {
		if !strings.Contains(files[name], want) {
			t.Errorf("%s: %q, want it to contain %q", name, files[name], want)
		}
	}
	if strings.Contains(files["/fedora.repo"], "baseurl") {
		t.Errorf("the metalink repo has a baseurl: %q", files["/fedora.repo"])
	}
	if n := execs(all)[0].Network; n == pb.NetMode_NONE {
		t.Error("an install from a metalink repo has no network")
	}
}

// TestProxyReachesOnlyTheNetworkedInstall: the build args' proxy is the
// proxy of the step that fetches from a network repo (BuildKit keeps it
// out of the cache key and the image), and of no other step.
func TestProxyReachesOnlyTheNetworkedInstall(t *testing.T) {
	pe := ProxyFromBuildArgs(map[string]string{"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://proxy:3128", "no_proxy": "localhost", "OTHER": "x"})
	if pe == nil || pe.HTTPSProxy != "http://proxy:3128" || pe.NoProxy != "localhost" || pe.HTTPProxy != "" {
		t.Fatalf("proxy %+v", pe)
	}
	if ProxyFromBuildArgs(map[string]string{"OTHER": "x"}) != nil {
		t.Error("a proxy from no proxy build arg")
	}
	for name, src := range map[string]string{"networked": testSpec, "local": "id: org.example.Hello\ncommand: hello\npackages: [hello]\nrepos:\n  - {name: test, path: repo}\n"} {
		s := parse(t, src)
		o := testOptions(s)
		o.Proxy = pe
		res, err := Build(s, o)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := ops(t, res.Files)
		for i, e := range execs(all) {
			want := name == "networked" && i == 0
			if got := e.Meta.ProxyEnv != nil && e.Meta.ProxyEnv.HttpsProxy == "http://proxy:3128"; got != want {
				t.Errorf("%s: step %d %q has the proxy: %v, want %v", name, i, e.Meta.Args, got, want)
			}
		}
	}
}

// TestHelperIsOneVertexWhateverThePlatform: the frontend solves the helper
// alone, with no platform, before the graph (to start its transfer early);
// that is worth something only when the graph of every target, native or
// foreign, holds the very same vertex, which the solver then finds done.
func TestHelperIsOneVertexWhateverThePlatform(t *testing.T) {
	s := parse(t, "id: org.example.Hello\ncommand: hello\npackages: [hello]\n")
	helper := bkllb.Local("flatpak-frontend-helper", bkllb.FollowPaths([]string{"flatpak-frontend"}),
		bkllb.SharedKeyHint("/cache/helper"), bkllb.LocalUniqueID("flatpak-frontend-helper-0123"))
	alone, err := helper.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := digest.FromBytes(alone.Def[len(alone.Def)-2])
	native := testOptions(s)
	other := testOptions(s)
	foreign(&other)
	for _, o := range []Options{native, other} {
		o.Helper.State = helper
		res, err := Build(s, o)
		if err != nil {
			t.Fatal(err)
		}
		_, def := ops(t, res.Files, bkllb.Platform(o.Platform))
		found := false
		for _, dt := range def.Def {
			found = found || digest.FromBytes(dt) == want
		}
		if !found {
			t.Errorf("%s: the graph's helper is not the vertex solved alone (%s)", o.Arch, want)
		}
	}
}
