package integration

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
)

// TestRegistryLoginsReachEveryRegistryRequest: a registry that asks for a
// login, as Docker Hub, quay.io and ghcr.io do (401 and a bearer-token
// challenge), with the packager logged in as docker login records it.
// flatpak-frontend build pulls the runtime from it and pushes the app to
// it, and verify and affected read the pushed image; without the login
// each fails, saying so.
func TestRegistryLoginsReachEveryRegistryRequest(t *testing.T) {
	proxy := harness.AuthRegistry(t)
	host := proxy.Host()
	// The registry behind the login holds what the plain one does.
	harness.Runtime(t).Push(t)
	runtime := "docker-image://" + host + "/" + harness.RuntimeRepoPath
	app := host + "/example/hello:login"
	login := harness.DockerConfig(t, map[string][2]string{host: {harness.AuthRegistryUser, harness.AuthRegistryPassword}})

	withConfig := func(cmd *exec.Cmd, dir string) *exec.Cmd {
		for i, a := range cmd.Args {
			if strings.HasPrefix(a, "runtime=oci-layout://") {
				cmd.Args[i] = "runtime=" + runtime
			}
		}
		cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+dir)
		return cmd
	}
	fp := harness.Flatpak(t)

	// No login: the pull is refused, and the error says so.
	noLogin := t.TempDir()
	cmd := withConfig(buildCmd(t, fp, harness.Addr(), "--push", app), noLogin)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(strings.ToLower(string(out)), "unauthorized") {
		t.Errorf("a build without the login: %v\n%s", err, lastLines(string(out), 15))
	}

	before := proxy.Requests()
	runCmd(t, withConfig(buildCmd(t, fp, harness.Addr(), "--push", app), login))
	if proxy.Requests() == before {
		t.Fatal("no request reached the registry with a token")
	}

	for _, args := range [][]string{{"verify", app}, {"affected", "--package", "hello", app}} {
		cmd := exec.Command(cli(t), args...)
		cmd.Env = append(cmd.Environ(), "DOCKER_CONFIG="+login)
		out, err := cmd.CombinedOutput()
		// affected exits 1 when the image has the package.
		if args[0] == "verify" && err != nil || args[0] == "affected" && !strings.Contains(string(out), app+"\tapp/org.example.Hello/") {
			t.Errorf("%s with the login: %v\n%s", args[0], err, out)
		}
		cmd = exec.Command(cli(t), args...)
		cmd.Env = append(cmd.Environ(), "DOCKER_CONFIG="+noLogin)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(strings.ToLower(string(out)), "unauthorized") {
			t.Errorf("%s without the login: %v\n%s", args[0], err, out)
		}
	}
}
