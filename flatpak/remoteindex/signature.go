package remoteindex

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Signatures of a remote's images, as Flatpak 1.17.1 and later verify them
// (flatpak remote-add --signature-lookaside=URL --gpg-import=KEY): the
// containers "simple signing" format, an OpenPGP-signed JSON payload
// naming the manifest digest and the image's identity, kept in a lookaside
// folder (containers/image's signature-protocols.md) at
// URL/REPOSITORY@sha256=HEX/signature-N.

// SignaturesDir is where a published remote keeps its signatures, beside
// index/: its URL is the --signature-lookaside users give.
const SignaturesDir = "signatures"

// SignatureType is the payload's critical.type.
const SignatureType = "atomic container signature"

// SignaturePath is the n-th (from 1) signature of repository's manifest
// digest ("sha256:HEX"), relative to the lookaside's root.
func SignaturePath(repository, digest string, n int) (string, error) {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok || alg == "" || hex == "" || strings.ContainsAny(hex, "/.") {
		return "", fmt.Errorf("digest %q: want ALGORITHM:HEX", digest)
	}
	if repository == "" || strings.Contains(repository, "..") || path.Clean("/"+repository) != "/"+repository {
		return "", fmt.Errorf("repository %q: not a repository name", repository)
	}
	return fmt.Sprintf("%s@%s=%s/signature-%d", repository, alg, hex, n), nil
}

// SignaturePayload is the JSON a simple signing signature signs.
type SignaturePayload struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// NewSignaturePayload is the payload for the image digest of repository at
// the registry Flatpak pulls from (registryURL, as the index names it).
func NewSignaturePayload(registryURL, repository, digest, creator string, timestamp int64) (*SignaturePayload, error) {
	id, err := Identity(registryURL, repository)
	if err != nil {
		return nil, err
	}
	p := &SignaturePayload{Optional: map[string]any{"creator": creator, "timestamp": timestamp}}
	p.Critical.Identity.DockerReference = id
	p.Critical.Image.DockerManifestDigest = digest
	p.Critical.Type = SignatureType
	return p, nil
}

// Identity is what Flatpak expects a signature of repository to name:
// HOST[:PORT]/REPOSITORY, the port left out when it is 80 or 443.
func Identity(registryURL, repository string) (string, error) {
	u, err := url.Parse(registryURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("registry URL %q: not an absolute URL", registryURL)
	}
	host := u.Hostname()
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		host += ":" + p
	}
	return host + "/" + repository, nil
}

// Marshal is the payload's JSON.
func (p *SignaturePayload) Marshal() ([]byte, error) { return json.Marshal(p) }

// ParseSignaturePayload reads a payload (the content of a verified
// signature), checking its type.
func ParseSignaturePayload(data []byte) (*SignaturePayload, error) {
	var p SignaturePayload
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("signature payload: %w", err)
	}
	if p.Critical.Type != SignatureType {
		return nil, fmt.Errorf("signature payload: type %q, want %q", p.Critical.Type, SignatureType)
	}
	if p.Critical.Image.DockerManifestDigest == "" || p.Critical.Identity.DockerReference == "" {
		return nil, fmt.Errorf("signature payload: no digest or identity")
	}
	return &p, nil
}
