package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The foreign-architecture fixtures: an aarch64 twin of the test runtime,
// the two as one multi-platform image, and an app RPM built for each
// architecture around a real binary of it.

// foreignRecipe changes whenever the way these fixtures are built changes.
const foreignRecipe = "foreign v2"

var (
	arm64Runtime fixture
	multiRuntime fixture
	nativeRPMs   fixture
)

// Arm64RuntimeRef is the aarch64 test runtime's Flatpak ref.
const Arm64RuntimeRef = "runtime/" + RuntimeID + "/aarch64/" + RuntimeBranch

// NativeSpec is the flatpak.yaml of hello-native, with the RPMs of
// [NativeRPMRepo] as the build context rpms.
const NativeSpec = `id: org.example.Native
branch: stable
runtime-name: org.example.Platform
runtime-version: "1"
command: hello-native
packages:
  - hello-native
repos:
  - name: native
    context: rpms
    path: .
`

// NativeOutput is what hello-native prints, after "on ": GOARCH.
const NativeOutput = "Hello from org.example.Native on "

// Arm64Runtime is the test runtime for aarch64: the same recipe on a root
// made by debootstrap's first stage for arm64 (it unpacks, which needs no
// aarch64 CPU; nothing is configured), its rpmdb written by the host's rpm.
func Arm64Runtime(t testing.TB) RuntimeImage {
	t.Helper()
	return arm64Runtime.runtime(t, arm64RuntimeKey, buildArm64Runtime)
}

// MultiArchRuntime is one OCI layout whose index.json names an image index
// of the x86_64 and aarch64 test runtimes, as a registry would serve it.
func MultiArchRuntime(t testing.TB) string {
	t.Helper()
	amd := Runtime(t)
	arm := Arm64Runtime(t)
	dir := multiRuntime.get(t, func() (string, string, error) {
		return "multi-runtime", hashOf([]byte(foreignRecipe), []byte(amd.Digest), []byte(arm.Digest)), nil
	}, func(ctx context.Context, dir string) error {
		return mergeLayouts(filepath.Join(dir, "oci"), []string{amd.Dir, arm.Dir},
			[]ocispecs.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}})
	})
	return filepath.Join(dir, "oci")
}

// NativeRPMRepo is a repo of hello-native for x86_64 and aarch64.
func NativeRPMRepo(t testing.TB) string {
	t.Helper()
	return nativeRPMs.get(t, nativeKey, buildNativeRPMs)
}

func arm64RuntimeKey() (string, string, error) {
	_, rt, err := runtimeKey()
	if err != nil {
		return "", "", err
	}
	return "arm64-runtime", hashOf([]byte(foreignRecipe), []byte(rt)), nil
}

func buildArm64Runtime(ctx context.Context, dir string) error {
	root := filepath.Join(dir, "root")
	if _, err := run(ctx, nil, "", "debootstrap", "--foreign", "--arch=arm64", "--variant=minbase",
		"--include=dnf,rpm", "bookworm", root, debianMirror()); err != nil {
		return err
	}
	defer removeAll(root)
	// The first stage unpacks only the essential packages and leaves the
	// rest (dnf, rpm and theirs) downloaded for the second, which would
	// run aarch64 code: unpack them all with the host's dpkg-deb.
	debs, _ := filepath.Glob(filepath.Join(root, "var", "cache", "apt", "archives", "*.deb"))
	if len(debs) == 0 {
		return fmt.Errorf("debootstrap --foreign left no packages in %s/var/cache/apt/archives", root)
	}
	for _, deb := range debs {
		if _, err := run(ctx, nil, "", "dpkg-deb", "-x", deb, root); err != nil {
			return err
		}
	}
	return buildRuntimeFrom(ctx, dir, root, "aarch64")
}

func nativeSources() (main, spec []byte, err error) {
	td, err := testdataDir()
	if err != nil {
		return nil, nil, err
	}
	if main, err = os.ReadFile(filepath.Join(td, "native", "main.go")); err != nil {
		return nil, nil, err
	}
	spec, err = os.ReadFile(filepath.Join(td, "native", "hello-native.spec"))
	return main, spec, err
}

func nativeKey() (string, string, error) {
	main, spec, err := nativeSources()
	if err != nil {
		return "", "", err
	}
	return "native-rpms", hashOf([]byte(foreignRecipe), main, spec), nil
}

// buildNativeRPMs compiles main.go for each architecture (a static Go
// binary) and packs it with rpmbuild --target, then makes the repo.
func buildNativeRPMs(ctx context.Context, dir string) error {
	td, err := testdataDir()
	if err != nil {
		return err
	}
	top, err := os.MkdirTemp("", "rpmbuild-native-")
	if err != nil {
		return err
	}
	defer removeAll(top)
	for _, a := range []struct{ goarch, rpmArch string }{{"amd64", "x86_64"}, {"arm64", "aarch64"}} {
		sources := filepath.Join(top, a.rpmArch, "SOURCES")
		if err := os.MkdirAll(sources, 0o755); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(sources, "hello-native"), filepath.Join(td, "native", "main.go"))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+a.goarch, "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build hello-native for %s: %v\n%s", a.goarch, err, out)
		}
		if _, err := run(ctx, nil, top, "rpmbuild", "-bb", "--nodeps", "--target", a.rpmArch,
			"--define", "_topdir "+filepath.Join(top, a.rpmArch),
			"--define", "_build_id_links none",
			filepath.Join(td, "native", "hello-native.spec")); err != nil {
			return err
		}
		built, _ := filepath.Glob(filepath.Join(top, a.rpmArch, "RPMS", "*", "*.rpm"))
		if len(built) != 1 {
			return fmt.Errorf("rpmbuild --target %s made %d RPMs", a.rpmArch, len(built))
		}
		if err := moveFile(built[0], filepath.Join(dir, filepath.Base(built[0]))); err != nil {
			return err
		}
	}
	_, err = run(ctx, nil, dir, "createrepo_c", "--no-database", dir)
	return err
}

// mergeLayouts writes an OCI layout at out holding the one image of each
// of srcs, under an image index that gives each its platform.
func mergeLayouts(out string, srcs []string, plats []ocispecs.Platform) error {
	if err := os.MkdirAll(filepath.Join(out, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	idx := ocispecs.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispecs.MediaTypeImageIndex}
	for i, src := range srcs {
		blobs, _ := filepath.Glob(filepath.Join(src, "blobs", "sha256", "*"))
		for _, b := range blobs {
			dst := filepath.Join(out, "blobs", "sha256", filepath.Base(b))
			if _, err := os.Stat(dst); err == nil {
				continue
			}
			if err := os.Link(b, dst); err != nil {
				if _, err := run(context.Background(), nil, "", "cp", b, dst); err != nil {
					return err
				}
			}
		}
		si, err := readIndex(src)
		if err != nil {
			return err
		}
		if len(si.Manifests) != 1 {
			return fmt.Errorf("%s: want one image, have %d", src, len(si.Manifests))
		}
		d := si.Manifests[0]
		p := plats[i]
		d.Platform = &p
		idx.Manifests = append(idx.Manifests, d)
	}
	dt, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	dgst := digest.FromBytes(dt)
	if err := os.WriteFile(filepath.Join(out, "blobs", "sha256", dgst.Encoded()), dt, 0o644); err != nil {
		return err
	}
	top := ocispecs.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispecs.MediaTypeImageIndex,
		Manifests: []ocispecs.Descriptor{{MediaType: ocispecs.MediaTypeImageIndex, Digest: dgst, Size: int64(len(dt))}}}
	tdt, err := json.Marshal(top)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "index.json"), tdt, 0o644)
}
