package integration

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
)

func TestMain(m *testing.M) { harness.Main(m) }

// The PATH for RUN steps on the runtime: its OCI source has no image config.
const runtimePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// solveOnRuntime runs build on the harness daemon with the runtime's OCI store and
// the given local folders attached.
func solveOnRuntime(t *testing.T, locals map[string]string, build gateway.BuildFunc) {
	t.Helper()
	c := harness.Client(t)
	rt := harness.Runtime(t)
	mounts := map[string]fsutil.FS{}
	for name, dir := range locals {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			t.Fatal(err)
		}
		mounts[name] = fs
	}
	_, err := c.Build(context.Background(), client.SolveOpt{
		LocalMounts: mounts,
		OCIStores:   rt.OCIStores(t),
	}, "", build, nil)
	if err != nil {
		t.Fatalf("solve: %v", err)
	}
}

// solveReadFile solves st and reads one file of the result.
func solveReadFile(ctx context.Context, gw gateway.Client, st llb.State, path string) ([]byte, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := gw.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	return ref.ReadFile(ctx, gateway.ReadRequest{Filename: path})
}

func TestSolveSmallGraphReadsFileBack(t *testing.T) {
	c := harness.Client(t)
	st := llb.Scratch().
		File(llb.Mkdir("/out", 0o755)).
		File(llb.Mkfile("/out/hello.txt", 0o644, []byte("hello from buildkit\n")))
	var got []byte
	_, err := c.Build(context.Background(), client.SolveOpt{}, "", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		var err error
		got, err = solveReadFile(ctx, gw, st, "/out/hello.txt")
		return gateway.NewResult(), err
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "hello from buildkit\n" {
		t.Fatalf("read back %q", got)
	}
}

func TestRuntimeImportsInstallsAndRuns(t *testing.T) {
	rt := harness.Runtime(t)
	if rt.Ref != harness.RuntimeRef {
		t.Fatalf("index.json names the runtime %q, want %q", rt.Ref, harness.RuntimeRef)
	}
	fp := harness.Flatpak(t)
	fp.ImportOCI(t, rt.Dir)
	fp.Install(t, harness.RuntimeRef)
	out := fp.Run(t, "--command=sh", harness.RuntimeID+"//"+harness.RuntimeBranch,
		"-c", "echo ok; rpm -q runtime-provides; test -x /usr/bin/dnf && echo dnf")
	want := "ok\nruntime-provides-1-1.noarch\ndnf\n"
	if out != want {
		t.Fatalf("flatpak run printed %q, want %q", out, want)
	}
}

// The dnf flags that install an /app RPM into the hybrid runtime from a
// repo folder mounted at /repo: no configured repos, the test repo from the
// command line without GPG, and a release version (there is no
// system-release package for dnf to read it from). With this runtime's
// dnf.conf (no repos, gpgcheck off) `dnf -y --repofrompath=test,file:///repo
// install hello` is enough too; the full set does not depend on the
// runtime's dnf.conf. Cache-only (-C) fails: the repo has no cache yet.
var dnfInstall = []string{"dnf", "-y", "--setopt=reposdir=/dev/null",
	"--repofrompath=test,file:///repo", "--setopt=test.gpgcheck=0",
	"--releasever=1", "install"}

func TestRuntimeWorksAsContainer(t *testing.T) {
	rt := harness.Runtime(t)
	repo := harness.RPMRepo(t)
	script := strings.Join([]string{
		"set -e",
		"echo shell-ok",
		"dnf --version | head -n1",
		"rpm -q runtime-provides",
		strings.Join(append(dnfInstall, "hello"), " ") + " >/tmp/dnf.log 2>&1 || { cat /tmp/dnf.log; exit 1; }",
		"rpm -q hello hello-data",
		"/app/bin/hello > /out/hello.txt",
	}, "\n")
	run := rt.State().Run(
		llb.Args([]string{"/bin/sh", "-c", script}),
		llb.AddEnv("PATH", runtimePath),
		llb.AddMount("/repo", llb.Local("repo"), llb.Readonly),
		llb.WithCustomName("dnf install hello in the runtime"),
	)
	out := run.AddMount("/out", llb.Scratch())
	solveOnRuntime(t, map[string]string{"repo": repo}, func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		got, err := solveReadFile(ctx, gw, out, "/hello.txt")
		if err != nil {
			return nil, err
		}
		want := harness.HelloOutput + "\n" + harness.HelloGreeting + "\n"
		if string(got) != want {
			t.Errorf("/app/bin/hello printed %q, want %q", got, want)
		}
		return gateway.NewResult(), nil
	})
}

