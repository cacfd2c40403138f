// Package connect finds the BuildKit a packager's command builds with, in
// a documented order, and says in one line which it chose:
//
//  1. --addr, or $BUILDKIT_HOST (unix://, tcp:// with TLS, and BuildKit's
//     connection helpers docker-container://, kube-pod://, ssh://);
//  2. the current docker buildx builder, when there is one (its remote
//     endpoint with the builder's TLS files, or its docker-container);
//  3. a buildkitd on PATH, started privately (rootless for a normal user);
//  4. the pinned buildkitd, built with Go into the user's cache folder
//     when it is not there yet, started the same way.
//
// When none can be had, the error says what to install.
package connect
