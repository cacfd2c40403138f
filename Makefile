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
