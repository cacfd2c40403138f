// Package harness gives integration tests a live BuildKit daemon, a registry,
// the real flatpak command and the fixtures they build on.
//
// A test package calls [Main] from TestMain. Main checks that it runs as root
// and that the host tools are there (installing Debian's packages with apt-get
// when they are missing), starts a docker-registry and a private buildkitd
// (or uses $BUILDKIT_HOST), runs the tests and stops both again, also when a
// test fails or the run is interrupted. If the harness cannot set up, the
// tests fail: they are never skipped.
//
// Fixtures are built on first use and cached by the hash of their inputs under
// the cache folder (FLATPAK_FRONTEND_CACHE, default .cache/ at the top of the
// checkout), in fixtures/NAME-HASH. A file lock per fixture lets test binaries
// that run in parallel share one build:
//
//   - [RPMRepo]: test RPMs built from testdata/rpms/*.spec and a createrepo_c
//     repo of them.
//   - [Runtime]: the hybrid test runtime org.example.Platform//1, an OCI
//     image that Flatpak installs and that also runs as a container.
//   - [Flatpak]: a throwaway Flatpak user installation and ostree repo.
package harness
