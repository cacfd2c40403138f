//go:build bench

package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

// rpmsRecipe changes whenever the generator below changes, so that an old
// cached repo is not reused.
const rpmsRecipe = "bench rpms v1"

// The benchmark apps' packages.
const (
	mainID      = "org.example.Bench"
	mainPackage = "bench-app"
	// variants are the apps of the concurrent builds: org.example.BenchK
	// installs mainPackages and bench-variant-K.
	variants = 8
	// plugins are the packages the add-package rebuilds add, one each.
	plugins = 3
)

// mainPackages is what the benchmark app lists in packages:.
var mainPackages = []string{
	mainPackage, "bench-lib-1", "bench-lib-2", "bench-lib-3", "bench-lib-4",
	"bench-data", "bench-locale", "bench-help",
}

// pkgDef is one generated package: its files under /app, the folders it
// owns (as Fedora's guidelines ask of a package for the folders it makes,
// but not of locale files' folders) and what it requires.
type pkgDef struct {
	name     string
	version  string // "" is 1.0
	seed     uint64 // of its generated contents; 0: its place in the list
	requires []string
	files    []fileDef
	dirs     []string
}

// fileDef is one file or a numbered series of them (Name holds a %d).
type fileDef struct {
	name  string
	count int // 0: one file, name has no %d
	size  int
	kind  contentKind
	mode  os.FileMode
	text  string // kind literal
}

type contentKind int

const (
	binary  contentKind = iota // like an ELF object: gzip keeps about 60%
	text                       // words: gzip keeps about 30%
	literal                    // fileDef.text
	pngIcon                    // a 64x64 PNG
	copyOf                     // the file at the path fileDef.text
)

func benchPackages() []pkgDef {
	const kb, mb = 1 << 10, 1 << 20
	pkgs := []pkgDef{{
		name:     mainPackage,
		requires: append([]string{"/bin/sh"}, mainPackages[1:]...),
		dirs:     []string{"/app/libexec/bench"},
		files: []fileDef{
			{name: "/app/bin/bench", kind: literal, mode: 0o755, text: "#!/bin/sh\necho \"Hello from " + mainID + "\"\n"},
			{name: "/app/libexec/bench/bench-core", size: 6 * mb, kind: binary, mode: 0o755},
			{name: "/app/share/applications/" + mainID + ".desktop", kind: literal, text: desktopFile(mainID)},
			{name: "/app/share/icons/hicolor/64x64/apps/" + mainID + ".png", kind: pngIcon},
			{name: "/app/share/metainfo/" + mainID + ".metainfo.xml", kind: literal, text: metainfo(mainID)},
		},
	}}
	for i := 1; i <= 4; i++ {
		pkgs = append(pkgs, pkgDef{name: fmt.Sprintf("bench-lib-%d", i), dirs: []string{
			fmt.Sprintf("/app/lib/bench-%d", i), fmt.Sprintf("/app/lib/bench-%d/modules", i), fmt.Sprintf("/app/share/bench-%d", i),
		}, files: []fileDef{
			{name: fmt.Sprintf("/app/lib/libbench-%d.so.1.0.0", i), size: 5 * mb, kind: binary, mode: 0o755},
			{name: fmt.Sprintf("/app/lib/bench-%d/modules/module-%%02d.so", i), count: 20, size: 100 * kb, kind: binary, mode: 0o755},
			{name: fmt.Sprintf("/app/share/bench-%d/module-%%02d.conf", i), count: 20, size: 2 * kb, kind: text},
		}})
	}
	pkgs = append(pkgs,
		pkgDef{name: "bench-data", dirs: []string{"/app/share/bench/data"}, files: []fileDef{
			{name: "/app/share/bench/data/file-%03d.txt", count: 400, size: 24 * kb, kind: text},
		}},
		pkgDef{name: "bench-locale", files: []fileDef{
			{name: "/app/share/locale/l%02d/LC_MESSAGES/bench.mo", count: 60, size: 48 * kb, kind: text},
		}},
		pkgDef{name: "bench-help", dirs: []string{"/app/share/help/C/bench"}, files: []fileDef{
			{name: "/app/share/help/C/bench/page-%03d.html", count: 500, size: 4 * kb, kind: text},
		}},
	)
	for i := 1; i <= plugins; i++ {
		pkgs = append(pkgs, pkgDef{name: fmt.Sprintf("bench-plugin-%d", i), requires: []string{mainPackage}, dirs: []string{
			fmt.Sprintf("/app/share/bench/plugins/plugin-%d", i),
		}, files: []fileDef{
			{name: fmt.Sprintf("/app/lib/bench/plugins/plugin-%d.so", i), size: 2 * mb, kind: binary, mode: 0o755},
			{name: fmt.Sprintf("/app/share/bench/plugins/plugin-%d/%%02d.txt", i), count: 10, size: 8 * kb, kind: text},
		}})
	}
	for i := range variants {
		id := variantID(i)
		pkgs = append(pkgs, pkgDef{name: fmt.Sprintf("bench-variant-%d", i), requires: []string{mainPackage}, dirs: []string{
			fmt.Sprintf("/app/share/bench/variant-%d", i),
		}, files: []fileDef{
			{name: "/app/share/applications/" + id + ".desktop", kind: literal, text: desktopFile(id)},
			{name: "/app/share/icons/hicolor/64x64/apps/" + id + ".png", kind: pngIcon},
			{name: fmt.Sprintf("/app/share/bench/variant-%d/data.bin", i), size: 1 * mb, kind: binary},
		}})
	}
	return pkgs
}

