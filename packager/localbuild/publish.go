package localbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flatpak-frontend/flatpak-frontend/oci/layout"
)

// stageDir makes a hidden folder beside dir (so on the same file system)
// for the exporter to write into; publishLayout then moves the finished
// layout into dir. A build that fails or is killed leaves dir as it was.
// The blobs dir already holds are linked into the new folder, so that the
// exporter skips them: a rebuild writes only what changed.
func stageDir(dir string) (string, error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	staging, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return "", err
	}
	eachBlob(dir, func(alg, name string) {
		// Best effort: a blob not linked is written again.
		if os.MkdirAll(filepath.Join(staging, "blobs", alg), 0o755) == nil {
			os.Link(filepath.Join(dir, "blobs", alg, name), filepath.Join(staging, "blobs", alg, name))
		}
	})
	return staging, nil
}

// eachBlob calls f for every blob file of the layout in dir.
func eachBlob(dir string, f func(alg, name string)) error {
	algs, err := os.ReadDir(filepath.Join(dir, "blobs"))
	if err != nil {
		return err
	}
	for _, alg := range algs {
		if !alg.IsDir() {
			continue
		}
		blobs, err := os.ReadDir(filepath.Join(dir, "blobs", alg.Name()))
		if err != nil {
			return err
		}
		for _, b := range blobs {
			if !b.IsDir() && !strings.HasPrefix(b.Name(), ".") {
				f(alg.Name(), b.Name())
			}
		}
	}
	return nil
}

// publishLayout moves the complete OCI layout in staging into dir: the
// blobs first (content-addressed, so a blob already there holds the same
// bytes), then oci-layout, and last index.json with one rename. Whoever
// reads dir sees its previous image or the new one, never a half-written
// index.json or an index pointing at missing blobs. Then the blobs only the
// replaced image used are removed. Builds publishing into the same dir take
// turns.
func publishLayout(staging, dir string) error {
	if _, err := os.Stat(filepath.Join(staging, "index.json")); err != nil {
		return fmt.Errorf("the export wrote no index.json: %w", err)
	}
	// The lock is on dir itself, so nothing is left beside it.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lock, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", dir, err)
	}
	// Unreadable or missing: nothing is removed.
	old, _ := ocilayout.Blobs(dir)

	var moveErr error
	err = eachBlob(staging, func(alg, name string) {
		if moveErr == nil {
			if moveErr = os.MkdirAll(filepath.Join(dir, "blobs", alg), 0o755); moveErr == nil {
				moveErr = os.Rename(filepath.Join(staging, "blobs", alg, name), filepath.Join(dir, "blobs", alg, name))
			}
		}
	})
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if moveErr != nil {
		return moveErr
	}
	if _, err := os.Stat(filepath.Join(staging, "oci-layout")); err == nil {
		if err := os.Rename(filepath.Join(staging, "oci-layout"), filepath.Join(dir, "oci-layout")); err != nil {
			return err
		}
	}
	if err := os.Rename(filepath.Join(staging, "index.json"), filepath.Join(dir, "index.json")); err != nil {
		return err
	}
	now, err := ocilayout.Blobs(dir)
	if err != nil {
		return err
	}
	for d := range old {
		if !now[d] && d.Validate() == nil {
			os.Remove(filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded()))
		}
	}
	return nil
}
