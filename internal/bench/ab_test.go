//go:build bench

package bench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
)

// abBaseEnv names the commit TestBenchAgainst compares this tree with;
// abPairsEnv how many pairs it builds.
const (
	abBaseEnv  = "BENCH_BASE"
	abPairsEnv = "BENCH_PAIRS"
	// abDefaultBase is the last commit before issue 15's redesign (build
	// steps in shell, no helper binary).
	abDefaultBase = "4c0f328"
)

// TestBenchAgainst builds the benchmark app's cold build the way users run
// the frontend, buildctl's gateway.v0 with the frontend image, with the
// image of this tree and that of another commit (BENCH_BASE, by default the
// code before issue 15's redesign), in alternating pairs on the one
// daemon, each from a cold cache with the runtime imported and the
// frontend image pulled. It prints both versions' times, the pairs'
// differences and the big steps' medians, and
// `new_vs_base_cold: RATIO` (medians). Not part of make bench:
//
//	BENCH_PAIRS=10 go test -tags bench -run '^TestBenchAgainst$' -v ./internal/bench/
func TestBenchAgainst(t *testing.T) {
	ctx := context.Background()
	base := cmp.Or(os.Getenv(abBaseEnv), abDefaultBase)
	pairs := 10
	if v := os.Getenv(abPairsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a count of pairs", abPairsEnv, v)
		}
		pairs = n
	}
	e := newEnv(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	baseTree := filepath.Join(t.TempDir(), "base")
	if err := os.Mkdir(baseTree, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, base, baseTree)
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("the tree of %s: %v\n%s", base, err, out)
	}
	reg := harness.Registry(t)
	images := map[string]string{}
	for _, v := range []struct{ name, tree string }{{"base", baseTree}, {"new", root}} {
		img := fmt.Sprintf("%s/bench-ab/flatpak-frontend:%s", reg, v.name)
		cmd := exec.Command("make", "-C", v.tree, "image", "REGISTRY="+reg, "IMAGE="+img, "IMAGE_DIR="+filepath.Join(t.TempDir(), "bin"))
		cmd.Env = append(withoutMake(os.Environ()), "BUILDKIT_HOST="+harness.Addr())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make image of %s: %v\n%s", v.name, err, out)
		}
		images[v.name] = img
	}
	logf("frontend images: %s (%s) and %s (this tree)", images["base"], base, images["new"])

	runs := map[string][]*result{}
	for i := range pairs {
		order := []string{"base", "new"}
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, v := range order {
			r, err := e.gatewayBuild(ctx, images[v])
			if err != nil {
				t.Fatalf("%s, pair %d: %v", v, i+1, err)
			}
			runs[v] = append(runs[v], r)
			logf("%s pair %d: %.2fs", v, i+1, r.Seconds)
			if os.Getenv("BENCH_STEPS") != "" {
				logf("%s", r.trace.summary(8))
			}
		}
	}
	seconds := func(v string) []float64 {
		var s []float64
		for _, r := range runs[v] {
			s = append(s, r.Seconds)
		}
		return s
	}
	var diffs []string
	slower := 0
	for i := range pairs {
		d := runs["new"][i].Seconds - runs["base"][i].Seconds
		if d > 0 {
			slower++
		}
		diffs = append(diffs, fmt.Sprintf("%+.2f", d))
	}
	var b strings.Builder
	for _, v := range []string{"base", "new"} {
		s := seconds(v)
		fmt.Fprintf(&b, "%-4s median %.2fs (%.2f-%.2f)", v, median(s), slices.Min(s), slices.Max(s))
		// The finishing runs in the install step, or in a step of its
		// own after it (see llb's finishTogether): install and finish are
		// timed together, from the install's start to the later end.
		finished := func(r *result) float64 { return max(stepEnd(r, "install "), stepEnd(r, "finish /app")) }
		for _, part := range []struct {
			name string
			time func(r *result) float64
		}{
			{"install and finish", func(r *result) float64 { return finished(r) - stepAt(r, "install ") }},
			{"to the layout", func(r *result) float64 { return stepEnd(r, "lay out the Flatpak image") - finished(r) }},
			{"export", func(r *result) float64 {
				return stepEnd(r, "exporting to oci image format") - stepAt(r, "exporting to oci image format")
			}},
		} {
			var ds []float64
			for _, r := range runs[v] {
				ds = append(ds, part.time(r))
			}
			fmt.Fprintf(&b, ", %s %.2fs", part.name, median(ds))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "pairs, new - base: %s (new slower in %d of %d)\n", strings.Join(diffs, " "), slower, pairs)
	fmt.Fprintf(&b, "new_vs_base_cold: %.3f\n", median(seconds("new"))/median(seconds("base")))
	fmt.Print(b.String())
}

// gatewayBuild builds the benchmark app from a cold cache through
// gateway.v0 with the frontend image img, pulled beforehand.
func (e *env) gatewayBuild(ctx context.Context, img string) (*result, error) {
	if err := e.cold(ctx); err != nil {
		return nil, err
	}
	def, err := llb.Image(img).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.unpack(ctx, def, client.SolveOpt{}, "/"); err != nil {
		return nil, fmt.Errorf("pulling %s: %w", img, err)
	}
	dir := e.tempDir("gateway")
	var spec strings.Builder
	if err := e.yamlTmpl.Execute(&spec, mainApp()); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "flatpak.yaml"), []byte(spec.String()), 0o644); err != nil {
		return nil, err
	}
	return e.solveFromDir(ctx, "gateway.v0", map[string]string{"source": img, "filename": "flatpak.yaml"},
		dir, filepath.Join(dir, "oci"), map[string]string{"compression": "zstd"})
}

// stepAt and stepEnd are when the first step named with prefix started
// and the last one ended, in seconds since the build began.
func stepAt(r *result, prefix string) float64 {
	at := -1.0
	for _, s := range r.Steps {
		if strings.HasPrefix(s.Name, prefix) && (at < 0 || s.At < at) {
			at = s.At
		}
	}
	return at
}

func stepEnd(r *result, prefix string) float64 {
	end := 0.0
	for _, s := range r.Steps {
		if strings.HasPrefix(s.Name, prefix) {
			end = max(end, s.End)
		}
	}
	return end
}

// withoutMake drops make's own variables from env, so that make run from
// a test starts afresh.
func withoutMake(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return k == "MAKEFLAGS" || k == "MAKELEVEL" || k == "MFLAGS"
	})
}