// The runtime has the hybrid entries with the right types and modes.
func TestRuntimeHasHybridEntries(t *testing.T) {
	rt := harness.Runtime(t)
	solveOnRuntime(t, nil, func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		def, err := rt.State().Marshal(ctx)
		if err != nil {
			return nil, err
		}
		res, err := gw.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
		if err != nil {
			return nil, err
		}
		ref, err := res.SingleRef()
		if err != nil {
			return nil, err
		}
		entries := map[string]*fstypes.Stat{}
		for _, dir := range []string{"/", "/var"} {
			list, err := ref.ReadDir(ctx, gateway.ReadDirRequest{Path: dir})
			if err != nil {
				return nil, err
			}
			for _, st := range list {
				entries[strings.TrimPrefix(dir+"/"+st.Path, "//")] = st
			}
		}
		for _, c := range []struct {
			path string
			link string
			mode os.FileMode
		}{
			{"usr", "/files", 0},
			{"etc", "/files/etc", 0},
			{"bin", "/usr/bin", 0},
			{"sbin", "/usr/sbin", 0},
			{"lib", "/usr/lib", 0},
			{"lib64", "/usr/lib64", 0},
			{"/var/run", "../run", 0},
			{"tmp", "", os.ModeDir | os.ModeSticky | 0o777},
			{"/var/tmp", "", os.ModeDir | os.ModeSticky | 0o777},
			{"root", "", os.ModeDir | 0o700},
			{"run", "", os.ModeDir | 0o755},
		} {
			st, ok := entries[c.path]
			if !ok {
				t.Errorf("%s is missing", c.path)
				continue
			}
			if c.link != "" {
				if st.Linkname != c.link {
					t.Errorf("%s -> %q, want -> %q", c.path, st.Linkname, c.link)
				}
			} else if got := os.FileMode(st.Mode); got != c.mode {
				t.Errorf("%s has mode %v, want %v", c.path, got, c.mode)
			}
		}
		for _, p := range []string{"metadata", "files/lib/sysimage/rpm/rpmdb.sqlite", "files/etc/rpm/macros", "files/bin/dnf"} {
			if _, err := ref.StatFile(ctx, gateway.StatRequest{Path: p}); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
		return gateway.NewResult(), nil
	})
}

// The runtime pushed to the harness registry is pulled back by the daemon
// (plain HTTP) and runs as a base image, as `FROM REGISTRY/example/platform:1`
// would.
func TestRuntimePushedToRegistryRunsAsBaseImage(t *testing.T) {
	rt := harness.Runtime(t)
	ref := rt.Push(t)
	c := harness.Client(t)
	run := llb.Image(ref).Run(
		llb.Args([]string{"/bin/sh", "-c", "rpm -q runtime-provides > /out/rpm.txt"}),
		llb.AddEnv("PATH", runtimePath),
	)
	out := run.AddMount("/out", llb.Scratch())
	_, err := c.Build(context.Background(), client.SolveOpt{}, "", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		got, err := solveReadFile(ctx, gw, out, "/rpm.txt")
		if err != nil {
			return nil, err
		}
		if string(got) != "runtime-provides-1-1.noarch\n" {
			t.Errorf("rpm -q printed %q", got)
		}
		return gateway.NewResult(), nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
}
