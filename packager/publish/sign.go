package publish

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
)

// Signer signs a payload: an OpenPGP message holding it (gpg --sign), the
// form simple signing uses.
type Signer interface {
	Sign(ctx context.Context, payload []byte) ([]byte, error)
}

// GPG signs with gpg and the user's key: KeyID names it (as flatpak
// build-export --gpg-sign does), Homedir is the keyring folder ("": gpg's
// default, or $GNUPGHOME), so a key in gpg-agent or a smartcard works as
// it does for gpg. The key never passes through this program.
type GPG struct {
	KeyID, Homedir string
}

// Sign runs gpg --sign on payload.
func (g GPG) Sign(ctx context.Context, payload []byte) ([]byte, error) {
	args := []string{"--batch", "--no-tty", "--yes"}
	if g.Homedir != "" {
		args = append(args, "--homedir", g.Homedir)
	}
	args = append(args, "--local-user", g.KeyID, "--output", "-", "--sign")
	cmd := exec.CommandContext(ctx, "gpg", args...)
	cmd.Stdin = bytes.NewReader(payload)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gpg --sign with key %s: %v: %s", g.KeyID, err, strings.TrimSpace(stderr.String()))
	}
	if stdout.Len() == 0 {
		return nil, fmt.Errorf("gpg --sign with key %s wrote nothing", g.KeyID)
	}
	return stdout.Bytes(), nil
}

// creator names this program in the signatures it makes.
var creator = "flatpak-frontend publish"

// signAll writes a signature for every image the indexes name, in the
// lookaside folder beside them, unless one is there already (a new key
// needs Resign). It returns how many it wrote.
func signAll(ctx context.Context, o Options, images map[string]map[string]bool) (int, error) {
	n := 0
	for _, repo := range sortedKeys(images) {
		for _, digest := range sortedKeys(images[repo]) {
			rel, err := remoteindex.SignaturePath(repo, digest, 1)
			if err != nil {
				return n, err
			}
			p := filepath.Join(o.Out, remoteindex.SignaturesDir, filepath.FromSlash(rel))
			if _, err := os.Stat(p); err == nil && !o.Resign {
				continue
			}
			payload, err := remoteindex.NewSignaturePayload(o.RegistryURL, repo, digest, creator, time.Now().Unix())
			if err != nil {
				return n, err
			}
			dt, err := payload.Marshal()
			if err != nil {
				return n, err
			}
			sig, err := o.Sign.Sign(ctx, dt)
			if err != nil {
				return n, err
			}
			if err := writeAtomic(p, sig); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
