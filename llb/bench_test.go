package llb

import (
	"context"
	"fmt"
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
	src := bigSpec(500)
	ctx := context.Background()
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	b.ReportAllocs()
	for b.Loop() {
		s, err := spec.Parse("flatpak.yaml", src, spec.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if got := len(s.PackageNames("x86_64")); got != 500 {
			b.Fatalf("parsed %d packages, want 500", got)
		}
		res, err := Build(s, Options{
			Platform:  p,
			Arch:      "x86_64",
			Runtime:   Image{State: bkllb.Image("example.com/runtime:1"), Installers: []spec.Installer{spec.InstallerDnf}},
			Helper:    Helper{State: bkllb.Image("example.com/frontend:1"), Args: []string{"bin/flatpak-frontend"}},
			Contexts:  map[string]bkllb.State{"": bkllb.Local("context", bkllb.LocalUniqueID("bench"))},
			SourceMap: bkllb.NewSourceMap(nil, s.Source.Filename, "yaml", s.Source.Data),
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := res.Files.Marshal(ctx, bkllb.Platform(p)); err != nil {
			b.Fatal(err)
		}
		final := Layout(res.Files, LayoutOptions{
			Metadata: []byte("[Application]\nname=org.example.Big\n"),
			Exports:  []string{"share/applications/org.example.Big.desktop", "share/icons/**/org.example.Big.*"},
		})
		if _, err := final.Marshal(ctx, bkllb.Platform(p)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchmarkParseAndMarshalRuns runs the benchmark once, so that `make
// bench` cannot break without a test failing.
func TestBenchmarkParseAndMarshalRuns(t *testing.T) {
	r := testing.Benchmark(func(b *testing.B) {
		BenchmarkParseAndMarshal500Packages(b)
	})
	if r.N == 0 {
		t.Fatal("the benchmark failed (see its output)")
	}
}
