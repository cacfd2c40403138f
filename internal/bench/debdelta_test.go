//go:build bench

package bench

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/oci/tardiff"
	"github.com/klauspost/compress/zstd"
)

// debianUpdates are libraries of this machine's Debian release whose two
// newest versions in its archive (a point release and a security or
// stable update, usually) are a real update of compiled code: what a
// runtime or an app rebuilt for a security fix changes.
var debianUpdates = []string{"libssl3", "libglib2.0-0"}

// debianUpdateDelta measures publish's layer deltas on real updates: for
// each of debianUpdates, the two newest versions apt knows (downloaded
// into dir once), their usr/ trees as the old and the new layer; the
// deltas' bytes ÷ the new layers zstd-compressed (what Flatpak downloads
// without a delta), both summed. detail names the versions.
func debianUpdateDelta(ctx context.Context, dir string) (ratio float64, detail string, err error) {
	var deltas, layers int
	var details []string
	for _, pkg := range debianUpdates {
		oldV, newV, err := newestTwo(ctx, pkg)
		if err != nil {
			return 0, "", err
		}
		var trees [2][]byte
		for i, v := range []string{oldV, newV} {
			if trees[i], err = debLayer(ctx, dir, pkg, v); err != nil {
				return 0, "", err
			}
		}
		keep, err := os.MkdirTemp(dir, "keep-")
		if err != nil {
			return 0, "", err
		}
		src := tardiff.NewDiffingSource(keep)
		err = src.AddLayer(bytes.NewReader(trees[0]))
		var delta bytes.Buffer
		if err == nil {
			_, err = tardiff.Write(&delta, bytes.NewReader(trees[1]), src)
		}
		os.RemoveAll(keep)
		if err != nil {
			return 0, "", fmt.Errorf("%s %s to %s: %w", pkg, oldV, newV, err)
		}
		var z bytes.Buffer
		zw, err := zstd.NewWriter(&z, zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			return 0, "", err
		}
		zw.Write(trees[1])
		if err := zw.Close(); err != nil {
			return 0, "", err
		}
		deltas += delta.Len()
		layers += z.Len()
		details = append(details, fmt.Sprintf("%s %s to %s: delta %d of %d bytes", pkg, oldV, newV, delta.Len(), z.Len()))
	}
	return float64(deltas) / float64(layers), strings.Join(details, "; "), nil
}

// newestTwo are the two newest versions of pkg that apt knows.
func newestTwo(ctx context.Context, pkg string) (older, newer string, err error) {
	out, err := exec.CommandContext(ctx, "apt-cache", "madison", pkg).Output()
	if err != nil {
		return "", "", fmt.Errorf("apt-cache madison %s: %v", pkg, err)
	}
	var versions []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) >= 3 && strings.TrimSpace(f[0]) == pkg {
			if v := strings.TrimSpace(f[1]); !slices.Contains(versions, v) {
				versions = append(versions, v)
			}
		}
	}
	var sortErr error
	slices.SortFunc(versions, func(a, b string) int {
		if a == b {
			return 0
		}
		if err := exec.CommandContext(ctx, "dpkg", "--compare-versions", a, "lt", b).Run(); err == nil {
			return -1
		} else if _, ok := err.(*exec.ExitError); !ok {
			sortErr = err
		}
		return 1
	})
	if sortErr != nil {
		return "", "", sortErr
	}
	if len(versions) < 2 {
		return "", "", fmt.Errorf("apt knows %d version(s) of %s (%v): no update to measure (apt-get update?)", len(versions), pkg, versions)
	}
	return versions[len(versions)-2], versions[len(versions)-1], nil
}

// debLayer is the usr/ tree of version v of pkg as a layer's tar (under
// files/, as Flatpak's are), the package downloaded into dir once.
func debLayer(ctx context.Context, dir, pkg, v string) ([]byte, error) {
	root, err := debRoot(ctx, dir, pkg, v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	err = writeTree(tw, filepath.Join(root, "usr"), func(rel string) string { return filepath.Join("files", rel) }, nil)
	if err == nil {
		err = tw.Close()
	}
	return b.Bytes(), err
}

// debRoot is the folder version v of pkg is unpacked in, downloaded into
// dir once.
func debRoot(ctx context.Context, dir, pkg, v string) (string, error) {
	root := filepath.Join(dir, pkg+"_"+strings.NewReplacer(":", "%3a", "~", "_").Replace(v))
	if _, err := os.Stat(filepath.Join(root, "usr")); err == nil {
		return root, nil
	}
	dl := root + ".dl"
	os.RemoveAll(dl)
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return "", err
	}
	defer os.RemoveAll(dl)
	cmd := exec.CommandContext(ctx, "apt-get", "download", pkg+"="+v)
	cmd.Dir = dl
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download %s=%s: %v\n%s", pkg, v, err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dl, "*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s=%s left %d .deb files", pkg, v, len(debs))
	}
	tmp := root + ".tmp"
	os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], tmp).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x %s: %v\n%s", debs[0], err, out)
	}
	return root, os.Rename(tmp, root)
}

