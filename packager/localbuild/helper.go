package localbuild

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/frontend"
	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"
)

// HelperEnv names a flatpak-frontend binary for the build steps when
// Options.Helper is empty (tests set it: a test binary is not one).
const HelperEnv = "FLATPAK_FRONTEND_HELPER"

// HelperContext is the name of the local context holding the helper.
const HelperContext = "flatpak-frontend-helper"

// Helper is the binary the build steps run: a local folder the session
// sends as HelperContext, and how to run it.
type Helper struct {
	FS   fsutil.FS
	Spec fllb.Helper
}

// Frontend are the frontend's in-process settings that use the helper.
func (h *Helper) Frontend() frontend.Options {
	return frontend.Options{Helper: &h.Spec}
}

// NewHelper prepares exe (this program, unless told otherwise) to run
// inside build steps. What is sent is a copy without its debug information
// (a third of the binary, sent by every build on a daemon that does not
// have it yet), made once in the tool's cache folder. A dynamically linked
// binary (go install with cgo on, the default where a C compiler is
// installed) is sent with its loader and libraries and run through that
// loader, so it needs nothing from the image the step runs in.
func NewHelper(exe string) (*Helper, error) {
	if exe == "" {
		exe = os.Getenv(HelperEnv)
	}
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	exe, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return nil, err
	}
	interp, err := interpreter(exe)
	if err != nil {
		return nil, fmt.Errorf("the helper binary %s: %w", exe, err)
	}
	// A unique ID of its own, the binary's digest: without one, BuildKit
	// makes a new one each time the state is marshalled, so the steps'
	// definitions would differ between the frontend's solves and between
	// builds, and a build cache exported to a registry would not match
	// the next runner's.
	sum, err := exeDigest(exe)
	if err != nil {
		return nil, err
	}
	dir, name := filepath.Dir(exe), filepath.Base(exe)
	if b, err := bundle(exe, sum, interp); err == nil {
		dir, name = b, bundledName
	} else if interp != "" {
		return nil, fmt.Errorf("bundle the helper binary %s with its libraries: %w", exe, err)
	}
	// (A static binary whose copy cannot be made is sent as it is.)
	args := []string{name}
	if interp != "" {
		args = []string{"lib/" + filepath.Base(interp), "--library-path", "lib", name}
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	include := []string{name}
	if interp != "" {
		include = append(include, "lib")
	}
	st := llb.Local(HelperContext, llb.FollowPaths(include), llb.SharedKeyHint(dir), llb.LocalUniqueID("flatpak-frontend-helper-"+sum),
		llb.WithCustomName("[internal] load the flatpak-frontend binary the build steps run"))
	return &Helper{FS: fs, Spec: fllb.Helper{State: st, Args: args}}, nil
}

// interpreter is the ELF interpreter (dynamic loader) exe asks for, "" for
// a static binary.
func interpreter(exe string) (string, error) {
	f, err := elf.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			dt, err := io.ReadAll(p.Open())
			if err != nil {
				return "", err
			}
			return strings.TrimRight(string(dt), "\x00"), nil
		}
	}
	return "", nil
}

// bundle writes exe without its debug information (stripELF, or a plain
// copy where that cannot be done) and, for a dynamically linked one (interp
// its loader), the loader and the libraries it resolves for exe, into a
// folder of the tool's cache named by exe's digest sum, and returns the
// folder: NAME and lib/.
// bundledName is the binary's name in a bundle: the same whatever the
// binary's own (a bundle is found by the binary's digest, and copies of one
// binary may be named differently).
const bundledName = "flatpak-frontend"

func bundle(exe, sum, interp string) (string, error) {
	cache, err := helperCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, sum[:16]+"-bundle")
	if fi, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		markUsed(filepath.Join(dir, "complete"), fi)
		return dir, nil
	}
	var libs []string
	if interp != "" {
		// The loader lists what it would load: "name => /path (0x...)".
		out, err := exec.Command(interp, "--list", exe).Output()
		if err != nil {
			return "", fmt.Errorf("%s --list %s: %w", interp, exe, err)
		}
		libs = []string{interp}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "=> "); ok {
				if p := strings.Fields(rest); len(p) > 0 && filepath.IsAbs(p[0]) {
					libs = append(libs, p[0])
				}
			}
		}
	}
	// Builds starting at once each write a folder of their own; the first
	// complete one is used.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Mkdir(filepath.Join(tmp, "lib"), 0o755); err != nil {
		return "", err
	}
	if err := stripELF(exe, filepath.Join(tmp, bundledName)); err != nil {
		if err := copyFile(exe, filepath.Join(tmp, bundledName)); err != nil {
			return "", err
		}
	}
	for _, l := range libs {
		if err := copyFile(l, filepath.Join(tmp, "lib", filepath.Base(l))); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
		return "", err
	}
	// The folder appears whole, by a rename, or not at all. One without
	// its mark is what a removal stopped half way left: it goes.
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "complete")); serr == nil {
			return dir, nil
		}
		if rerr := os.RemoveAll(dir); rerr != nil {
			return "", err
		}
		if err := os.Rename(tmp, dir); err != nil {
			if _, serr := os.Stat(filepath.Join(dir, "complete")); serr == nil {
				return dir, nil
			}
			return "", err
		}
	}
	// A new binary (an upgrade, a developer's rebuild) leaves the old
	// ones' bundles, tens of megabytes each, behind.
	pruneBundles(filepath.Dir(dir), time.Now())
	return dir, nil
}

