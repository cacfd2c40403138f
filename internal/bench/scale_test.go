//go:build bench

package bench

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// The scale axes of issue 21: apps of about 50 MB/8 packages (the
// benchmark app), 300 MB/40 and 1 GB/150, on a runtime whose rpmdb records
// about 1,000 packages, as Fedora's does.

// scaleRecipe changes whenever the scale fixtures' generators change.
const scaleRecipe = "bench scale v1"

// runtimePackages is how many packages the scale runtime's rpmdb records
// besides the test runtime's own (Fedora's runtime has about 1,000).
const runtimePackages = 1000

// scaleSize is one app size: the benchmark app's 8 packages and Fillers
// generated ones; Update is the package (in the middle of the set) a new
// version of which the update rebuild installs.
type scaleSize struct {
	Name    string
	Fillers int
	Update  string
}

var scaleSizes = []scaleSize{
	{Name: "50mb", Fillers: 0, Update: "bench-data"},
	{Name: "300mb", Fillers: 32, Update: fillerName(16)},
	{Name: "1gb", Fillers: 142, Update: fillerName(71)},
}

func fillerName(i int) string { return fmt.Sprintf("bench-extra-%03d", i) }

// packages is what the size's app lists in packages:.
func (s scaleSize) packages() []string {
	p := slices.Clone(mainPackages)
	for i := 1; i <= s.Fillers; i++ {
		p = append(p, fillerName(i))
	}
	return p
}

// fillerPackage is generated package number i: a library of 1 to 10 MB,
// 20 plugins of 64 KB and 40 data files of 4 to 44 KB (7.7 MB on average,
// 61 files), the mix of a large desktop app's packages.
func fillerPackage(i int) pkgDef {
	const kb, mb = 1 << 10, 1 << 20
	return pkgDef{
		name: fillerName(i),
		seed: uint64(1000 + i),
		dirs: []string{fmt.Sprintf("/app/lib/extra-%03d", i), fmt.Sprintf("/app/share/extra-%03d", i)},
		files: []fileDef{
			{name: fmt.Sprintf("/app/lib/libextra-%03d.so.1", i), size: (1 + i%10) * mb, kind: binary, mode: 0o755},
			{name: fmt.Sprintf("/app/lib/extra-%03d/plugin-%%02d.so", i), count: 20, size: 64 * kb, kind: binary, mode: 0o755},
			{name: fmt.Sprintf("/app/share/extra-%03d/data-%%03d.txt", i), count: 40, size: (4 + (i%6)*8) * kb, kind: text},
		},
	}
}

