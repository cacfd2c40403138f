package publish

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Docker Hub, quay.io and ghcr.io answer /v2/_catalog with 401 or 404:
// publish without --repo says to name the repositories.
func TestPublishOnARegistryThatDoesNotListItsRepositories(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/_catalog" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	_, err := Publish(context.Background(), Options{Registry: strings.TrimPrefix(srv.URL, "http://"), Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "does not list its repositories to this client: name them with --repo") {
		t.Errorf("publish without --repo: %v", err)
	}
}

// The index names the registry where Flatpak pulls from: Docker Hub's API
// host, and https for a registry the settings give a CA even on loopback.
func TestPublishNamesTheRegistryFlatpakPullsFrom(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	tlsSrv := httptest.NewTLSServer(nil)
	defer tlsSrv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	caDir := filepath.Join(config, "containers", "certs.d", "localhost:5443")
	if err := os.MkdirAll(caDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(caDir, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	for registry, want := range map[string]string{
		"docker.io":       "https://index.docker.io/",
		"quay.io":         "https://quay.io/",
		"127.0.0.1:5000":  "http://127.0.0.1:5000/",
		"localhost:5443":  "https://localhost:5443/",
		"192.168.1.10:80": "http://192.168.1.10:80/",
	} {
		_, _, got, err := connectRegistry(context.Background(), registry, false, nil)
		if err != nil || got != want {
			t.Errorf("connectRegistry(%s) URL = %q, %v; want %q", registry, got, err, want)
		}
	}
}
