package clientbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// stageDir makes a hidden folder beside dir (so on the same file system)
// for the exporter to write into; publishLayout then moves the finished
// layout into dir. A build that fails or is killed leaves dir as it was.
func stageDir(dir string) (string, error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(parent, "."+filepath.Base(dir)+".partial-")
}

// publishLayout moves the complete OCI layout in staging into dir: the
// blobs first (content-addressed, so a blob already there holds the same
// bytes), then oci-layout, and last index.json with one rename. Whoever
// reads dir sees its previous image or the new one, never a half-written
// index.json or an index pointing at missing blobs.
func publishLayout(staging, dir string) error {
	if _, err := os.Stat(filepath.Join(staging, "index.json")); err != nil {
		return fmt.Errorf("the export wrote no index.json: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o755); err != nil {
		return err
	}
	algs, err := os.ReadDir(filepath.Join(staging, "blobs"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, alg := range algs {
		if !alg.IsDir() {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, "blobs", alg.Name()), 0o755); err != nil {
			return err
		}
		blobs, err := os.ReadDir(filepath.Join(staging, "blobs", alg.Name()))
		if err != nil {
			return err
		}
		for _, b := range blobs {
			if b.IsDir() || strings.HasPrefix(b.Name(), ".") {
				continue
			}
			if err := os.Rename(filepath.Join(staging, "blobs", alg.Name(), b.Name()), filepath.Join(dir, "blobs", alg.Name(), b.Name())); err != nil {
				return err
			}
		}
	}
	if _, err := os.Stat(filepath.Join(staging, "oci-layout")); err == nil {
		if err := os.Rename(filepath.Join(staging, "oci-layout"), filepath.Join(dir, "oci-layout")); err != nil {
			return err
		}
	}
	return os.Rename(filepath.Join(staging, "index.json"), filepath.Join(dir, "index.json"))
}
