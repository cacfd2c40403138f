package registryhosts

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	resolverconfig "github.com/moby/buildkit/util/resolver/config"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMergesBuildkitdTOMLAndCertsDirs(t *testing.T) {
	dir := t.TempDir()
	user, system := filepath.Join(dir, "user.toml"), filepath.Join(dir, "system.toml")
	write(t, user, `
[registry."docker.io"]
  mirrors = ["mirror.example"]
[registry."plain.example:5000"]
  http = true
[registry."127.0.0.1:5443"]
  ca = ["/pki/ca.pem"]
`)
	write(t, system, `[registry."only.in.system"]
  http = true
`)
	certs := filepath.Join(dir, "certs.d")
	write(t, filepath.Join(certs, "registry.corp:443", "ca.crt"), "")
	write(t, filepath.Join(certs, "plain.example:5000", "ca.crt"), "")
	write(t, filepath.Join(certs, "not-a-folder"), "")

	c, err := LoadFrom(Sources{BuildkitdTOML: []string{filepath.Join(dir, "absent.toml"), user, system}, CertsDirs: []string{filepath.Join(dir, "absent"), certs}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c["only.in.system"]; ok {
		t.Error("read the second buildkitd.toml too; the first that exists is the one")
	}
	if _, ok := c["not-a-folder"]; ok {
		t.Error("a file in certs.d became a host")
	}
	if got := c["docker.io"].Mirrors; len(got) != 1 || got[0] != "mirror.example" {
		t.Errorf("docker.io mirrors = %v", got)
	}
	for host, want := range map[string][2]bool{
		// plain, said
		"registry.corp:443":  {false, true},  // certificates: TLS
		"127.0.0.1:5443":     {false, true},  // a CA on loopback: TLS
		"plain.example:5000": {true, true},   // said plain HTTP: kept
		"docker.io":          {false, false}, // nothing said
		"unknown.example":    {false, false},
	} {
		if plain, said := c.PlainHTTP(host); plain != want[0] || said != want[1] {
			t.Errorf("PlainHTTP(%s) = %v, %v; want %v", host, plain, said, want)
		}
	}
	if got := c["registry.corp:443"].RootCAs; len(got) != 1 || got[0] != filepath.Join(certs, "registry.corp:443", "ca.crt") {
		t.Errorf("ca = %v", got)
	}

	write(t, user, "[registry\n")
	if _, err := LoadFrom(Sources{BuildkitdTOML: []string{user}}); err == nil || !strings.Contains(err.Error(), user) {
		t.Errorf("a broken buildkitd.toml: %v, want an error naming it", err)
	}
}

func TestTransportSpeaksTLSWhereTheConfigSays(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	dir := t.TempDir()
	write(t, filepath.Join(dir, host, "ca.crt"), string(pemOf(srv.Certificate().Raw)))
	c, err := LoadFrom(Sources{CertsDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := c.Transport(nil)
	if err != nil {
		t.Fatal(err)
	}
	// go-containerregistry asks for http:// on loopback.
	resp, err := (&http.Client{Transport: rt}).Get("http://" + host + "/v2/")
	if err != nil {
		t.Fatalf("with the CA from certs.d: %v", err)
	}
	resp.Body.Close()
	if resp.TLS == nil {
		t.Error("the request went over plain HTTP")
	}
	plain, _ := Config{}.Transport(nil)
	if _, err := (&http.Client{Transport: plain}).Get("https://" + host + "/v2/"); err == nil {
		t.Error("without the CA the server's certificate was trusted")
	}

	write(t, filepath.Join(dir, host, "ca.crt"), "not a certificate")
	c, _ = LoadFrom(Sources{CertsDirs: []string{dir}})
	if _, err := c.Transport(nil); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, host, "ca.crt")) {
		t.Errorf("a ca.crt with no certificate: %v, want an error naming it", err)
	}
}

func TestTOMLIsReadBackByBuildKit(t *testing.T) {
	yes := true
	c := Config{"a.example": {PlainHTTP: &yes, KeyPairs: []resolverconfig.TLSKeyPair{{Key: "k", Certificate: "c"}}}}
	s, err := c.TOML()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "buildkitd.toml")
	write(t, path, s)
	back, err := LoadFrom(Sources{BuildkitdTOML: []string{path}})
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	if rc := back["a.example"]; rc.PlainHTTP == nil || !*rc.PlainHTTP || len(rc.KeyPairs) != 1 || rc.KeyPairs[0].Key != "k" {
		t.Errorf("read back %+v from\n%s", rc, s)
	}
}

func TestExplainSaysWhatToSetAndWhere(t *testing.T) {
	for _, tc := range []struct {
		err, daemon string
		want        []string
	}{
		{`failed to do request: Head "https://registry.corp/v2/app/manifests/1": tls: failed to verify certificate: x509: certificate signed by unknown authority`, "",
			[]string{"registry registry.corp: its certificate is not signed by a CA trusted here", "certs.d/registry.corp/", "ca.crt", `ca = [FILE] under [registry."registry.corp"]`, "buildkitd.toml"}},
		{`failed to do request: Head "https://registry.corp/v2/app/manifests/1": tls: failed to verify certificate: x509: certificate signed by unknown authority`, "BUILDKIT_HOST's daemon",
			[]string{`ca = [FILE] under [registry."registry.corp"] in the buildkitd.toml of BUILDKIT_HOST's daemon`}},
		{`Get "https://10.0.0.5:5000/v2/": remote error: tls: certificate required`, "",
			[]string{"registry 10.0.0.5:5000: it asks for a client certificate", "client.cert and client.key", `[[registry."10.0.0.5:5000".keypair]]`}},
		{`Get "https://r.lan:5000/v2/": http: server gave HTTP response to HTTPS client`, "",
			[]string{`it speaks plain HTTP: say so with http = true under [registry."r.lan:5000"]`}},
		{`unexpected status from HEAD request to http://127.0.0.1:36215/v2/example/platform/manifests/1: 400 Bad Request`, "",
			[]string{"registry 127.0.0.1:36215: it speaks HTTPS", "http = false and ca = [FILE]"}},
	} {
		err := Explain(errors.New(tc.err), tc.daemon)
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Explain(%q):\n%v\nlacks %q", tc.err, err, w)
			}
		}
		if !strings.HasSuffix(err.Error(), tc.err) {
			t.Errorf("the original error is not kept whole: %v", err)
		}
	}
	for _, s := range []string{`pull access denied`, `failed to do request: Head "https://r/v2/x": dial tcp: connection refused`} {
		if err := Explain(errors.New(s), ""); err.Error() != s {
			t.Errorf("Explain(%q) = %v, want it unchanged", s, err)
		}
	}
}

func pemOf(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
