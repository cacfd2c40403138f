package llb

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

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
		Runtime:   Image{State: bkllb.Image("example.com/runtime:1"), Installer: spec.InstallerDnf},
		Contexts:  map[string]bkllb.State{"": bkllb.Local("context", bkllb.LocalUniqueID("test"))},
		SourceMap: bkllb.NewSourceMap(nil, s.Source.Filename, "yaml", s.Source.Data),
	}
}

// ops marshals a state and returns its ops in definition order.
func ops(t *testing.T, st bkllb.State) ([]*pb.Op, *bkllb.Definition) {
	t.Helper()
	def, err := st.Marshal(context.Background())
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

func env(e *pb.ExecOp, key string) (string, bool) {
	for _, kv := range e.Meta.Env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v, true
		}
	}
	return "", false
}

func TestBuildInstallsPackagesAsArguments(t *testing.T) {
	s := parse(t, testSpec)
	res, err := Build(s, testOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := ops(t, res.Files)
	ex := execs(all)
	if len(ex) != 3 {
		t.Fatalf("want install, cleanup and finish steps, got %d execs", len(ex))
	}
	install := ex[0]
	want := []string{"/bin/sh", scriptPath + "/install.sh", "hello", "hello-extra"}
	if !slices.Equal(install.Meta.Args, want) {
		t.Errorf("install args = %q, want %q (aarch64-only package dropped, names as arguments)", install.Meta.Args, want)
	}
	if v, _ := env(install, "FFE_INSTALLER"); v != "dnf" {
		t.Errorf("FFE_INSTALLER = %q", v)
	}
	if v, _ := env(install, "FFE_SECRET_REPOS"); v != "web="+secretsDir+"/webcreds" {
		t.Errorf("FFE_SECRET_REPOS = %q", v)
	}
	// An http repo needs the network; nothing else does.
	if install.Network != pb.NetMode_UNSET {
		t.Errorf("install network = %v, want sandbox default", install.Network)
	}
	for _, e := range ex[1:] {
		if e.Network != pb.NetMode_NONE {
			t.Errorf("%q runs with network %v", e.Meta.Args, e.Network)
		}
	}
	var secret, ctxMount bool
	caches := map[string]bool{}
	for _, m := range install.Mounts {
		switch {
		case m.MountType == pb.MountType_CACHE:
			caches[m.Dest] = m.CacheOpt.Sharing == pb.CacheSharingOpt_PRIVATE
		case m.MountType == pb.MountType_SECRET:
			secret = m.SecretOpt.ID == "webcreds" && m.Dest == secretsDir+"/webcreds"
		case m.Dest == repoMountPath(0):
			ctxMount = m.Readonly && m.Selector == "/rpms/repo"
		}
	}
	if !secret || !ctxMount {
		t.Errorf("install mounts: secret %v, read-only repo dir %v", secret, ctxMount)
	}
	// Where dnf, dnf5 and microdnf keep their caches.
	for _, dir := range []string{"/var/cache/dnf", "/var/cache/libdnf5", "/var/cache/yum"} {
		if !caches[dir] {
			t.Errorf("no private cache mount at %s (cache mounts: %v)", dir, caches)
		}
	}
	if got := ex[1].Meta.Args; !slices.Equal(got, []string{"/bin/sh", "-c", "rm -rf /app/share/doc"}) {
		t.Errorf("cleanup args = %q", got)
	}
	if v, _ := env(ex[2], "FFE_RENAME_ICON"); v != "viewer" {
		t.Errorf("finish FFE_RENAME_ICON = %q", v)
	}
	// The steps after the install are keyed by it, not by a checksum of
	// /app, which never matches another run's.
	for _, e := range ex[1:] {
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
			lineOf[e.Meta.Args[1]] = locs.Locations[0].Ranges[0].Start.Line
		}
	}
	// packages' value starts on line 6, cleanup-commands' on line 14.
	if lineOf[scriptPath+"/install.sh"] != 6 || lineOf["-c"] != 14 {
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
			if e := op.GetExec(); e != nil && e.Meta.Args[1] == scriptPath+"/install.sh" {
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
	if n != 3 {
		t.Errorf("%d ops ignore the cache, want the 3 steps", n)
	}
}
