package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/internal/testregistry"
)

// TestRegistryWithAPrivateCAAndClientCertificates: a company's registry,
// HTTPS with a certificate from the company's own CA and a client
// certificate asked of everyone (mutual TLS), set up on the packager's
// machine the way docker and podman take it (certs.d/HOST/ with ca.crt,
// client.cert, client.key) or in their buildkitd.toml. flatpak-frontend
// build, with the daemon it starts, pulls the runtime from it and pushes
// the app to it; verify, affected and publish read it. Without the
// settings each fails, and publish leaves the remote's index as it was.
// The registry is on 127.0.0.1, where BuildKit and
// go-containerregistry would otherwise speak plain HTTP.
func TestRegistryWithAPrivateCAAndClientCertificates(t *testing.T) {
	reg, err := testregistry.StartTLSProxy(harness.Registry(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	harness.Runtime(t).Push(t)
	host := reg.Host()
	runtime := "docker-image://" + host + "/" + harness.RuntimeRepoPath

	// XDG_CONFIG_HOME with podman's per-user certs.d.
	certsD := t.TempDir()
	if _, _, _, err := reg.WriteCerts(filepath.Join(certsD, "containers", "certs.d", host)); err != nil {
		t.Fatal(err)
	}
	// XDG_CONFIG_HOME with a buildkitd.toml naming the files.
	buildkitdTOML := t.TempDir()
	ca, cert, key, err := reg.WriteCerts(filepath.Join(buildkitdTOML, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("debug = false\n\n[registry.%q]\n  ca = [%q]\n  [[registry.%q.keypair]]\n    key = %q\n    cert = %q\n", host, ca, host, key, cert)
	if err := os.MkdirAll(filepath.Join(buildkitdTOML, "buildkit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(buildkitdTOML, "buildkit", "buildkitd.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	none := t.TempDir()

	fp := harness.Flatpak(t)
	build := func(config, app string) *exec.Cmd {
		// The daemon the command starts for itself reads the settings.
		cmd := buildCmd(t, fp, "", "--push", app)
		for i, a := range cmd.Args {
			if strings.HasPrefix(a, "runtime=oci-layout://") {
				cmd.Args[i] = "runtime=" + runtime
			}
		}
		cmd.Env = append(cmd.Env, "XDG_CONFIG_HOME="+config)
		return cmd
	}
	command := func(config string, args ...string) *exec.Cmd {
		cmd := exec.Command(cli(t), args...)
		cmd.Env = append(cmd.Environ(), "XDG_CONFIG_HOME="+config, "DOCKER_CONFIG="+t.TempDir())
		return cmd
	}

	// The CA alone: the registry asks for a client certificate.
	caOnly := t.TempDir()
	if _, cert, key, err := reg.WriteCerts(filepath.Join(caOnly, "containers", "certs.d", host)); err != nil || os.Remove(cert) != nil || os.Remove(key) != nil {
		t.Fatal(err)
	}

	// Each failure says what to set, and where.
	app := host + "/example/hello:tls"
	for config, hint := range map[string]string{
		none:   "registry " + host + ": it speaks HTTPS",
		caOnly: "registry " + host + ": it asks for a client certificate",
	} {
		if out, err := build(config, app).CombinedOutput(); err == nil || !strings.Contains(string(out), hint) {
			t.Errorf("a build without the registry's certificates: %v, want an error saying %q:\n%s", err, hint, lastLines(string(out), 15))
		}
	}
	before := reg.Requests()
	runCmd(t, build(certsD, app))
	if reg.Requests() == before {
		t.Fatal("no request passed the registry's TLS handshake")
	}
	app2 := host + "/example/hello:tls-buildkitd-toml"
	runCmd(t, build(buildkitdTOML, app2))

	out := t.TempDir()
	for _, args := range [][]string{
		{"verify", app},
		{"verify", app2},
		{"affected", "--package", "hello", app},
		{"publish", "--registry", host, "--repo", "example/hello", "--out", out},
	} {
		for _, config := range []string{certsD, buildkitdTOML} {
			got, err := command(config, args...).CombinedOutput()
			// affected exits 1 when the image has the package.
			if args[0] == "affected" && !strings.Contains(string(got), app+"\tapp/org.example.Hello/") || args[0] != "affected" && err != nil {
				t.Errorf("%s with the certificates (%s): %v\n%s", strings.Join(args, " "), config, err, got)
			}
		}
		got, err := command(none, args...).CombinedOutput()
		if err == nil || args[0] == "affected" && strings.Contains(string(got), "\tapp/") || !strings.Contains(string(got), "registry "+host+": it speaks HTTPS") && !strings.Contains(string(got), "registry "+host+": its certificate is not signed by a CA trusted here") {
			t.Errorf("%s without the certificates: %v, want an error saying what to set\n%s", strings.Join(args, " "), err, got)
		}
	}
	// The publish that could not reach the registry left the index the
	// others wrote (it did not write one without the app).
	// ... and names the registry as Flatpak is to reach it: over TLS.
	if index, err := os.ReadFile(filepath.Join(out, "index", "static.d", "tls", "amd64.json")); err != nil || !strings.Contains(string(index), "org.example.Hello") || !strings.Contains(string(index), `"Registry": "https://`+host+`/"`) {
		t.Errorf("publish wrote no index naming the app and https://%s/: %v\n%s", host, err, index)
	}

	// The users' Flatpak installs from it with the same certs.d files in
	// their configuration (Flatpak 1.18 reads them there and in
	// /etc/containers/certs.d; Debian 12's 1.14 reads none). The runtime
	// is under its branch's tag, the app under tls: a remote each.
	runCmd(t, command(certsD, "publish", "--registry", host, "--repo", "example/hello", "--repo", strings.Split(harness.RuntimeRepoPath, ":")[0], "--out", out))
	addr := serveRemote(t, out)
	user := harness.NewerFlatpak(t)
	for remote, tag := range map[string]string{"published": "tls", "published-runtimes": harness.RuntimeBranch} {
		if _, err := user.Command("--user", "remote-add", "--no-gpg-verify", remote, "oci+http://"+addr+"/#"+tag); err != nil {
			t.Fatal(err)
		}
	}
	install := func() error {
		_, err := user.Command("--user", "install", "-y", "--noninteractive", "published-runtimes", harness.RuntimeRef)
		if err == nil {
			_, err = user.Command("--user", "install", "-y", "--noninteractive", "published", "org.example.Hello")
		}
		return err
	}
	if err := install(); err == nil || !strings.Contains(err.Error(), "https://"+host+"/v2/") {
		t.Fatalf("Flatpak without the registry's certificates: %v, want a failure to fetch from https://%s", err, host)
	}
	if _, _, _, err := reg.WriteCerts(filepath.Join(user.ConfigDir(), "containers", "certs.d", host)); err != nil {
		t.Fatal(err)
	}
	if err := install(); err != nil {
		t.Fatalf("Flatpak with the registry's certificates in its certs.d: %v", err)
	}
	if got := user.Run(t, "org.example.Hello"); !strings.Contains(got, "Hello from org.example.Hello") {
		t.Errorf("the app installed from the registry printed %q", got)
	}
}
