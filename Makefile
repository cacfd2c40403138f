# Tests need root: the integration harness runs a private buildkitd (runc,
# overlayfs), debootstrap and flatpak, and installs the Debian packages it
# needs with apt-get when they are missing. First run: builds buildkitd and
# the fixtures into .cache/ (override with FLATPAK_FRONTEND_CACHE).

GO ?= go
# Packages run in parallel; integration test binaries each start their own
# daemon and share the cached fixtures through file locks.
GOTESTFLAGS ?= -count=1 -timeout 80m

.PHONY: test vet buildkitd clean-cache

test:
	$(GO) test $(GOTESTFLAGS) ./...

# vet of the packages that are known to be complete; `go vet ./...` once
# every package builds.
vet:
	$(GO) vet ./buildkitd/ ./integration/...

# Build the pinned buildkitd and buildctl into the cache (tests do this too).
buildkitd:
	$(GO) run ./buildkitd/cmd/ensure

clean-cache:
	rm -rf .cache/fixtures

# The benchmark of issue 8 (root, like the tests; see bench/doc.go): prints
# one NAME: VALUE line per figure, raw timings go to .cache/bench/.
# BENCH_RUNS (default 3) and BENCH_BUDGET (default 9m) size it.
.PHONY: bench
bench:
	$(GO) test -tags bench -run '^TestBench$$' -count=1 -v -timeout 30m ./bench/
