package registryhosts

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// registryURL finds the registry host in the URL of a failed request, as
// containerd, BuildKit and go-containerregistry print it.
var registryURL = regexp.MustCompile(`(https?)://([^/\s"]+)/v2/`)

// Explain adds to err, when a registry's TLS or plain HTTP is why it
// failed, what to set and where. daemon is "" when the settings are the
// packager's files (Load's: the daemon `build` starts, verify, affected,
// publish), else it names someone else's BuildKit daemon, whose own
// buildkitd.toml holds them. Any other error is returned as it is.
func Explain(err error, daemon string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	m := registryURL.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	scheme, host := m[1], m[2]
	section := fmt.Sprintf("[registry.%q]", host)
	var certsDirs []string
	for _, d := range DefaultSources().CertsDirs {
		certsDirs = append(certsDirs, filepath.Join(d, host)+"/")
	}
	toml := func(key string) string {
		if daemon != "" {
			return fmt.Sprintf("%s under %s in the buildkitd.toml of %s", key, section, daemon)
		}
		return fmt.Sprintf("%s under %s in %s", key, section, DefaultSources().BuildkitdTOML[0])
	}
	files := func(names, key string) string {
		if daemon != "" {
			return toml(key)
		}
		return fmt.Sprintf("%s in %s, or %s", names, strings.Join(certsDirs, ", "), toml(key))
	}
	var hint string
	switch {
	case strings.Contains(msg, "certificate signed by unknown authority"), strings.Contains(msg, "failed to verify certificate"):
		hint = "its certificate is not signed by a CA trusted here: give its CA's certificate as " + files("ca.crt", "ca = [FILE]")
	case strings.Contains(msg, "certificate required"), strings.Contains(msg, "tls: bad certificate"), strings.Contains(msg, "tls: unknown certificate authority"):
		hint = "it asks for a client certificate: give one as " + files("client.cert and client.key", fmt.Sprintf("[[registry.%q.keypair]] cert and key", host))
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		hint = "it speaks plain HTTP: say so with " + toml("http = true")
	case scheme == "http" && (strings.Contains(msg, "HTTP request to an HTTPS server") || strings.Contains(msg, "400 Bad Request")):
		hint = "it speaks HTTPS, where a loopback or private address is taken to speak plain HTTP: give its CA's certificate as " + files("ca.crt", "http = false and ca = [FILE]")
	default:
		return err
	}
	return fmt.Errorf("registry %s: %s: %w", host, hint, err)
}
