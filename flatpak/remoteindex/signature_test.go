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

// FuzzSignature: no payload makes the reader panic, and whatever it takes
// has a digest and identity; no repository or digest makes a lookaside
// path that leaves its folder.
func FuzzSignature(f *testing.F) {
	pl, _ := NewSignaturePayload("https://r.example/", "a/b", "sha256:abc", "c", 1)
	dt, _ := pl.Marshal()
	f.Add(dt, "a/b", "sha256:abc")
	f.Add([]byte(`{"critical":{"type":"atomic container signature"}}`), "../x", "sha256:../..")
	f.Fuzz(func(t *testing.T, data []byte, repo, digest string) {
		if p, err := ParseSignaturePayload(data); err == nil {
			if p.Critical.Image.DockerManifestDigest == "" || p.Critical.Identity.DockerReference == "" {
				t.Fatalf("took a payload without digest or identity: %s", data)
			}
		}
		if rel, err := SignaturePath(repo, digest, 1); err == nil {
			if strings.HasPrefix(rel, "/") || strings.Contains("/"+rel+"/", "/../") || strings.Contains("/"+rel+"/", "/./") {
				t.Fatalf("SignaturePath(%q, %q) = %q leaves the lookaside", repo, digest, rel)
			}
		}
	})
}
