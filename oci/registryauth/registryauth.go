// Package registryauth is the user's registry logins, one source for every
// registry this project talks to: the BuildKit daemon pulling a runtime
// and pushing (through the build's session), verify and affected reading
// images, publish. The logins are go-containerregistry's default keychain:
// docker login's config.json (under $DOCKER_CONFIG, else ~/.docker, with
// its credential helpers), else podman login's auth.json
// ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers or
// ~/.config/containers). A registry with no login is spoken to
// anonymously (with the anonymous token Docker Hub and quay.io hand out).
package registryauth

import (
	"context"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
)

// Keychain is where the logins come from.
var Keychain = authn.DefaultKeychain

// Lookup returns the login for a registry host (host[:port]); an empty
// one when there is none.
func Lookup(ctx context.Context, host string) (authn.AuthConfig, error) {
	if host == authprovider.DockerHubRegistryHost {
		host = name.DefaultRegistry
	}
	reg, err := name.NewRegistry(host)
	if err != nil {
		return authn.AuthConfig{}, err
	}
	a, err := Keychain.Resolve(reg)
	if err != nil {
		return authn.AuthConfig{}, err
	}
	ac, err := authn.Authorization(ctx, a)
	if err != nil || ac == nil {
		return authn.AuthConfig{}, err
	}
	return *ac, nil
}

// Session answers the daemon's requests for credentials during a build
// (BuildKit's auth provider, fed from Lookup).
func Session() session.Attachable {
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: func(ctx context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (types.AuthConfig, error) {
			ac, err := Lookup(ctx, host)
			return types.AuthConfig{Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
				IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}, err
		},
	})
}

// Authorizer is containerd's resolver's authorizer with the logins of
// Lookup (an identity token goes as containerd takes one: no user name).
func Authorizer() docker.Authorizer {
	return docker.NewDockerAuthorizer(docker.WithAuthCreds(func(host string) (string, string, error) {
		ac, err := Lookup(context.Background(), host)
		if ac.IdentityToken != "" {
			return "", ac.IdentityToken, err
		}
		return ac.Username, ac.Password, err
	}))
}
