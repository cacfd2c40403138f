// Package buildx builds the docker CLI's buildx plugin at a pinned version
// and installs it into a private docker configuration folder, so tests and
// local builds can run `docker buildx build` with the real client without
// touching the user's ~/.docker or needing a docker engine.
//
// [Ensure] builds ./cmd/buildx of [Module]@[Version] from a writable copy of
// the module source that `go mod download` fetches through the Go module
// proxy, into CACHE/buildx/VERSION/docker-buildx (CACHE is
// buildkitd.DefaultCacheDir, .cache/ of the checkout). Nothing of buildx is
// ever kept in the source tree. [Install] links that binary as
// DOCKER_CONFIG/cli-plugins/docker-buildx, where the docker CLI looks for
// plugins.
package buildx
