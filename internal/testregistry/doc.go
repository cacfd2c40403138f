// Package testregistry runs Debian's docker-registry on a free loopback
// port, with its storage in a temporary folder, for the integration tests
// and the benchmark: the registry remote that publishing, registry caches
// and `flatpak update` are tested against. It is a child that dies with the
// test binary (packager/childproc); [CleanupStale] removes the folders of a
// run that was killed. An AuthProxy puts a registry behind a bearer-token
// login, as Docker Hub and quay.io ask for one (auth.go).
package testregistry
