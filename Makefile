# Tests need root: the integration harness runs a private buildkitd (runc,
# overlayfs), debootstrap and flatpak, and installs the Debian packages it
# needs with apt-get when they are missing. First run: builds buildkitd and
# the fixtures into .cache/ (override with FLATPAK_FRONTEND_CACHE).

GO ?= go
# Packages run in parallel; integration test binaries each start their own
# daemon and share the cached fixtures through file locks.
GOTESTFLAGS ?= -count=1 -timeout 80m

.PHONY: demo demo-ghex fixtures test vet buildkitd clean-cache dist compat

# The example end to end: build the test runtime and RPMs, then
# flatpak-frontend build --install --run of examples/hello (with a private
# buildkitd unless BUILDKIT_HOST is set), ending with the app's output.
demo: fixtures
	$(GO) build -o bin/flatpak-frontend ./cmd/flatpak-frontend
	bin/flatpak-frontend build --progress=plain --install --run \
		--build-context runtime=oci-layout://$(CURDIR)/.cache/example/runtime \
		--build-context rpms=$(CURDIR)/.cache/example/rpms \
		examples/hello

# The real app: GHex from RPMs on the GTK test runtime (examples/ghex),
# installed with flatpak --user; then: flatpak run org.gnome.GHex
demo-ghex:
	$(GO) run ./integration/cmd/fixtures -ghex
	CGO_ENABLED=0 $(GO) build -o bin/flatpak-frontend ./cmd/flatpak-frontend
	bin/flatpak-frontend build --progress=plain --install \
		--build-context runtime=oci-layout://$(CURDIR)/.cache/example/gtk-runtime \
		--build-context rpms=$(CURDIR)/.cache/example/ghex-rpms \
		examples/ghex

# The test runtime as an OCI layout at .cache/example/runtime and the test
# RPM repo at .cache/example/rpms, to try any flatpak.yaml against.
fixtures:
	$(GO) run ./integration/cmd/fixtures

# The Debian packages first: test packages run in parallel, and more than
# one needs them.
test:
	$(GO) run ./integration/cmd/fixtures -tools
	$(GO) test $(GOTESTFLAGS) ./...

# go vet, then staticcheck (pinned, fetched from the Go module proxy the
# first time).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The compat matrix: the example end to end through every BuildKit release
# in buildkitd.CompatVersions (each built from the Go module proxy into
# .cache/buildkit/ the first time, a few minutes each); `make test` runs
# the oldest and the newest. The table of results goes to .cache/compat.md,
# for docs/usage.md.
compat:
	$(GO) run ./integration/cmd/fixtures -tools
	$(GO) run ./packager/buildkitd/cmd/ensure $$($(GO) run ./internal/compatlist)
	FLATPAK_FRONTEND_COMPAT=all FLATPAK_FRONTEND_COMPAT_REPORT=$(CURDIR)/.cache/compat.md \
		$(GO) test -count=1 -timeout 90m -run '^TestCompat' -v ./integration/
	@cat .cache/compat.md

# Build the pinned buildkitd and buildctl into the cache (tests do this too).
buildkitd:
	$(GO) run ./packager/buildkitd/cmd/ensure

clean-cache:
	rm -rf .cache/fixtures

# The benchmark of issues 8 and 21 (root, like the tests; see
# internal/bench/doc.go): prints one NAME: VALUE line per figure, raw timings
# and the met/missed goals go to .cache/bench/, the chart to
# docs/performance.png. BENCH_RUNS (default 3), BENCH_BUDGET (default 8m)
# and BENCH_SIZES (default 50mb,300mb,1gb) size it; on an ext4 without a
# journal it builds in a journaled image it mounts (BENCH_TMP=host: not).
.PHONY: bench
bench:
	$(GO) test -tags bench -run '^TestBench$$' -count=1 -v -timeout 120m ./internal/bench/

# The release binary: static (CGO_ENABLED=0), reproducible (-trimpath, no
# VCS stamp), with VERSION embedded for `flatpak-frontend --version`, and
# its SHA-256 beside it:  make dist VERSION=v1.2.0 [DIST_ARCHES="amd64 arm64"]
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
DIST ?= dist
DIST_ARCHES ?= $(shell $(GO) env GOARCH)
dist:
	@mkdir -p $(DIST)
	@for arch in $(DIST_ARCHES); do \
		out=$(DIST)/flatpak-frontend-$(VERSION)-linux-$$arch; set -x; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -buildvcs=false \
			-ldflags='-s -w -X main.version=$(VERSION)' -o $$out ./cmd/flatpak-frontend || exit 1; \
		set +x; (cd $(DIST) && sha256sum $$(basename $$out) > $$(basename $$out).sha256); \
	done

# The frontend image (see Dockerfile): the static binary of each platform in
# IMAGE_PLATFORMS is built with CGO_ENABLED=0 into IMAGE_DIR, which is the
# build context of the Dockerfile, and the image is built through BuildKit's
# dockerfile.v0 frontend with the pinned buildctl and pushed to IMAGE. It
# runs against BUILDKIT_HOST if set, else a private buildkitd (root), which
# reaches REGISTRY over plain HTTP. Nothing is pulled: the image is FROM
# scratch. Then write `# syntax=$(IMAGE)` atop a flatpak.yaml.
#   make image                                   # localhost:5000/flatpak-frontend:latest
#   make image REGISTRY=registry.example:5000 IMAGE_PLATFORMS=linux/amd64,linux/arm64
REGISTRY ?= localhost:5000
IMAGE ?= $(REGISTRY)/flatpak-frontend:latest
IMAGE_PLATFORMS ?= linux/$(shell $(GO) env GOARCH)
IMAGE_DIR ?= bin/image
IMAGE_OUTPUT ?= type=image,name=$(IMAGE),push=true
# The commit's time: the same commit gives the same image digest.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

# make image-oci writes the image as an OCI layout to IMAGE_OCI instead, for
# builds where no registry is at hand: they name it with
# --build-context localhost:5000/flatpak-frontend=oci-layout://$PWD/bin/frontend-image
IMAGE_OCI ?= bin/frontend-image

.PHONY: image image-oci image-binaries buildx
image-oci:
	$(MAKE) image IMAGE_OUTPUT='type=oci,dest=$(IMAGE_OCI),tar=false,name=$(IMAGE)'

image: image-binaries
	$(GO) run ./packager/buildkitd/cmd/withdaemon -registry $(REGISTRY) -- \
		buildctl build --frontend dockerfile.v0 \
		--local context=$(IMAGE_DIR) --local dockerfile=. \
		--opt platform=$(IMAGE_PLATFORMS) \
		--opt build-arg:SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
		--output '$(IMAGE_OUTPUT),rewrite-timestamp=true'

image-binaries:
	@mkdir -p $(IMAGE_DIR)
	@for p in $$(echo '$(IMAGE_PLATFORMS)' | tr , ' '); do \
		arch=$${p#linux/}; arch=$${arch%%/*}; \
		set -x; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags='-s -w' -buildvcs=false \
			-o $(IMAGE_DIR)/flatpak-frontend-linux-$$arch ./cmd/flatpak-frontend || exit 1; \
		set +x; \
	done

# The docker buildx plugin (github.com/docker/buildx, pinned in package
# buildx) built into the cache; with DOCKER_CONFIG=DIR also installed there
# as DIR/cli-plugins/docker-buildx.
buildx:
	$(GO) run ./internal/buildx/cmd/ensure $(if $(DOCKER_CONFIG),-docker-config $(DOCKER_CONFIG))
