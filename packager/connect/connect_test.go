package connect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/connhelper"
)

func TestConnectionHelpersAreRegistered(t *testing.T) {
	for _, addr := range []string{"docker-container://buildx_buildkit_x0", "kube-pod://buildkitd-0", "ssh://me@farm.example", "podman-container://bk"} {
		h, err := connhelper.GetConnectionHelper(addr)
		if err != nil || h == nil {
			t.Errorf("%s: no connection helper (%v)", addr, err)
		}
	}
}

func TestBuildxBuilderEndpoints(t *testing.T) {
	cfg := t.TempDir()
	write := func(name, dt string) {
		p := filepath.Join(cfg, "buildx", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(dt), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if ng, _, err := currentBuildxBuilder(cfg); ng != nil || err != nil {
		t.Fatalf("no buildx folder: %v, %v", ng, err)
	}
	write("current", `{"Key":"unix:///var/run/docker.sock","Name":"farm","Global":false}`)
	write("instances/farm", `{"Name":"farm","Driver":"remote","Nodes":[{"Name":"farm0","Endpoint":"tcp://farm:1234","DriverOpts":{"cacert":"/etc/farm/ca.pem","cert":"/etc/farm/cert.pem","key":"/etc/farm/key.pem"}}]}`)
	ng, n, err := currentBuildxBuilder(cfg)
	if err != nil || ng == nil {
		t.Fatalf("current builder: %v, %v", ng, err)
	}
	addr, tls, err := buildxEndpoint(ng, n)
	if err != nil || addr != "tcp://farm:1234" || tls.CACert != "/etc/farm/ca.pem" || tls.Key != "/etc/farm/key.pem" {
		t.Errorf("remote: %s %+v %v", addr, tls, err)
	}
	addr, _, err = buildxEndpoint(&buildxNodeGroup{Name: "dc", Driver: "docker-container"}, &buildxNode{Name: "dc0"})
	if err != nil || addr != "docker-container://buildx_buildkit_dc0" {
		t.Errorf("docker-container: %s %v", addr, err)
	}
	_, _, err = buildxEndpoint(&buildxNodeGroup{Name: "k", Driver: "kubernetes"}, &buildxNode{Name: "k0"})
	if err == nil || !strings.Contains(err.Error(), "kube-pod://") {
		t.Errorf("kubernetes: %v", err)
	}
	write("current", `{"Name":"gone"}`)
	if ng, _, err := currentBuildxBuilder(cfg); ng != nil || err != nil {
		t.Errorf("a forgotten builder: %v, %v", ng, err)
	}
	write("current", `{"Name":"farm"}`)
	write("instances/farm", `{"Name":`)
	if _, _, err := currentBuildxBuilder(cfg); err == nil || !strings.Contains(err.Error(), "instances/farm") {
		t.Errorf("a broken instance file: %v", err)
	}
}

func TestTLSOptions(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"ca.pem", "tls.crt", "tls.key"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o600)
	}
	for _, c := range []struct {
		tls     TLS
		addr    string
		wantErr string
	}{
		{TLS{}, "unix:///run/buildkit.sock", ""},
		{TLS{Dir: dir}, "tcp://farm:1234", ""},
		{TLS{Dir: dir, CACert: "x"}, "tcp://farm:1234", "one or the other"},
		{TLS{Dir: filepath.Join(dir, "none")}, "tcp://farm:1234", "has none of ca.pem, ca.crt"},
		{TLS{CACert: filepath.Join(dir, "ca.pem")}, "unix:///x", "need a tcp:// address"},
		{TLS{CACert: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "tls.crt")}, "tcp://farm:1", "go together"},
		{TLS{CACert: filepath.Join(dir, "missing")}, "tcp://farm:1", "--tlscacert: "},
	} {
		_, err := c.tls.clientOpts(c.addr)
		if (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%+v %s: %v, want %q", c.tls, c.addr, err, c.wantErr)
		}
	}
}

func TestExplainNamesWhatToCheck(t *testing.T) {
	for _, c := range []struct {
		tls  TLS
		msg  string
		want string
	}{
		{TLS{CACert: "ca"}, "x509: certificate signed by unknown authority", "check --tlscacert"},
		{TLS{CACert: "ca"}, "remote error: tls: certificate required", "give --tlscert and --tlskey"},
		{TLS{CACert: "ca", Cert: "c", Key: "k"}, "write: broken pipe", "check --tlscert and --tlskey"},
		{TLS{CACert: "ca"}, "tls: first record does not look like a TLS handshake", "does not speak TLS"},
		{TLS{}, "dial unix /x.sock: connect: no such file or directory", "is buildkitd running"},
	} {
		err := explain("tcp://farm:1", "--addr", c.tls, errors.New(c.msg))
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v, want %q", c.msg, err, c.want)
		}
	}
}

// TestCheckAddr: an address no dialer takes is said as such, before a
// resolver fails on it.
func TestCheckAddr(t *testing.T) {
	for _, addr := range []string{"unix:///run/buildkit/buildkitd.sock", "tcp://127.0.0.1:1234", "docker-container://buildx_buildkit_x0", "ssh://me@farm.example"} {
		if err := CheckAddr(addr); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for addr, want := range map[string]string{
		"foo://bar":                    "no BuildKit address starts with foo://: want unix://PATH, tcp://HOST:PORT",
		"/run/buildkit/buildkitd.sock": "a socket's address starts with unix://: unix:///run/buildkit/buildkitd.sock",
		"localhost:1234":               "an address says how to reach the daemon first: unix://PATH",
		"tcp://[::1":                   "missing ']'",
	} {
		if err := CheckAddr(addr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", addr, err, want)
		}
	}
}
