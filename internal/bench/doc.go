// Package bench is `make bench`: this frontend measured side by side with
// what packagers run today, on one private buildkitd (issue 8).
//
// The benchmark is a test behind the build tag "bench":
//
//	go test -tags bench -run '^TestBench$' -v -timeout 120m ./internal/bench/
//
// It builds a generated RPM repo of a mid-sized desktop app (8 packages,
// about 50 MB and 1,100 files under /app; testdata/rpms/bench-package.spec)
// and the harness's hybrid test runtime, then times, with the runtime
// already imported and the cache otherwise empty ("cold"):
//
//   - this frontend (localbuild.Build, in-process);
//   - a Konflux-style multi-stage Containerfile (testdata/containerfile) run
//     by BuildKit's built-in Dockerfile frontend on the same daemon;
//   - the classic host pipeline: dnf --installroot into a copy of the
//     runtime tree, flatpak build-finish, build-export, build-bundle --oci;
//
// and rebuilds with this frontend (nothing changed, finish-args changed, one
// package added to the spec of the build before; each into the OCI layout
// the build before it wrote, as a packager's rebuild does), 8 different apps built at once, and the parse + LLB
// marshal time of a 500-package spec (BenchmarkParseAndMarshal500Packages in
// package llb). It prints one "NAME: VALUE" line per figure and writes every
// run, with per-step (vertex) timings, to .cache/bench/. Every timed cold
// build starts after a prune, the runtime's import and a sync. Where the
// temporary folder is on an ext4 without a journal (this machine's), the
// whole benchmark runs in a journaled ext4 image mounted for it (fs_test.go;
// BENCH_TMP=host keeps it where it is): without a journal, files created
// within a minute of a prune cost 10-20 times more. The
// concurrent pair (one app alone, then eight) runs BENCH_RUNS times too,
// and records the CPU time buildkitd, its processes and the benchmark used.
//
// Then the scale axes of issue 21 (scale_test.go), on a runtime whose rpmdb
// records 1,000 more packages (generated, installed --justdb, 60 files
// each: Fedora's runtime has about 1,000): the benchmark app alone (50mb, 8
// packages), with 32 generated packages (300mb, 40) and with 142 (1gb,
// 150; libraries of 1 to 10 MB, plugins, data files: 61 files each). At
// each size, taking turns from a cold cache: this frontend through its
// command (a process of its own, whose peak RSS, its VmHWM read while it
// runs, is the frontend's memory; buildkitd's peak is read from its
// VmHWM, reset before each build, and so is its peak during the
// Containerfile's builds, whose Dockerfile frontend runs inside it), the
// Containerfile, the host pipeline and the floor (rpm -i --root of the
// same RPM files into a copy of the runtime tree, then /app as one tar
// compressed as the frontend's layers are: zstd at BuildKit's default
// level, with the library BuildKit uses); then its rebuilds: nothing
// changed, finish-args changed, one package added, one package updated (a
// 2.0 of a package in the middle of the set, in a copy of the repo). The
// biggest size runs once; BENCH_SIZES=50mb,300mb picks sizes. What a
// user downloads (update_test.go): the app and runtime pushed to a
// registry, published with deltas, installed by Flatpak; the app with one
// package added pushed and published; the blob bytes `flatpak update`
// fetches, counted by a proxy the index names as the registry; and the
// deltas of real updates of compiled code (debdelta_test.go): for
// libssl3 and libglib2.0-0, the two newest versions this machine's apt
// knows (a Debian point release and its update), downloaded once, their
// usr/ trees as an old and a new layer, publish's delta ÷ the new layer
// zstd-compressed; and what `flatpak update` downloads when one package of
// the app (bench-debian-lib, libssl3's libraries under /app/lib) goes from
// the older of those versions to the newer ("n/a", with the reason logged,
// when apt knows fewer than two versions or cannot download them). Then
// GHex (examples/ghex) on the GTK test runtime against a Konflux-style
// Containerfile doing the same work (testdata/containerfile-ghex; both
// images must hold the GSettings schemas the runtime's rpm file trigger
// compiles, which the Containerfiles get by turning off rpm's unshare
// plugin as the frontend does). The command's first run, which makes its
// copy for the steps, is untimed, and a cold build keeps that copy. Each
// figure with a goal is listed as met or missed in latest.txt; a missed
// goal is the next work, not a failure. The chart of the scale runs goes
// to docs/performance.png.
//
// TestBenchConcurrent runs only that pair, for working on it; with
// BENCH_MARK=1 it logs when the eight start on CLOCK_MONOTONIC, to cut a
// system-wide `perf record -k CLOCK_MONOTONIC` to them (perf report --time).
// TestBenchDebianUpdateDelta runs only the real updates' deltas.
// TestBenchScaleFrontend runs only this frontend's scale builds
// (BENCH_SIZES; BENCH_STEPS=1 lists every step, as it does in TestBenchGHex). TestBenchAgainst compares
// this tree with another commit (BENCH_BASE, by default the last one before
// issue 15's redesign) the way users run the frontend: the frontend image
// of each through gateway.v0, cold builds of the 50 MB app in BENCH_PAIRS
// alternating pairs (BENCH_STEPS=1 logs each build's slowest steps, and
// when the install step's output began, dnf said "Complete!" and the step
// ended). BENCH_LOGS=1 adds every step's output, each line timed from the
// step's start, to the slowest steps a build logs.
package bench
