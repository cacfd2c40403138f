package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/publish"
)

// gpgKey makes a signing key in a GPG home folder of its own, as a
// publisher would, and returns the folder, the key's fingerprint and its
// public key file. The folder's gpg-agent is stopped when the test ends.
func gpgKey(t *testing.T, name string) (home, fpr, pub string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "g") // short: the agent's socket path is limited
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
	gpg := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("gpg", append([]string{"--batch", "--homedir", home}, args...)...).Output()
		if err != nil {
			t.Fatalf("gpg %v: %v", args, err)
		}
		return string(out)
	}
	gpg("--passphrase", "", "--quick-gen-key", name+" <"+name+"@example.test>", "ed25519", "sign", "never")
	for _, line := range strings.Split(gpg("--list-secret-keys", "--with-colons"), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	if fpr == "" {
		t.Fatal("no fingerprint for the new key")
	}
	pub = filepath.Join(t.TempDir(), name+".gpg")
	if err := os.WriteFile(pub, []byte(gpg("--export", fpr)), 0o644); err != nil {
		t.Fatal(err)
	}
	return home, fpr, pub
}

// TestHardeningSignedRemoteInstallsAndRefusesBadSignatures: publish --sign
// writes a simple-signing signature of every image into the lookaside
// folder served beside the index; Flatpak 1.18, given the publisher's key
// and the lookaside, installs the signed app, and refuses it when its
// signature is missing, made with another key, or made for another image.
func TestHardeningSignedRemoteInstallsAndRefusesBadSignatures(t *testing.T) {
	reg := harness.Registry(t)
	prefix := fmt.Sprintf("signed%d", time.Now().UnixNano()%1e9)
	appRepo, rtRepo := prefix+"/hello", prefix+"/platform"
	pushRuntime(t, reg+"/"+rtRepo+":latest")
	pushBuild(t, appSpec("hello"), harness.RPMRepo(t), reg+"/"+appRepo+":latest")

	home, fpr, pub := gpgKey(t, "publisher")
	otherHome, otherFpr, _ := gpgKey(t, "intruder")
	out := t.TempDir()
	publishWith := func(s publish.Signer, resign bool) *publish.Result {
		t.Helper()
		res, err := publish.Publish(context.Background(), publish.Options{Registry: reg, Insecure: true,
			Repositories: []string{appRepo, rtRepo}, Out: out, Sign: s, Resign: resign,
			Warn: func(w string) { t.Errorf("publish warned: %s", w) }})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := publishWith(publish.GPG{KeyID: fpr, Homedir: home}, false); res.Signed != 2 {
		t.Fatalf("signed %d images, want 2 (the app and the runtime)", res.Signed)
	}
	if res := publishWith(publish.GPG{KeyID: fpr, Homedir: home}, false); res.Signed != 0 {
		t.Errorf("publishing again signed %d images that had signatures", res.Signed)
	}
	addr := serveRemote(t, out)

	// The app's signature file, and the runtime's.
	sigOf := func(repo string) string {
		t.Helper()
		var found []string
		matches, _ := filepath.Glob(filepath.Join(out, remoteindex.SignaturesDir, repo+"@sha256=*", "signature-1"))
		found = append(found, matches...)
		if len(found) != 1 {
			t.Fatalf("%d signatures of %s: %v", len(found), repo, found)
		}
		return found[0]
	}
	appSig, rtSig := sigOf(appRepo), sigOf(rtRepo)
	good, err := os.ReadFile(appSig)
	if err != nil {
		t.Fatal(err)
	}
	goodRuntime, err := os.ReadFile(rtSig)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(good, []byte("PRIVATE KEY")) {
		t.Fatal("the signature holds key material")
	}

	install := func(t *testing.T) (string, error) {
		fp := harness.NewerFlatpak(t)
		if _, err := fp.Command("--user", "remote-add", "--gpg-import="+pub, "--signature-lookaside=http://"+addr+"/"+remoteindex.SignaturesDir,
			"signed", "oci+http://"+addr); err != nil {
			t.Fatalf("remote-add: %v", err)
		}
		return fp.Command("--user", "install", "-y", "--noninteractive", "signed", "org.example.Hello")
	}
	t.Run("signed", func(t *testing.T) {
		if out, err := install(t); err != nil {
			t.Fatalf("flatpak 1.18 refused the signed app: %v\n%s", err, out)
		}
	})
	refused := func(name string, setup func()) {
		t.Run(name, func(t *testing.T) {
			setup()
			defer os.WriteFile(appSig, good, 0o644)
			defer os.WriteFile(rtSig, goodRuntime, 0o644)
			out, err := install(t)
			if err == nil {
				t.Fatalf("flatpak 1.18 installed the app with its signature %s:\n%s", name, out)
			}
			t.Logf("refused: %v\n%s", err, out)
		})
	}
	refused("missing", func() { os.Remove(appSig) })
	refused("made with another key", func() {
		if res := publishWith(publish.GPG{KeyID: otherFpr, Homedir: otherHome}, true); res.Signed != 2 {
			t.Fatalf("resigned %d", res.Signed)
		}
		// Only the app's: the runtime keeps the publisher's.
		os.WriteFile(rtSig, goodRuntime, 0o644)
	})
	refused("made for another image", func() {
		// The publisher's own signature, of the runtime's digest.
		os.WriteFile(appSig, goodRuntime, 0o644)
	})
}