// debianLibPackage is the package the update-download scenario updates.
const debianLibPackage = "bench-debian-lib"

// debianLibRepos are two repos of the benchmark RPMs and
// debianLibPackage, which holds under /app/lib the usr/lib files of
// libssl3: at 1.0 those of the older of the two newest versions apt
// knows, at 2.0 the newer's. Built once into the cache; versions names
// them.
func debianLibRepos(ctx context.Context, t *testing.T, benchRepo string) (older, newer, versions string, err error) {
	oldV, newV, err := newestTwo(ctx, "libssl3")
	if err != nil {
		return "", "", "", err
	}
	spec, err := os.ReadFile(filepath.Join("testdata", "rpms", "bench-package.spec"))
	if err != nil {
		return "", "", "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%s\n", rpmsRecipe, filepath.Base(benchRepo), spec, oldV, newV)
	dir := filepath.Join(harness.CacheDir(), "fixtures", "bench-debian-rpms-"+hex.EncodeToString(h.Sum(nil))[:16])
	var roots []string
	for _, v := range []string{oldV, newV} {
		root, err := debRoot(ctx, debianUpdatesDir(t), "libssl3", v)
		if err != nil {
			return "", "", "", err
		}
		roots = append(roots, root)
	}
	cached(t, dir, func(tmp string) error {
		for i, root := range roots {
			p := pkgDef{name: debianLibPackage, version: fmt.Sprintf("%d.0", i+1)}
			lib := filepath.Join(root, "usr", "lib")
			err = filepath.WalkDir(lib, func(path string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				rel, _ := filepath.Rel(lib, path)
				p.files = append(p.files, fileDef{name: "/app/lib/" + rel, kind: copyOf, text: path})
				return nil
			})
			if err != nil {
				return err
			}
			built := filepath.Join(tmp, "built-"+p.version)
			if err := buildRPMs(ctx, built, spec, []pkgDef{p}); err != nil {
				return err
			}
			base, _ := filepath.Glob(filepath.Join(benchRepo, "*.rpm"))
			extra, _ := filepath.Glob(filepath.Join(built, "*.rpm"))
			if err := linkRepo(ctx, filepath.Join(tmp, p.version), append(base, extra...)); err != nil {
				return err
			}
			os.RemoveAll(built)
		}
		return nil
	})
	return filepath.Join(dir, "1.0"), filepath.Join(dir, "2.0"), "libssl3 " + oldV + " to " + newV, nil
}

// debianUpdateDownload is updateDownload from the benchmark app with
// debianLibPackage 1.0 to the same app with 2.0: one package updated
// to a new version of real compiled code.
func (e *env) debianUpdateDownload(ctx context.Context, t *testing.T) (fetched, size int64, versions string, err error) {
	older, newer, versions, err := debianLibRepos(ctx, t, e.rpms)
	if err != nil {
		return 0, 0, "", err
	}
	a := mainApp()
	a.Packages = append(slices.Clone(a.Packages), debianLibPackage)
	fetched, size, _, err = e.updateDownload(ctx, t, a, older, a, newer)
	return fetched, size, versions, err
}

// TestBenchDebianUpdateDelta runs only the real updates' figures:
// go test -tags bench -run TestBenchDebianUpdateDelta -v ./internal/bench/
func TestBenchDebianUpdateDelta(t *testing.T) {
	ctx := context.Background()
	r, detail, err := debianUpdateDelta(ctx, debianUpdatesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	logf("%s", detail)
	fmt.Printf("update_delta_vs_layer_debian: %.3f\n", r)
	fetched, size, versions, err := newEnv(t).debianUpdateDownload(ctx, t)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("update_download_vs_image_updated: %s (%s: %d of %d bytes)\n", ratio(float64(fetched), float64(size)), versions, fetched, size)
}

// debianUpdatesDir is where the Debian packages are kept between runs.
func debianUpdatesDir(t *testing.T) string {
	dir := filepath.Join(harness.CacheDir(), "bench", "debian-updates")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
