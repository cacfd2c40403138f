// Package registryhosts is how each registry is reached: over TLS with
// which CA and client certificates, over plain HTTP, through which
// mirrors. It is one source for every registry this project talks to: the
// BuildKit daemon `flatpak-frontend build` starts (its [registry."HOST"]
// config) and the Go clients of verify, affected and publish.
//
// The settings are the ones the packager's other tools already use, in
// BuildKit's own terms ([resolverconfig.RegistryConfig]):
//   - the [registry."HOST"] sections of the packager's buildkitd.toml
//     ($XDG_CONFIG_HOME/buildkit/buildkitd.toml, else
//     /etc/buildkit/buildkitd.toml), read with BuildKit's config loader;
//   - the certs.d folders docker and podman read, HOST[:PORT]/ with ca.crt
//     (any *.crt: CAs) and client.cert with client.key (any *.cert with its
//     *.key: client certificates): $XDG_CONFIG_HOME/containers/certs.d,
//     /etc/containers/certs.d and /etc/docker/certs.d. Their files become
//     the host's ca and keypair entries, which every BuildKit release reads
//     (tlsconfigdir, which reads such a folder, is v0.13's).
//
// A host given a CA or a client certificate speaks TLS even where BuildKit
// and go-containerregistry would guess plain HTTP (localhost, 127.0.0.1,
// private networks): that is what the certificates are for.
package registryhosts

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	bkconfig "github.com/moby/buildkit/cmd/buildkitd/config"
	"github.com/moby/buildkit/util/appdefaults"
	"github.com/moby/buildkit/util/resolver"
	resolverconfig "github.com/moby/buildkit/util/resolver/config"
	"github.com/pelletier/go-toml/v2"
)

// Config is each registry host's settings (HOST[:PORT] as in image
// references; "docker.io" for Docker Hub).
type Config map[string]resolverconfig.RegistryConfig

// Sources are the files Load reads.
type Sources struct {
	// BuildkitdTOML are buildkitd.toml files; the first that exists is read.
	BuildkitdTOML []string
	// CertsDirs are certs.d folders, each holding a folder per host.
	CertsDirs []string
}

// DefaultSources are the packager's files, as BuildKit, podman and docker
// find them.
func DefaultSources() Sources {
	var s Sources
	if d := appdefaults.UserConfigDir(); d != appdefaults.ConfigDir {
		s.BuildkitdTOML = append(s.BuildkitdTOML, filepath.Join(d, "buildkitd.toml"))
	}
	s.BuildkitdTOML = append(s.BuildkitdTOML, filepath.Join(appdefaults.ConfigDir, "buildkitd.toml"))
	if d := userConfigHome(); d != "" {
		s.CertsDirs = append(s.CertsDirs, filepath.Join(d, "containers", "certs.d"))
	}
	s.CertsDirs = append(s.CertsDirs, "/etc/containers/certs.d", "/etc/docker/certs.d")
	return s
}

func userConfigHome() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return d
	}
	if h := os.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}

// Load reads the packager's settings from [DefaultSources].
func Load() (Config, error) { return LoadFrom(DefaultSources()) }

// LoadFrom reads the settings from s. A file or folder that is not there is
// no setting; one that cannot be read or parsed is an error naming it.
func LoadFrom(s Sources) (Config, error) {
	c := Config{}
	for _, p := range s.BuildkitdTOML {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		bc, err := bkconfig.LoadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for host, rc := range bc.Registries {
			c[host] = rc
		}
		break
	}
	for _, dir := range s.CertsDirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("registry certificates: %w", err)
		}
		for _, e := range entries {
			hostDir := filepath.Join(dir, e.Name())
			if st, err := os.Stat(hostDir); err != nil || !st.IsDir() {
				continue
			}
			rc := c[e.Name()]
			cas, pairs, err := readCertsDir(hostDir)
			if err != nil {
				return nil, fmt.Errorf("registry certificates: %w", err)
			}
			for _, ca := range cas {
				if !slices.Contains(rc.RootCAs, ca) {
					rc.RootCAs = append(rc.RootCAs, ca)
				}
			}
			for _, kp := range pairs {
				if !slices.Contains(rc.KeyPairs, kp) {
					rc.KeyPairs = append(rc.KeyPairs, kp)
				}
			}
			c[e.Name()] = rc
		}
	}
	no := false
	for host, rc := range c {
		if rc.PlainHTTP == nil && (len(rc.RootCAs) > 0 || len(rc.KeyPairs) > 0 || len(rc.TLSConfigDir) > 0) {
			rc.PlainHTTP = &no
			c[host] = rc
		}
	}
	return c, nil
}

// WithPlainHTTP adds hosts that are reached over plain HTTP (a registry on
// loopback, as the tests' is).
func (c Config) WithPlainHTTP(hosts ...string) Config {
	out := Config{}
	for h, rc := range c {
		out[h] = rc
	}
	yes := true
	for _, h := range hosts {
		rc := out[h]
		rc.PlainHTTP, rc.Insecure = &yes, &yes
		out[h] = rc
	}
	return out
}

