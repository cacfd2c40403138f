package remoteindex

import (
	"strings"
	"testing"
)

func TestSignaturePathAndIdentity(t *testing.T) {
	p, err := SignaturePath("apps/hello", "sha256:abc123", 1)
	if err != nil || p != "apps/hello@sha256=abc123/signature-1" {
		t.Errorf("SignaturePath = %q, %v", p, err)
	}
	for _, bad := range [][2]string{{"../x", "sha256:ab"}, {"x", "ab"}, {"x", "sha256:a/b"}, {"", "sha256:ab"}} {
		if _, err := SignaturePath(bad[0], bad[1], 1); err == nil {
			t.Errorf("SignaturePath(%q, %q) took it", bad[0], bad[1])
		}
	}
	for url, want := range map[string]string{
		"https://registry.example/":     "registry.example/apps/hello",
		"https://registry.example:443/": "registry.example/apps/hello",
		"http://127.0.0.1:5000/":        "127.0.0.1:5000/apps/hello",
		"http://localhost:80":           "localhost/apps/hello",
	} {
		if got, err := Identity(url, "apps/hello"); err != nil || got != want {
			t.Errorf("Identity(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
	if _, err := Identity("registry.example", "x"); err == nil {
		t.Error("a URL without scheme was taken")
	}
	pl, err := NewSignaturePayload("http://127.0.0.1:5000/", "apps/hello", "sha256:abc", "test", 1)
	if err != nil {
		t.Fatal(err)
	}
	dt, _ := pl.Marshal()
	if !strings.Contains(string(dt), `"critical":{"identity":{"docker-reference":"127.0.0.1:5000/apps/hello"},"image":{"docker-manifest-digest":"sha256:abc"},"type":"atomic container signature"}`) {
		t.Errorf("payload %s", dt)
	}
	back, err := ParseSignaturePayload(dt)
	if err != nil || back.Critical.Image.DockerManifestDigest != "sha256:abc" {
		t.Errorf("parse back: %+v %v", back, err)
	}
	if _, err := ParseSignaturePayload([]byte(`{"critical":{"type":"other"}}`)); err == nil {
		t.Error("another type was taken")
	}
}
