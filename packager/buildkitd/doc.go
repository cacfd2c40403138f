// Package buildkitd runs the BuildKit daemon a build needs on a machine
// without one: a private buildkitd built from the pinned module version.
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
// nothing but root (or, rootless, a user namespace) and runc. The daemon is a
// child that dies with its parent (packager/childproc), so an interrupted run
// leaves no daemon behind, and [CleanupStale] takes the folders and mounts of
// one that was killed. [Options.RegistryHosts] tells the daemon to talk plain
// HTTP to a loopback registry (the tests' internal/testregistry).
//
// Used by `flatpak-frontend build` (packager/connect), `make demo` and the
// integration test harness.
package buildkitd