// scalePackages are every filler and, as version 2.0 with other contents,
// each size's update package.
func scalePackages() []pkgDef {
	var pkgs []pkgDef
	maxFillers := 0
	for _, s := range scaleSizes {
		maxFillers = max(maxFillers, s.Fillers)
	}
	for i := 1; i <= maxFillers; i++ {
		pkgs = append(pkgs, fillerPackage(i))
	}
	for _, s := range scaleSizes {
		var p pkgDef
		if i := slices.IndexFunc(benchPackages(), func(p pkgDef) bool { return p.name == s.Update }); i >= 0 {
			p = benchPackages()[i]
		} else {
			n, _ := strconv.Atoi(strings.TrimPrefix(s.Update, "bench-extra-"))
			p = fillerPackage(n)
		}
		p.version, p.seed = "2.0", p.seed+5000
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// scaleRepos builds the fillers once (cached under the cache folder's
// fixtures/) and returns the folder holding, per size, repos/SIZE (the
// benchmark RPMs and the size's fillers) and repos/SIZE-update (the same
// with the update package at version 2.0), each a createrepo_c repo.
func scaleRepos(t testing.TB, benchRepo string) string {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join("testdata", "rpms", "bench-package.spec"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%#v\n%#v\n", scaleRecipe, filepath.Base(benchRepo), spec, scalePackages(), scaleSizes)
	dir := filepath.Join(harness.CacheDir(), "fixtures", "bench-scale-rpms-"+hex.EncodeToString(h.Sum(nil))[:16])
	cached(t, dir, func(tmp string) error {
		ctx := context.Background()
		rpms := filepath.Join(tmp, "rpms")
		if err := buildRPMs(ctx, rpms, spec, scalePackages()); err != nil {
			return err
		}
		for _, s := range scaleSizes {
			for _, update := range []bool{false, true} {
				repo := filepath.Join(tmp, "repos", s.Name)
				if update {
					repo += "-update"
				}
				base, _ := filepath.Glob(filepath.Join(benchRepo, "*.rpm"))
				extra, _ := filepath.Glob(filepath.Join(rpms, "*.rpm"))
				var picked []string
				for _, p := range append(base, extra...) {
					name, version := rpmNameVersion(filepath.Base(p))
					n, _ := strconv.Atoi(strings.TrimPrefix(name, "bench-extra-"))
					switch {
					case strings.HasPrefix(name, "bench-extra-") && n > s.Fillers:
						continue // another size's
					case version == "2.0" && (name != s.Update || !update):
						continue
					case version != "2.0" && name == s.Update && update:
						continue
					}
					picked = append(picked, p)
				}
				if err := linkRepo(ctx, repo, picked); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return dir
}

// rpmNameVersion splits the file name rpmbuild gives the benchmark's
// packages, NAME-VERSION-1.noarch.rpm.
func rpmNameVersion(file string) (name, version string) {
	s := strings.TrimSuffix(file, "-1.noarch.rpm")
	i := strings.LastIndexByte(s, '-')
	return s[:i], s[i+1:]
}

// linkRepo makes repo a createrepo_c repo of the RPM files rpms, linked
// (or copied) into it.
func linkRepo(ctx context.Context, repo string, rpms []string) error {
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return err
	}
	for _, p := range rpms {
		if err := linkOrCopy(p, filepath.Join(repo, filepath.Base(p))); err != nil {
			return err
		}
	}
	return runCmd(ctx, repo, nil, "createrepo_c", "--no-database", repo)
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return runCmd(context.Background(), "", nil, "cp", src, dst)
}

// cached makes dir with build (into a scratch folder renamed into place)
// unless it exists, under a lock so that concurrent runs share it.
func cached(t testing.TB, dir string, build func(tmp string) error) {
	t.Helper()
	if isDir(dir) {
		return
	}
	unlock, err := buildkitd.LockFile(context.Background(), dir+".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if isDir(dir) {
		return
	}
	start := time.Now()
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := build(tmp); err != nil {
		os.RemoveAll(tmp)
		t.Fatalf("making %s: %v", filepath.Base(dir), err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	logf("made %s in %s", filepath.Base(dir), time.Since(start).Round(time.Second))
}

// runtimeSpec is one spec of runtimePackages subpackages, each owning 60
// files (recorded, never unpacked: they go in with --justdb) and providing
// a library soname that the next ones require, so that the runtime's rpmdb
// holds what Fedora's does: about 1,000 packages and their file lists.
func runtimeSpec() string {
	var b strings.Builder
	fmt.Fprintf(&b, `Name: runtime-filler
Version: 1.0
Release: 1
Summary: Packages of a Fedora-sized runtime
License: MIT
BuildArch: noarch
AutoReqProv: no

%%description
Generated by the flatpak-frontend benchmark.

%%install
for i in $(seq -w 1 %d); do
  d=%%{buildroot}/usr/share/runtime-filler/$i
  mkdir -p $d
  for j in $(seq -w 1 60); do echo $i $j > $d/file-$j; done
done
`, runtimePackages)
	for i := 1; i <= runtimePackages; i++ {
		fmt.Fprintf(&b, "\n%%package -n runtime-pkg-%04d\nSummary: Runtime package %d\nProvides: libruntime-%04d.so.1()(64bit)\n", i, i, i)
		if i > 1 {
			fmt.Fprintf(&b, "Requires: libruntime-%04d.so.1()(64bit)\n", i/2)
		}
		fmt.Fprintf(&b, "%%description -n runtime-pkg-%04d\nGenerated.\n%%files -n runtime-pkg-%04d\n/usr/share/runtime-filler/%04d\n", i, i, i)
	}
	return b.String()
}

// scaleRuntime is the test runtime whose rpmdb also records
// runtimePackages generated packages: the runtime image with one more
// layer holding the grown rpmdb (files/lib/sysimage/rpm), its config (and
// so every Flatpak label) kept. pristine is the test runtime's files/.
func scaleRuntime(t testing.TB, rt harness.RuntimeImage, pristine string) harness.RuntimeImage {
	t.Helper()
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", scaleRecipe, rt.Digest, runtimeSpec())
	dir := filepath.Join(harness.CacheDir(), "fixtures", "bench-runtime-"+strconv.Itoa(runtimePackages)+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	cached(t, dir, func(tmp string) error {
		ctx := context.Background()
		top := filepath.Join(tmp, "rpmbuild")
		specPath := filepath.Join(top, "SPECS", "runtime-filler.spec")
		if err := os.MkdirAll(filepath.Dir(specPath), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(specPath, []byte(runtimeSpec()), 0o644); err != nil {
			return err
		}
		if err := runCmd(ctx, "", nil, "rpmbuild", "-bb", "--nodeps", "--define", "_topdir "+top,
			"--define", "_build_id_links none", "--define", "__os_install_post %{nil}",
			"--define", "_binary_payload w3.zstdio", specPath); err != nil {
			return err
		}
		built, _ := filepath.Glob(filepath.Join(top, "RPMS", "*", "runtime-pkg-*.rpm"))
		if len(built) != runtimePackages {
			return fmt.Errorf("rpmbuild made %d runtime packages, want %d", len(built), runtimePackages)
		}
		// The test runtime's rpmdb, grown.
		db := filepath.Join(tmp, "layer", "files", "lib", "sysimage", "rpm")
		if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
			return err
		}
		if err := runCmd(ctx, "", nil, "cp", "-a", filepath.Join(pristine, "lib", "sysimage", "rpm"), db); err != nil {
			return err
		}
		if err := runCmd(ctx, "", nil, "rpm", append([]string{"--dbpath", db, "-i", "--justdb", "--nodeps",
			"--ignorearch", "--noscripts", "--notriggers"}, built...)...); err != nil {
			return err
		}
		os.RemoveAll(top)
		return addLayer(rt.Dir, filepath.Join(tmp, "oci"), filepath.Join(tmp, "layer"), "runtime/"+harness.RuntimeID+"/x86_64/"+harness.RuntimeBranch)
	})
	img := harness.RuntimeImage{Dir: filepath.Join(dir, "oci")}
	var idx ocispecs.Index
	if err := readJSON(filepath.Join(img.Dir, "index.json"), &idx); err != nil {
		t.Fatal(err)
	}
	img.Digest = idx.Manifests[0].Digest.String()
	return img
}

// addLayer writes the OCI layout out: the one image of the layout in with
// the tree layer (a gzip tar) added on top, its config otherwise kept.
func addLayer(in, out, layer, refName string) error {
	var idx ocispecs.Index
	if err := readJSON(filepath.Join(in, "index.json"), &idx); err != nil {
		return err
	}
	var mf ocispecs.Manifest
	if err := readJSON(blobPath(in, idx.Manifests[0]), &mf); err != nil {
		return err
	}
	var config map[string]json.RawMessage
	if err := readJSON(blobPath(in, mf.Config), &config); err != nil {
		return err
	}
	var rootfs ocispecs.RootFS
	if err := json.Unmarshal(config["rootfs"], &rootfs); err != nil {
		return err
	}
	blobs := filepath.Join(out, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	for _, d := range append([]ocispecs.Descriptor{mf.Config}, mf.Layers...) {
		if err := linkOrCopy(blobPath(in, d), filepath.Join(blobs, d.Digest.Encoded())); err != nil {
			return err
		}
	}
	// The layer: the tree, folders first, as tar lists them, owned by
	// root and dated as the runtime's files are.
	var tarBuf, gzBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	err := writeTree(tw, layer, func(rel string) string {
		if rel == "." {
			return ""
		}
		return rel
	}, func(h *tar.Header) {
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	diffID := digest.FromBytes(tarBuf.Bytes())
	gz := gzip.NewWriter(&gzBuf)
	gz.Write(tarBuf.Bytes())
	gz.Close()
	put := func(mediaType string, data []byte) (ocispecs.Descriptor, error) {
		d := ocispecs.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
		return d, os.WriteFile(filepath.Join(blobs, d.Digest.Encoded()), data, 0o644)
	}
	ld, err := put(ocispecs.MediaTypeImageLayerGzip, gzBuf.Bytes())
	if err != nil {
		return err
	}
	rootfs.DiffIDs = append(rootfs.DiffIDs, diffID)
	if config["rootfs"], err = json.Marshal(rootfs); err != nil {
		return err
	}
	cfgData, err := json.Marshal(config)
	if err != nil {
		return err
	}
	if mf.Config, err = put(mf.Config.MediaType, cfgData); err != nil {
		return err
	}
	mf.Layers = append(mf.Layers, ld)
	mfData, err := json.Marshal(mf)
	if err != nil {
		return err
	}
	md, err := put(ocispecs.MediaTypeImageManifest, mfData)
	if err != nil {
		return err
	}
	md.Annotations = map[string]string{ocispecs.AnnotationRefName: refName}
	idx.Manifests = []ocispecs.Descriptor{md}
	idxData, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "index.json"), idxData, 0o644)
}

// unpackRuntime extracts a runtime image's layers into dir and returns its
// files/.
func unpackRuntime(ctx context.Context, rt harness.RuntimeImage, dir string) (string, error) {
	var idx ocispecs.Index
	if err := readJSON(filepath.Join(rt.Dir, "index.json"), &idx); err != nil {
		return "", err
	}
	var mf ocispecs.Manifest
	if err := readJSON(blobPath(rt.Dir, idx.Manifests[0]), &mf); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, l := range mf.Layers {
		if err := runCmd(ctx, "", nil, "tar", "-xzf", blobPath(rt.Dir, l), "-C", dir); err != nil {
			return "", err
		}
	}
	if !isDir(filepath.Join(dir, "files", "lib", "sysimage", "rpm")) {
		return "", fmt.Errorf("the runtime has no rpmdb in files/lib/sysimage/rpm")
	}
	return filepath.Join(dir, "files"), nil
}

// copyRuntimeTree makes root a system whose /usr is a copy of the
// runtime's files/, for the host pipeline and the floor.
func (e *env) copyRuntimeTree(ctx context.Context, root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if err := runCmd(ctx, "", nil, "cp", "-a", e.pristine, filepath.Join(root, "usr")); err != nil {
		return err
	}
	for link, target := range map[string]string{"etc": "usr/etc", "bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			return err
		}
	}
	for _, d := range []string{"var/tmp", "tmp", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// rpmHome is a HOME whose .rpmmacros puts the rpmdb where the runtime
// keeps it (Debian's rpm defaults to ~/.rpmdb).
func (e *env) rpmHome() (string, error) {
	home := filepath.Join(e.work, "rpm-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return "", err
	}
	return home, os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath /usr/lib/sysimage/rpm\n"), 0o644)
}

// floorBuild is the least work the job needs: the app's RPM files
// installed with rpm -i --root (no resolver) into a copy of the runtime
// tree, then /app written as one tar compressed as this frontend's layers
// are (zstd, BuildKit's default level, with the library BuildKit uses).
// The copy is made and removed outside the timing.
func (e *env) floorBuild(ctx context.Context, pkgs []string) (*result, error) {
	work := e.tempDir("floor")
	root := filepath.Join(work, "root")
	if err := e.copyRuntimeTree(ctx, root); err != nil {
		return nil, err
	}
	defer exec.Command("rm", "-rf", root).Run()
	home, err := e.rpmHome()
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range pkgs {
		m, _ := filepath.Glob(filepath.Join(e.rpms, p+"-[0-9]*-1.noarch.rpm"))
		if len(m) != 1 {
			return nil, fmt.Errorf("floor: %d RPM files of %s in %s", len(m), p, e.rpms)
		}
		files = append(files, m[0])
	}
	unix.Sync()
	parts := map[string]float64{}
	start := time.Now()
	if err := runCmd(ctx, "", append(os.Environ(), "HOME="+home), "rpm", append([]string{"--root", root, "-i"}, files...)...); err != nil {
		return nil, err
	}
	parts["rpm -i --root"] = time.Since(start).Seconds()
	appSize, err := treeBytes(filepath.Join(root, "app"))
	if err != nil {
		return nil, err
	}
	mid := time.Now()
	out := filepath.Join(work, "app.tar.zst")
	if err := tarZstd(filepath.Join(root, "app"), out); err != nil {
		return nil, err
	}
	parts["tar | zstd"] = time.Since(mid).Seconds()
	return &result{Seconds: time.Since(start).Seconds(), Parts: parts, AppBytes: appSize}, nil
}

// tarZstd writes dir as a tar compressed with zstd at BuildKit's default
// level (klauspost/compress, SpeedDefault, as BuildKit's compression
// package does).
func tarZstd(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, err := zstd.NewWriter(f, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	err = writeTree(tw, dir, func(rel string) string { return filepath.Join(filepath.Base(dir), rel) }, nil)
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// writeTree writes the tree at dir to tw, each entry named name(its path
// relative to dir, "." for dir itself; "" leaves it out) and its header
// passed to fix, when given.
func writeTree(tw *tar.Writer, dir string, name func(rel string) string, fix func(*tar.Header)) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		n := name(rel)
		if n == "" {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if d.Type()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = n
		if d.IsDir() {
			hdr.Name += "/"
		}
		if fix != nil {
			fix(hdr)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
}

// frontendCLI is the flatpak-frontend command, built once per benchmark.
func (e *env) frontendCLI(ctx context.Context) (string, error) {
	bin := filepath.Join(e.work, "flatpak-frontend")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", bin, "./cmd/flatpak-frontend")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/flatpak-frontend: %v\n%s", err, out)
	}
	// A new binary's first build makes its copy for the steps (once per
	// version, as on a packager's machine after an upgrade): done here,
	// untimed, by a build the frontend refuses.
	dir := e.tempDir("cli-first-run")
	if err := os.WriteFile(filepath.Join(dir, "flatpak.yaml"), []byte("app-id: [\n"), 0o644); err != nil {
		return "", err
	}
	first := exec.CommandContext(ctx, bin, "build", "--addr", harness.Addr(), "-f", filepath.Join(dir, "flatpak.yaml"), "--progress", "plain", dir)
	first.Env = e.cliEnv()
	out, _ := first.CombinedOutput()
	if done, _ := filepath.Glob(filepath.Join(e.cliCache(), "helper", "*-bundle", "complete")); len(done) == 0 {
		return "", fmt.Errorf("the command's first run made no copy of itself for the steps in %s:\n%s", e.cliCache(), out)
	}
	return bin, nil
}

// cliCache is the command's cache folder; cliEnv its environment.
func (e *env) cliCache() string { return filepath.Join(e.work, "cli-cache") }

func (e *env) cliEnv() []string {
	return append(os.Environ(), buildkitd.CacheEnv+"="+e.cliCache())
}

// cliBuild is a packager's build: the flatpak-frontend command, a process
// of its own, building a into the OCI layout out (a new folder when empty).
// The result's RSS is the command's peak resident memory (the frontend's
// gateway side: parse, LLB, the solves, sending the contexts) and
// DaemonRSS buildkitd's during the build.
func (e *env) cliBuild(ctx context.Context, a app, out string) (*result, error) {
	var b bytes.Buffer
	if err := e.yamlTmpl.Execute(&b, a); err != nil {
		return nil, err
	}
	return e.cliBuildSpec(ctx, a.ID, b.Bytes(), out)
}

// cliBuildSpec is cliBuild of a flatpak.yaml's contents.
func (e *env) cliBuildSpec(ctx context.Context, id string, spec []byte, out string) (*result, error) {
	bin, err := e.frontendCLI(ctx)
	if err != nil {
		return nil, err
	}
	dir := e.tempDir("cli-" + id)
	if err := os.WriteFile(filepath.Join(dir, "flatpak.yaml"), spec, 0o644); err != nil {
		return nil, err
	}
	if out == "" {
		out = filepath.Join(dir, "oci")
	}
	daemon := buildkitdPID()
	resetPeakRSS(daemon)
	start := time.Now()
	tr := newTrace(start)
	var tail tailBuffer
	cmd := exec.CommandContext(ctx, bin, "build", "--addr", harness.Addr(), "-f", filepath.Join(dir, "flatpak.yaml"),
		"--build-context", "rpms="+e.rpms,
		"--build-context", "runtime=oci-layout://"+e.rt.Dir+"@"+e.rt.Digest,
		"--output", "oci:"+out, "--sbom=false", "--progress", "rawjson", dir)
	cmd.Env = e.cliEnv()
	cmd.Stdout = &tail
	cmd.Stderr = io.MultiWriter(tr, &tail)
	// The command's peak memory is its VmHWM, read while it runs: the
	// maxrss wait4 reports is no measure of it, as Go starts a command
	// sharing this process's memory (CLONE_VM) and Linux carries that
	// memory's peak over the exec into the command's maxrss (this
	// benchmark process's own peak, 96-145 MiB, where the command's is
	// about 60).
	err = cmd.Start()
	var rss float64
	if err == nil {
		done, peak := make(chan struct{}), make(chan float64)
		go func() {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			high := 0.0
			for {
				high = max(high, peakRSS(cmd.Process.Pid))
				select {
				case <-done:
					peak <- high
					return
				case <-tick.C:
				}
			}
		}()
		err = cmd.Wait()
		close(done)
		rss = <-peak
	}
	d := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("flatpak-frontend build of %s: %v\n%s", id, err, tail.String())
	}
	r := &result{Seconds: d.Seconds(), Steps: tr.steps(), OCI: out, trace: tr, RSS: rss}
	r.DaemonRSS = peakRSS(daemon)
	return r, nil
}

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8<<10 {
		t.b = t.b[len(t.b)-8<<10:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// buildkitdPID is the benchmark daemon's process.
func buildkitdPID() int {
	sock := strings.TrimPrefix(harness.Addr(), "unix://")
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if filepath.Base(args[0]) == "buildkitd" && strings.Contains(string(cmdline), filepath.Dir(sock)) {
			return pid
		}
	}
	return 0
}

// resetPeakRSS starts a process's peak resident memory (VmHWM) over.
func resetPeakRSS(pid int) {
	if pid > 0 {
		os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	}
}

// peakRSS is a process's VmHWM in MiB.
func peakRSS(pid int) float64 {
	if pid == 0 {
		return 0
	}
	dt, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(dt), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// treeBytes is the size of the regular files under dir.
func treeBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// scaleRun is one size's medians (seconds) and peaks (MiB).
type scaleRun struct {
	Size          string  `json:"size"`
	Packages      int     `json:"packages"`
	AppBytes      int64   `json:"app_bytes"`
	Cold          float64 `json:"cold"`
	Containerfile float64 `json:"containerfile"`
	Tools         float64 `json:"flatpak_tools"`
	Floor         float64 `json:"floor"`
	Noop          float64 `json:"noop"`
	FinishArgs    float64 `json:"finish_args"`
	AddPackage    float64 `json:"add_package"`
	Update        float64 `json:"update_package"`
	Reinstalls    int     `json:"finish_args_reinstalls"`
	RSS           float64 `json:"frontend_rss_mib"`
	DaemonRSS     float64 `json:"buildkitd_rss_mib"`
	// ContainerfileDaemonRSS is buildkitd's peak during the
	// Containerfile's cold builds.
	ContainerfileDaemonRSS float64 `json:"containerfile_buildkitd_rss_mib"`
}

// scaleSelected is BENCH_SIZES (a comma-separated list of size names),
// every size when unset.
func scaleSelected(t testing.TB) []scaleSize {
	v := os.Getenv("BENCH_SIZES")
	if v == "" {
		return scaleSizes
	}
	var sel []scaleSize
	for _, n := range strings.Split(v, ",") {
		i := slices.IndexFunc(scaleSizes, func(s scaleSize) bool { return s.Name == strings.TrimSpace(n) })
		if i < 0 {
			t.Fatalf("BENCH_SIZES=%s: no size %q (have 50mb, 300mb, 1gb)", v, n)
		}
		sel = append(sel, scaleSizes[i])
	}
	return sel
}

// scaleBench runs every size on the Fedora-sized runtime: cold builds of
// the four contenders taking turns (this frontend through its command, a
// process of its own, so that its memory is its own), then this
// frontend's rebuilds, each into the layout of the build before it. The
// biggest size runs once.
func (e *env) scaleBench(ctx context.Context, t *testing.T, runs int, record func(string) func(*result, error) *result, get func(string) *scenario) []scaleRun {
	sizes := scaleSelected(t)
	if len(sizes) == 0 {
		return nil
	}
	rt := scaleRuntime(t, e.rt, e.pristine)
	pristine, err := unpackRuntime(ctx, rt, filepath.Join(e.work, "runtime-tree-scale"))
	if err != nil {
		t.Fatal(err)
	}
	repos := scaleRepos(t, e.rpms)
	saved := *e
	defer func() { e.rt, e.pristine, e.rpms = saved.rt, saved.pristine, saved.rpms }()
	e.rt, e.pristine = rt, pristine
	logf("scale runtime: the test runtime with %d more packages in its rpmdb (%s)", runtimePackages, rt.Dir)

	biggest := slices.MaxFunc(scaleSizes, func(a, b scaleSize) int { return a.Fillers - b.Fillers })
	var out []scaleRun
	for _, s := range sizes {
		n := runs
		if s.Name == biggest.Name {
			n = 1
		}
		name := func(what string) string { return "scale_" + s.Name + "_" + what }
		e.rpms = filepath.Join(repos, "repos", s.Name)
		pkgs := s.packages()
		a := app{ID: mainID, Packages: pkgs, FinishArgs: baseFinishArgs}
		run := scaleRun{Size: s.Name, Packages: len(pkgs)}
		peaks := func(r *result) {
			run.RSS, run.DaemonRSS = max(run.RSS, r.RSS), max(run.DaemonRSS, r.DaemonRSS)
		}
		for range n {
			e.mustCold(ctx)
			peaks(record(name("cold_frontend"))(e.cliBuild(ctx, a, "")))
			e.mustCold(ctx)
			r := record(name("cold_containerfile"))(e.containerfileBuild(ctx, pkgs))
			run.ContainerfileDaemonRSS = max(run.ContainerfileDaemonRSS, r.DaemonRSS)
			record(name("cold_flatpak_tools"))(e.toolsBuild(ctx, t, pkgs))
			run.AppBytes = record(name("floor"))(e.floorBuild(ctx, pkgs)).AppBytes
		}
		e.mustCold(ctx)
		base := record(name("cold_frontend"))(e.cliBuild(ctx, a, ""))
		peaks(base)
		for range n {
			record(name("noop_rebuild"))(e.cliBuild(ctx, a, base.OCI))
		}
		for i := range n {
			b := a
			b.FinishArgs = append(slices.Clone(a.FinishArgs), fmt.Sprintf("--env=BENCH_REBUILD=%d-%d", i, time.Now().UnixNano()))
			if r := record(name("finish_args_rebuild"))(e.cliBuild(ctx, b, base.OCI)); r.trace.ran("install ") {
				run.Reinstalls++
			}
		}
		grown := a
		for i := range min(n, plugins) {
			grown.Packages = append(slices.Clone(grown.Packages), fmt.Sprintf("bench-plugin-%d", i+1))
			record(name("add_package_rebuild"))(e.cliBuild(ctx, grown, base.OCI))
		}
		// A new version of one package in the repo; the spec as before.
		e.rpms = filepath.Join(repos, "repos", s.Name+"-update")
		record(name("update_package_rebuild"))(e.cliBuild(ctx, a, base.OCI))

		run.Cold = get(name("cold_frontend")).Median
		run.Containerfile = get(name("cold_containerfile")).Median
		run.Tools = get(name("cold_flatpak_tools")).Median
		run.Floor = get(name("floor")).Median
		run.Noop = get(name("noop_rebuild")).Median
		run.FinishArgs = get(name("finish_args_rebuild")).Median
		run.AddPackage = get(name("add_package_rebuild")).Median
		run.Update = get(name("update_package_rebuild")).Median
		logf("scale %s: %d packages, %.0f MB under /app; cold %.1fs, Containerfile %.1fs, host pipeline %.1fs, floor %.1fs; frontend peak RSS %.0f MiB, buildkitd %.0f MiB (%.0f MiB building the Containerfile)",
			s.Name, run.Packages, float64(run.AppBytes)/1e6, run.Cold, run.Containerfile, run.Tools, run.Floor, run.RSS, run.DaemonRSS, run.ContainerfileDaemonRSS)
		out = append(out, run)
	}
	return out
}

// scaleFigures are the figures of the scale runs, with issue 21's goals.
func scaleFigures(runs []scaleRun) []figure {
	var f []figure
	for _, r := range runs {
		big := r.Size != "50mb"
		add := func(name, value, goal string) {
			f = append(f, figure{Name: name + "_" + r.Size, Value: value, Goal: goal})
		}
		add("cold_vs_containerfile", ratio(r.Cold, r.Containerfile), "<= 0.7")
		add("cold_vs_flatpak_tools", ratio(r.Cold, r.Tools), "")
		add("cold_vs_floor", ratio(r.Cold, r.Floor), "<= 1.5")
		add("noop_rebuild_ratio", ratio(r.Noop, r.Cold), "<= 0.03")
		add("finish_args_rebuild_ratio", ratio(r.FinishArgs, r.Cold), "<= 0.05")
		add("finish_args_reinstalls", strconv.Itoa(r.Reinstalls), "<= 0")
		add("add_package_rebuild_ratio", ratio(r.AddPackage, r.Cold), map[bool]string{true: "<= 0.25"}[big])
		add("update_package_rebuild_ratio", ratio(r.Update, r.Cold), map[bool]string{true: "<= 0.35"}[big])
		goal := ""
		if r.Size == "1gb" {
			goal = "<= 150"
		}
		add("frontend_peak_rss_mib", fmt.Sprintf("%.0f", r.RSS), goal)
		add("buildkitd_peak_rss_mib", fmt.Sprintf("%.0f", r.DaemonRSS), "")
		add("buildkitd_peak_rss_mib_containerfile", fmt.Sprintf("%.0f", r.ContainerfileDaemonRSS), "")
	}
	return f
}

// ghexBench builds GHex (examples/ghex, the real-apps issue's app) on the
// GTK test runtime with this frontend's command and with a Konflux-style
// Containerfile doing the same work (testdata/containerfile-ghex), each
// from a cold cache, taking turns.
func (e *env) ghexBench(ctx context.Context, t *testing.T, runs int, record func(string) func(*result, error) *result) {
	spec, err := os.ReadFile(filepath.Join("..", "..", "examples", "ghex", "flatpak.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	saved := *e
	defer func() { e.rt, e.rpms = saved.rt, saved.rpms }()
	e.rt, e.rpms = harness.GtkRuntime(t), harness.GHexRepo(t)
	for range runs {
		e.mustCold(ctx)
		ours := record("ghex_cold_frontend")(e.cliBuildSpec(ctx, "org.gnome.GHex", spec, ""))
		e.mustCold(ctx)
		theirs := record("ghex_cold_containerfile")(e.containerfile(ctx, "containerfile-ghex", nil))
		// The same work: the runtime's file triggers ran in both (GHex
		// does not start without its compiled GSettings schemas).
		for name, r := range map[string]*result{"this frontend's": ours, "the Containerfile's": theirs} {
			if r == nil {
				continue
			}
			if ok, err := imageHas(r.OCI, ghexCompiledSchemas); err != nil || !ok {
				t.Fatalf("%s GHex image lacks %s (the runtime's rpm file trigger did not run): %v", name, ghexCompiledSchemas, err)
			}
		}
	}
}

// ghexCompiledSchemas is what glib's rpm file trigger compiles from GHex's
// GSettings schema.
const ghexCompiledSchemas = "files/share/glib-2.0/schemas/gschemas.compiled"

// TestBenchTrees writes a small tree as the floor's zstd tar and as a
// layer added to the test runtime, and reads both back, so that `make
// bench` cannot fail on them after its fixtures are cached.
func TestBenchTrees(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, "lib", "a.so"), []byte("library"), 0o755)
	os.Symlink("a.so", filepath.Join(dir, "lib", "a.so.1"))
	list := func(r io.Reader) []string {
		var names []string
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return names
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, h.Name)
		}
	}
	out := filepath.Join(t.TempDir(), "app.tar.zst")
	if err := tarZstd(dir, out); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := list(zr), []string{"app/", "app/lib/", "app/lib/a.so", "app/lib/a.so.1"}; !slices.Equal(got, want) {
		t.Errorf("the floor's tar lists %q, want %q", got, want)
	}

	rt := harness.Runtime(t)
	layout := filepath.Join(t.TempDir(), "oci")
	if err := addLayer(rt.Dir, layout, filepath.Dir(dir), "runtime/x"); err != nil {
		t.Fatal(err)
	}
	var idx ocispecs.Index
	var mf ocispecs.Manifest
	if err := readJSON(filepath.Join(layout, "index.json"), &idx); err != nil {
		t.Fatal(err)
	}
	if err := readJSON(blobPath(layout, idx.Manifests[0]), &mf); err != nil {
		t.Fatal(err)
	}
	lf, _ := os.Open(blobPath(layout, mf.Layers[len(mf.Layers)-1]))
	defer lf.Close()
	gz, err := gzip.NewReader(lf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := list(gz), []string{"app/", "app/lib/", "app/lib/a.so", "app/lib/a.so.1"}; !slices.Equal(got, want) {
		t.Errorf("the added layer lists %q, want %q", got, want)
	}
}

// TestBenchScaleFrontend runs only this frontend's builds of the scale
// axes (cold, then nothing changed, one package added, one updated), for
// working on them: BENCH_SIZES=1gb go test -tags bench -run
// TestBenchScaleFrontend -v ./internal/bench/. It logs each build's slowest
// steps and the cached steps' spread.
func TestBenchScaleFrontend(t *testing.T) {
	ctx := context.Background()
	runs := benchRuns(t)
	e := newEnv(t)
	if err := e.prepareHostRuntime(ctx); err != nil {
		t.Fatal(err)
	}
	rt := scaleRuntime(t, e.rt, e.pristine)
	repos := scaleRepos(t, e.rpms)
	e.rt = rt
	show := func(name string) func(*result, error) *result {
		return func(r *result, err error) *result {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var cached []float64
			for _, st := range r.Steps {
				if st.Cached {
					cached = append(cached, st.End)
				}
			}
			spread := ""
			if len(cached) > 1 {
				spread = fmt.Sprintf(", %d cached steps done from %.2fs to %.2fs", len(cached), slices.Min(cached), slices.Max(cached))
			}
			logf("%s: %.2fs%s, the command's peak RSS %.0f MiB\n%s", name, r.Seconds, spread, r.RSS, r.trace.summary(12))
			logSteps(r)
			return r
		}
	}
	for _, s := range scaleSelected(t) {
		e.rpms = filepath.Join(repos, "repos", s.Name)
		a := app{ID: mainID, Packages: s.packages(), FinishArgs: baseFinishArgs}
		for range runs {
			e.mustCold(ctx)
			base := show(s.Name + " cold")(e.cliBuild(ctx, a, ""))
			show(s.Name + " noop")(e.cliBuild(ctx, a, base.OCI))
			grown := a
			grown.Packages = append(slices.Clone(a.Packages), "bench-plugin-1")
			show(s.Name + " add")(e.cliBuild(ctx, grown, base.OCI))
			e.rpms = filepath.Join(repos, "repos", s.Name+"-update")
			show(s.Name + " update")(e.cliBuild(ctx, a, base.OCI))
			e.rpms = filepath.Join(repos, "repos", s.Name)
		}
	}
}