// TOML is the [registry."HOST"] sections of a buildkitd.toml that say c,
// with no empty value (BuildKit before v0.13 cannot read an empty
// keypair list).
func (c Config) TOML() (string, error) {
	if len(c) == 0 {
		return "", nil
	}
	type keyPair struct {
		Key         string `toml:"key"`
		Certificate string `toml:"cert"`
	}
	type registry struct {
		Mirrors      []string  `toml:"mirrors,omitempty"`
		PlainHTTP    *bool     `toml:"http,omitempty"`
		Insecure     *bool     `toml:"insecure,omitempty"`
		RootCAs      []string  `toml:"ca,omitempty"`
		KeyPairs     []keyPair `toml:"keypair,omitempty"`
		TLSConfigDir []string  `toml:"tlsconfigdir,omitempty"`
	}
	out := map[string]registry{}
	for host, rc := range c {
		r := registry{Mirrors: rc.Mirrors, PlainHTTP: rc.PlainHTTP, Insecure: rc.Insecure, RootCAs: rc.RootCAs, TLSConfigDir: rc.TLSConfigDir}
		for _, kp := range rc.KeyPairs {
			r.KeyPairs = append(r.KeyPairs, keyPair(kp))
		}
		out[host] = r
	}
	b, err := toml.Marshal(struct {
		Registry map[string]registry `toml:"registry"`
	}{out})
	return string(b), err
}

// PlainHTTP says whether host is to be reached over plain HTTP by the
// config, and whether the config says at all.
func (c Config) PlainHTTP(host string) (plain, said bool) {
	rc, ok := c[host]
	if !ok || rc.PlainHTTP == nil {
		return false, false
	}
	return *rc.PlainHTTP, true
}

// Hosts is containerd's resolver configuration for c, as BuildKit's daemon
// builds it, with auth as every host's authorizer.
func (c Config) Hosts(auth docker.Authorizer) docker.RegistryHosts {
	hosts := resolver.NewRegistryConfig(c)
	return func(host string) ([]docker.RegistryHost, error) {
		hs, err := hosts(host)
		if err != nil {
			return nil, fmt.Errorf("registry %s: %w", host, err)
		}
		for i := range hs {
			hs[i].Authorizer = auth
		}
		return hs, nil
	}
}

// Transport is base (nil: a copy of http.DefaultTransport) with each
// host's TLS settings, for go-containerregistry's clients. A request c says
// goes over TLS does so even when the client asked for plain HTTP (it does
// for loopback and private addresses).
func (c Config) Transport(base http.RoundTripper) (http.RoundTripper, error) {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	t := &transport{base: base, tls: map[string]http.RoundTripper{}, https: map[string]bool{}}
	for host, rc := range c {
		if plain, said := c.PlainHTTP(host); said && !plain {
			t.https[host] = true
		}
		if len(rc.RootCAs) == 0 && len(rc.KeyPairs) == 0 && len(rc.TLSConfigDir) == 0 && (rc.Insecure == nil || !*rc.Insecure) {
			continue
		}
		ht, ok := base.(*http.Transport)
		if !ok {
			// A caller's own transport (a test's counter) keeps its TLS.
			continue
		}
		tc, err := tlsConfig(rc)
		if err != nil {
			return nil, fmt.Errorf("registry %s: %w", host, err)
		}
		ht = ht.Clone()
		ht.TLSClientConfig = tc
		t.tls[host] = ht
	}
	return t, nil
}

type transport struct {
	base  http.RoundTripper
	tls   map[string]http.RoundTripper
	https map[string]bool
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && t.https[r.URL.Host] {
		u := *r.URL
		u.Scheme = "https"
		r2 := r.Clone(r.Context())
		r2.URL = &u
		r = r2
	}
	if r.URL.Scheme == "https" {
		if ht, ok := t.tls[r.URL.Host]; ok {
			return ht.RoundTrip(r)
		}
	}
	return t.base.RoundTrip(r)
}

// readCertsDir is the CAs (*.crt) and client certificates (*.cert, with
// the *.key of the same name) of a certs.d host folder, as docker, podman
// and BuildKit read one.
func readCertsDir(d string) (cas []string, pairs []resolverconfig.TLSKeyPair, err error) {
	entries, err := os.ReadDir(d)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	for _, e := range entries {
		p := filepath.Join(d, e.Name())
		if strings.HasSuffix(e.Name(), ".crt") {
			cas = append(cas, p)
		}
		if base, ok := strings.CutSuffix(e.Name(), ".cert"); ok {
			pairs = append(pairs, resolverconfig.TLSKeyPair{Certificate: p, Key: filepath.Join(d, base+".key")})
		}
	}
	return cas, pairs, nil
}

// tlsConfig is rc's CAs (beside the system's) and client certificates,
// with those of its tlsconfigdir folders.
func tlsConfig(rc resolverconfig.RegistryConfig) (*tls.Config, error) {
	cas, pairs := slices.Clone(rc.RootCAs), slices.Clone(rc.KeyPairs)
	for _, d := range rc.TLSConfigDir {
		dc, dp, err := readCertsDir(d)
		if err != nil {
			return nil, err
		}
		cas, pairs = append(cas, dc...), append(pairs, dp...)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if rc.Insecure != nil && *rc.Insecure {
		tc.InsecureSkipVerify = true
	}
	if len(cas) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, p := range cas {
			pem, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate in it", p)
			}
		}
		tc.RootCAs = pool
	}
	for _, kp := range pairs {
		cert, err := tls.LoadX509KeyPair(kp.Certificate, kp.Key)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s: %w", kp.Certificate, err)
		}
		tc.Certificates = append(tc.Certificates, cert)
	}
	return tc, nil
}