func variantID(i int) string { return fmt.Sprintf("%s%d", mainID, i) }

func variantPackages(i int) []string {
	return append(append([]string{}, mainPackages...), fmt.Sprintf("bench-variant-%d", i))
}

func desktopFile(id string) string {
	return "[Desktop Entry]\nType=Application\nName=Bench\nComment=A benchmark app\nExec=bench\nIcon=" + id +
		"\nTerminal=true\nCategories=Utility;\n"
}

func metainfo(id string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>` + id + `</id>
  <metadata_license>CC0-1.0</metadata_license>
  <project_license>MIT</project_license>
  <name>Bench</name>
  <summary>A benchmark app</summary>
  <launchable type="desktop-id">` + id + `.desktop</launchable>
</component>
`
}

// benchRPMs returns the folder of the generated RPMs and their createrepo_c
// repo, built once and cached under the cache folder's fixtures/.
func benchRPMs(t testing.TB) string {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join("testdata", "rpms", "bench-package.spec"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%#v\n", rpmsRecipe, spec, benchPackages())
	dir := filepath.Join(harness.CacheDir(), "fixtures", "bench-rpms-"+hex.EncodeToString(h.Sum(nil))[:16])
	if isDir(dir) {
		return dir
	}
	ctx := context.Background()
	unlock, err := buildkitd.LockFile(ctx, dir+".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if isDir(dir) {
		return dir
	}
	start := time.Now()
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := buildRPMs(ctx, tmp, spec, benchPackages()); err != nil {
		os.RemoveAll(tmp)
		t.Fatalf("building the benchmark RPMs: %v", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	logf("built benchmark RPMs in %s", time.Since(start).Round(time.Second))
	return dir
}

// buildRPMs builds pkgs with the spec into out, and a createrepo_c repo
// of them.
func buildRPMs(ctx context.Context, out string, spec []byte, pkgs []pkgDef) error {
	top := out + ".rpmbuild"
	os.RemoveAll(top)
	defer os.RemoveAll(top)
	sources := filepath.Join(top, "SOURCES")
	specPath := filepath.Join(top, "SPECS", "bench-package.spec")
	for _, d := range []string{sources, filepath.Dir(specPath), out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return err
	}
	for i, p := range pkgs {
		seed := p.seed
		if seed == 0 {
			seed = uint64(i)
		}
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		// Each package's sources in a folder of their own: two versions
		// of one package differ.
		src := filepath.Join(sources, fmt.Sprintf("%s-%d", p.name, i))
		var list []string
		for _, d := range p.dirs {
			list = append(list, "%dir "+d)
		}
		for _, f := range p.files {
			names := []string{f.name}
			if f.count > 0 {
				names = names[:0]
				for n := range f.count {
					names = append(names, fmt.Sprintf(f.name, n))
				}
			}
			for _, name := range names {
				if err := writeFile(filepath.Join(src, name), f, rng); err != nil {
					return err
				}
				list = append(list, name)
			}
		}
		if err := os.WriteFile(src+".files", []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		args := []string{"-bb", "--nodeps",
			"--define", "_topdir " + top,
			"--define", "_build_id_links none",
			"--define", "__os_install_post %{nil}",
			// Real libraries in a noarch package (debdelta_test.go).
			"--define", "_binaries_in_noarch_packages_terminate_build 0",
			// Fedora's payload compression, at a level that builds fast.
			"--define", "_binary_payload w3.zstdio",
			"--define", "pkgname " + p.name,
			"--define", "pkgsrc " + src,
		}
		if p.version != "" {
			args = append(args, "--define", "pkgversion "+p.version)
		}
		if len(p.requires) > 0 {
			args = append(args, "--define", "pkgrequires "+strings.Join(p.requires, ", "))
		}
		if err := runCmd(ctx, "", nil, "rpmbuild", append(args, specPath)...); err != nil {
			return err
		}
		// The biggest sets are GBs: each package's sources go once built.
		os.RemoveAll(src)
		os.Remove(src + ".files")
		os.RemoveAll(filepath.Join(top, "BUILDROOT"))
	}
	built, _ := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	for _, p := range built {
		if err := os.Rename(p, filepath.Join(out, filepath.Base(p))); err != nil {
			return err
		}
	}
	if len(built) != len(pkgs) {
		return fmt.Errorf("rpmbuild made %d RPMs of %d packages", len(built), len(pkgs))
	}
	return runCmd(ctx, out, nil, "createrepo_c", "--no-database", out)
}

func writeFile(path string, f fileDef, rng *rand.Rand) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var data []byte
	switch f.kind {
	case literal:
		data = []byte(f.text)
	case copyOf:
		var err error
		if data, err = os.ReadFile(f.text); err != nil {
			return err
		}
	case pngIcon:
		data = icon(color.RGBA{uint8(rng.IntN(256)), 0x80, 0xd0, 0xff})
	case text:
		data = textContent(rng, f.size)
	default:
		data = binaryContent(rng, f.size)
	}
	mode := f.mode
	if mode == 0 {
		mode = 0o644
	}
	return os.WriteFile(path, data, mode)
}

// binaryContent resembles compiled code to a compressor: many zero bytes,
// a small alphabet of common ones, some noise.
func binaryContent(rng *rand.Rand, n int) []byte {
	common := make([]byte, 48)
	for i := range common {
		common[i] = byte(rng.IntN(256))
	}
	b := make([]byte, n)
	for i := range b {
		switch r := rng.IntN(100); {
		case r < 25:
			b[i] = 0
		case r < 70:
			b[i] = common[rng.IntN(len(common))]
		default:
			b[i] = byte(rng.IntN(256))
		}
	}
	return b
}

var words = func() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "etaoinshrdlucmfwypvbgkjqxz"
	w := make([]string, 3000)
	for i := range w {
		n := 2 + rng.IntN(9)
		var sb strings.Builder
		for range n {
			sb.WriteByte(letters[min(rng.IntN(len(letters)), rng.IntN(len(letters)))])
		}
		w[i] = sb.String()
	}
	return w
}()

// textContent is lines of words drawn from a fixed vocabulary.
func textContent(rng *rand.Rand, n int) []byte {
	var b bytes.Buffer
	col := 0
	for b.Len() < n {
		w := words[min(rng.IntN(len(words)), rng.IntN(len(words)))]
		b.WriteString(w)
		col += len(w) + 1
		if col > 72 {
			b.WriteByte('\n')
			col = 0
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func icon(c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			if dx, dy := x-32, y-32; dx*dx+dy*dy <= 28*28 {
				img.Set(x, y, c)
			}
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// runCmd runs a command; the error carries its output.
func runCmd(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) > 6000 {
			out = out[len(out)-6000:]
		}
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
