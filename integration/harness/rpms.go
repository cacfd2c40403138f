package harness

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rpmsRecipe changes whenever the way the RPM fixture is built changes, so
// that old cache entries are not reused.
const rpmsRecipe = "rpms v1"

var rpmRepo fixture

// RPMRepo returns a folder holding the test RPMs and a createrepo_c repo
// (repodata/) of them, built from testdata/rpms/*.spec:
//
//   - hello: org.example.Hello: /app/bin/hello, desktop file, 64x64 icon,
//     metainfo; Requires hello-data and /bin/sh.
//   - hello-data: /app/share/hello/greeting.txt (see [HelloGreeting]).
//   - hello-extra: /app/share/hello/extra.txt.
//   - hello-python: /app/lib/hello/hello_greet.py and its byte code.
//   - bad-usr: wrongly installs /usr/share/bad-usr/file.txt.
//   - viewer: a second app whose desktop file, icon and appdata are not
//     named after an app id (viewer.desktop, viewer.png, viewer.appdata.xml).
//   - runtime-provides: no files; Provides /bin/sh and friends. The test
//     runtime's rpmdb records it.
//
// Use it as a dnf repo: --repofrompath=test,file://DIR.
func RPMRepo(t testing.TB) string {
	t.Helper()
	return rpmRepo.get(t, rpmsKey, buildRPMs)
}

// RPMFile returns the path of one built RPM, by package name.
func RPMFile(t testing.TB, name string) string {
	t.Helper()
	p, err := findRPM(RPMRepo(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The lines the test apps print, for assertions.
const (
	HelloOutput   = "Hello from org.example.Hello"
	HelloGreeting = "Greetings from hello-data"
)

func findRPM(dir, name string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, name+"-*.rpm"))
	for _, m := range matches {
		// hello-*.rpm also matches hello-data-1.0-1.noarch.rpm: the
		// rest after the name must be VERSION-RELEASE.ARCH.rpm.
		rest := strings.TrimPrefix(filepath.Base(m), name+"-")
		if strings.Count(rest, "-") == 1 {
			return m, nil
		}
	}
	return "", fmt.Errorf("no RPM %s in %s", name, dir)
}

func specFiles() (map[string][]byte, error) {
	td, err := testdataDir()
	if err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(td, "rpms", "*.spec"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no spec files in %s/rpms", td)
	}
	specs := map[string][]byte{}
	for _, p := range paths {
		dt, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		specs[filepath.Base(p)] = dt
	}
	return specs, nil
}

func rpmsKey() (string, string, error) {
	specs, err := specFiles()
	if err != nil {
		return "", "", err
	}
	parts := [][]byte{[]byte(rpmsRecipe)}
	for _, name := range sortedKeys(specs) {
		parts = append(parts, []byte(name), specs[name])
	}
	for _, name := range sortedKeys(icons) {
		parts = append(parts, []byte(name), icon(icons[name]))
	}
	return "rpms", hashOf(parts...), nil
}

func buildRPMs(ctx context.Context, dir string) error {
	specs, err := specFiles()
	if err != nil {
		return err
	}
	top, err := os.MkdirTemp("", "rpmbuild-")
	if err != nil {
		return err
	}
	defer removeAll(top)
	sources := filepath.Join(top, "SOURCES")
	if err := os.MkdirAll(sources, 0o755); err != nil {
		return err
	}
	for name, c := range icons {
		if err := os.WriteFile(filepath.Join(sources, name), icon(c), 0o644); err != nil {
			return err
		}
	}
	specDir := filepath.Join(top, "SPECS")
	if err := os.MkdirAll(specDir, 0o755); err != nil {
		return err
	}
	for _, name := range sortedKeys(specs) {
		p := filepath.Join(specDir, name)
		if err := os.WriteFile(p, specs[name], 0o644); err != nil {
			return err
		}
		// --nodeps: Debian's rpmdb knows nothing of build dependencies.
		if _, err := run(ctx, nil, top, "rpmbuild", "-bb", "--nodeps",
			"--define", "_topdir "+top,
			"--define", "_build_id_links none",
			p); err != nil {
			return err
		}
	}
	built, _ := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if len(built) != len(specs) {
		return fmt.Errorf("rpmbuild made %d RPMs from %d spec files", len(built), len(specs))
	}
	for _, p := range built {
		if err := moveFile(p, filepath.Join(dir, filepath.Base(p))); err != nil {
			return err
		}
	}
	if _, err := run(ctx, nil, dir, "createrepo_c", "--no-database", dir); err != nil {
		return err
	}
	return nil
}

// icons are the PNG files the spec files take as Source0.
var icons = map[string]color.RGBA{
	"org.example.Hello.png": {0x30, 0x80, 0xd0, 0xff},
	"viewer.png":            {0xd0, 0x60, 0x30, 0xff},
}

// icon draws a 64x64 PNG: a filled disc on a transparent background.
func icon(c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			dx, dy := x-32, y-32
			if dx*dx+dy*dy <= 28*28 {
				img.Set(x, y, c)
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory RGBA image cannot fail
	}
	return b.Bytes()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	dt, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, dt, 0o644)
}
