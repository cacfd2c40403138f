package llb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// bigSpec is an app with n packages, finish-args, cleanup-commands and a
// local repo: the work the frontend does before its first solve, scaled up.
func bigSpec(n int) []byte {
	var b strings.Builder
	b.WriteString(`id: org.example.Big
runtime-name: org.example.Platform
runtime-version: "1"
command: big
finish-args: |-
  --share=ipc
  --socket=wayland
  --socket=fallback-x11
  --filesystem=xdg-documents:ro
  --talk-name=org.freedesktop.Notifications
cleanup-commands: rm -rf /app/share/doc
repos:
  - name: local
    path: rpms
packages:
`)
	for i := range n {
		fmt.Fprintf(&b, "  - package-number-%d\n", i)
	}
	return []byte(b.String())
}

// BenchmarkParseAndMarshal500Packages is llb_ms_500_packages of
// `make bench`: spec.Parse of a 500-package flatpak.yaml, then Build and
// Layout marshalled to LLB definitions, as the frontend does them.
func BenchmarkParseAndMarshal500Packages(b *testing.B) {
	parseAndMarshal(b, "flatpak.yaml", bigSpec(500), 500, Options{
		Runtime: Image{State: bkllb.Image("example.com/runtime:1"), Installers: []spec.Installer{spec.InstallerDnf}},
	}, LayoutOptions{
		Metadata: []byte("[Application]\nname=org.example.Big\n"),
		Exports:  []string{"share/applications/org.example.Big.desktop", "share/icons/**/org.example.Big.*"},
	})
}

// parseAndMarshal is the loop of the benchmarks: the file parsed (it must
// list want packages), its build (with o, the fields all builds share
// filled in) and its layout (lo) marshalled, as the frontend does them
// before its first solve.
func parseAndMarshal(b *testing.B, filename string, src []byte, want int, o Options, lo LayoutOptions) {
	ctx := context.Background()
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	o.Platform, o.Arch = p, "x86_64"
	o.Helper = Helper{State: bkllb.Image("example.com/frontend:1"), Args: []string{"bin/flatpak-frontend"}}
	o.Contexts = map[string]bkllb.State{"": bkllb.Local("context", bkllb.LocalUniqueID("bench"))}
	b.ReportAllocs()
	for b.Loop() {
		s, err := spec.Parse(filename, src, spec.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if got := len(s.PackageNames("x86_64")); got != want {
			b.Fatalf("parsed %d packages, want %d", got, want)
		}
		o.SourceMap = bkllb.NewSourceMap(nil, s.Source.Filename, "yaml", s.Source.Data)
		res, err := Build(s, o)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := res.Files.Marshal(ctx, bkllb.Platform(p)); err != nil {
			b.Fatal(err)
		}
		if _, err := Layout(res.Files, lo).Marshal(ctx, bkllb.Platform(p)); err != nil {
			b.Fatal(err)
		}
	}
}

// sdkSpec is Fedora's SDK container.yaml (spec/testdata/fedora-sdk.container.yaml:
// globs, extensions, finish-args, cleanup-commands, per-arch packages) with
// n packages, about as many as Fedora's SDK installs: names, globs and
// platform-limited entries mixed as its runtime generator writes them.
func sdkSpec(tb testing.TB, n int) []byte {
	tb.Helper()
	dt, err := os.ReadFile(filepath.Join("..", "spec", "testdata", "fedora-sdk.container.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	head, tail, ok := strings.Cut(string(dt), "    packages:\n")
	_, tail, ok2 := strings.Cut(tail, "\nplatforms:")
	if !ok || !ok2 {
		tb.Fatal("fedora-sdk.container.yaml: no packages: list followed by platforms:")
	}
	var b strings.Builder
	b.WriteString(head + "    packages:\n")
	for i := range n {
		switch {
		case i%97 == 0:
			fmt.Fprintf(&b, "    - glibc-langpack-%02d*\n", i)
		case i%89 == 0:
			fmt.Fprintf(&b, "    - name: sdk-tool-%d\n      platforms:\n        only: x86_64, aarch64\n", i)
		default:
			fmt.Fprintf(&b, "    - sdk-package-%d-devel\n", i)
		}
	}
	b.WriteString("platforms:" + tail)
	return []byte(b.String())
}

// BenchmarkParseAndMarshalSDK1600Packages is llb_ms_sdk_1600_packages of
// `make bench`: Fedora's SDK-sized runtime spec (1,600 packages) parsed
// and its build marshalled to LLB, as the frontend does before its first
// solve.
func BenchmarkParseAndMarshalSDK1600Packages(b *testing.B) {
	build := Image{State: bkllb.Image("example.com/build:1"), Installers: []spec.Installer{spec.InstallerDnf}}
	parseAndMarshal(b, "container.yaml", sdkSpec(b, 1600), 1600, Options{BuildImage: &build},
		LayoutOptions{Metadata: []byte("[Runtime]\nname=org.fedoraproject.Sdk\n")})
}

// TestBenchmarkParseAndMarshalRuns runs the benchmarks once, so that `make
// bench` cannot break without a test failing.
func TestBenchmarkParseAndMarshalRuns(t *testing.T) {
	for name, f := range map[string]func(*testing.B){
		"500 packages": BenchmarkParseAndMarshal500Packages,
		"SDK":          BenchmarkParseAndMarshalSDK1600Packages,
	} {
		if r := testing.Benchmark(f); r.N == 0 {
			t.Fatalf("the benchmark of %s failed (see its output)", name)
		}
	}
}
