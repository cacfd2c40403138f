// Package install is the install step: it runs the image's package
// manager (dnf5, dnf or microdnf) on the spec's packages and reports what
// the install added, who owns which file, and, when it fails, why: names no
// repo has, capabilities nothing provides, files outside /app, packaged
// files missing from the result.
//
// While the installer runs it watches the tree rpm writes (commits.go):
// the check then reads only the files rpm did not verify as it wrote them
// or that changed after. Where no kept install can serve the build, the
// runtime's packages are read from a copy of the rpm database while the
// installer runs (packagesBeside; first, where it cannot be copied).
//
// For an app it also keeps the last install in a cache folder, so that a
// build that only adds packages installs them on top of it (see state.go).
//
// With a repo that has a secret, the step runs twice: once to download
// (with the secret), once to install the files (with no network); the
// first records which files the second checks the signatures of
// (downloaded.go).
package install
