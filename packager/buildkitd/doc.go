// Package buildkitd runs the pieces a build needs on the local machine: a private
// BuildKit daemon built from the pinned module version, and a throwaway container
// registry.
//
// The daemon is built from source rather than downloaded so that the daemon and
// the client library in go.mod are always the same version ([Version]): the
// frontend is tested against exactly the BuildKit it links. [Ensure] builds
// buildkitd and buildctl once into a cache folder and reuses them afterwards;
// a file lock makes concurrent test binaries wait for each other instead of
// building twice.
//
// [Start] runs buildkitd with its own state directory and unix socket, the OCI
// worker (runc, overlayfs snapshotter) and no containerd worker, so it needs
// nothing but root and runc. The daemon runs in its own process group and is
// killed by the kernel if the parent dies (Pdeathsig), so an interrupted test
// run leaves no daemon behind. [StartRegistry] does the same for Debian's
// docker-registry, listening on a free loopback port with storage in a
// temporary folder; [Options.RegistryHosts] tells the daemon to talk plain HTTP
// to such a registry.
//
// Used by the integration test harness, and meant for a `build` command and
// `make demo` that need a daemon on a machine without one.
package buildkitd