// Bundles kept by pruneBundles: the keptBundles last used, and any used
// within bundleInUse (a build that started with it may be sending it).
const (
	keptBundles = 3
	bundleInUse = time.Hour
	// memoAge is the age at which a digest memo is removed (its binary
	// is read again if it is still there).
	memoAge = 30 * 24 * time.Hour
)

// markUsed records a bundle's use in the mtime of its "complete" file (fi
// its stat), at most once per bundleInUse.
func markUsed(complete string, fi os.FileInfo) {
	if now := time.Now(); now.Sub(fi.ModTime()) > bundleInUse/4 {
		_ = os.Chtimes(complete, now, now)
	}
}

// pruneBundles removes from the helper cache dir the bundles neither among
// the keptBundles last used nor used within bundleInUse, folders that
// builds stopped while writing them left, and digest memos older than
// memoAge. What cannot be removed stays: this only saves space.
func pruneBundles(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type used struct {
		path string
		at   time.Time
	}
	var bundles []used
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), "-bundle"):
			if fi, err := os.Stat(filepath.Join(p, "complete")); err == nil {
				bundles = append(bundles, used{p, fi.ModTime()})
			} else if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > bundleInUse {
				// Without its mark: a removal stopped half way.
				_ = os.RemoveAll(p)
			}
		case strings.Contains(e.Name(), "-bundle.tmp-"), strings.HasPrefix(e.Name(), "sum-"):
			age := bundleInUse
			if strings.HasPrefix(e.Name(), "sum-") {
				age = memoAge
			}
			if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > age {
				_ = os.RemoveAll(p)
			}
		}
	}
	slices.SortFunc(bundles, func(a, b used) int { return b.at.Compare(a.at) })
	for i, b := range bundles {
		if i >= keptBundles && now.Sub(b.at) > bundleInUse {
			// The mark goes first: a bundle is used only when marked
			// complete, so a removal stopped half way leaves no bundle
			// that looks whole.
			if err := os.Remove(filepath.Join(b.path, "complete")); err == nil {
				_ = os.RemoveAll(b.path)
			}
		}
	}
}

// helperCacheDir is where bundles and digest memos are kept: "helper" in
// the tool's cache folder.
func helperCacheDir() (string, error) {
	cache, err := buildkitd.DefaultCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "helper"), nil
}

// copyFile copies a file's content (following symlinks) with mode 0755.
func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// exeDigest is fileDigest of exe, kept in the tool's cache under the
// file's path and inode stamp (buildstep.Stamp: any write, rename or copy
// changes it), so that each build does not read the binary again (tens of
// milliseconds, a fifth of a rebuild that changes nothing).
func exeDigest(exe string) (string, error) {
	fi, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	stamp, ok := buildstep.StampOf(fi)
	cache, cerr := helperCacheDir()
	if !ok || cerr != nil {
		return fileDigest(exe)
	}
	key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%d\x00%d", exe, stamp.Ino, stamp.Size, stamp.Mtime, stamp.Ctime))
	memo := filepath.Join(cache, "sum-"+hex.EncodeToString(key[:16]))
	if dt, err := os.ReadFile(memo); err == nil && len(dt) == sha256.Size*2 {
		if _, err := hex.DecodeString(string(dt)); err == nil {
			return string(dt), nil
		}
	}
	sum, err := fileDigest(exe)
	if err != nil {
		return "", err
	}
	// Written whole by a rename, or not at all; a failure only costs the
	// next build the reading.
	if err := os.MkdirAll(filepath.Dir(memo), 0o755); err == nil {
		if f, err := os.CreateTemp(filepath.Dir(memo), filepath.Base(memo)+".tmp-"); err == nil {
			_, werr := f.WriteString(sum)
			if cerr := f.Close(); werr == nil && cerr == nil {
				os.Rename(f.Name(), memo)
			}
			os.Remove(f.Name())
		}
	}
	return sum, nil
}

// fileDigest is the hex SHA-256 of a file.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
