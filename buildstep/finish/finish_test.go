package finish

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/contentid"
	"golang.org/x/sys/unix"
)

func TestFinishAppLikeFlatpakBuilder(t *testing.T) {
	root := t.TempDir()
	put := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	put("bin/viewer", "#!/bin/sh\n", 0o4711)
	put("share/applications/viewer.desktop", "[Desktop Entry]\n# keep me\nName=Viewer\nName[de]=Betrachter\nIcon=viewer\nExec=viewer\n", 0o600)
	put("share/metainfo/viewer.appdata.xml", "<component>\n  <id>viewer.desktop</id>\n  <launchable type=\"desktop-id\">viewer.desktop</launchable>\n  <project_license>old</project_license>\n</component>\n", 0o644)
	put("share/icons/hicolor/64x64/apps/viewer.png", "png", 0o644)
	put("share/icons/hicolor/symbolic/apps/viewer-symbolic.svg", "svg", 0o644)
	put("share/icons/hicolor/64x64/apps/viewerish.png", "not ours", 0o644)
	// Python byte code valid for its source, and one that is not.
	put("lib/python/mod.py", "x = 1\n", 0o644)
	src, _ := os.Stat(filepath.Join(root, "lib/python/mod.py"))
	pyc := make([]byte, 20)
	binary.LittleEndian.PutUint16(pyc, 3531)
	binary.LittleEndian.PutUint32(pyc[8:], uint32(src.ModTime().Unix()))
	binary.LittleEndian.PutUint32(pyc[12:], uint32(src.Size()))
	put("lib/python/__pycache__/mod.cpython-313.pyc", string(pyc), 0o644)
	stale := append([]byte(nil), pyc...)
	binary.LittleEndian.PutUint32(stale[8:], 12345)
	put("lib/python/__pycache__/other.cpython-313.pyc", string(stale), 0o644)
	put("lib/python/other.py", "y = 2\n", 0o644)
	if err := syscall.Mkfifo(filepath.Join(root, "share/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file capability, as rpm sets one for %caps(cap_net_raw=ep): a
	// VFS_CAP_REVISION_2 record, permitted and effective CAP_NET_RAW (13).
	caps := make([]byte, 20)
	binary.LittleEndian.PutUint32(caps, 0x02000001)
	binary.LittleEndian.PutUint32(caps[4:], 1<<13)
	if err := unix.Setxattr(filepath.Join(root, "bin/viewer"), "security.capability", caps, 0); err != nil {
		t.Fatalf("set a file capability (the tests run as root): %v", err)
	}

	cfg := &buildstep.FinishConfig{Root: root, Kind: buildstep.KindApp, App: &buildstep.AppFinish{
		ID: "org.example.Viewer", RenameDesktopFile: "viewer.desktop", RenameIcon: "viewer",
		RenameAppdataFile: "viewer.appdata.xml", DesktopFileNamePrefix: "(Test) ", AppdataLicense: "MIT",
	}}
	if err := Run(t.Context(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	read := func(rel string) string {
		dt, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Error(err)
		}
		return string(dt)
	}
	if got, want := read("share/applications/org.example.Viewer.desktop"), "[Desktop Entry]\n# keep me\nName=(Test) Viewer\nName[de]=(Test) Betrachter\nIcon=org.example.Viewer\nExec=viewer\nX-Flatpak-RenamedFrom=viewer.desktop;\n"; got != want {
		t.Errorf("desktop file:\n%s\nwant\n%s", got, want)
	}
	if got := read("share/metainfo/org.example.Viewer.metainfo.xml"); !strings.Contains(got, "<id>org.example.Viewer</id>") || !strings.Contains(got, "<provides><id>viewer.desktop</id></provides>") ||
		!strings.Contains(got, `<launchable type="desktop-id">org.example.Viewer.desktop</launchable>`) || !strings.Contains(got, "<project_license>MIT</project_license>") {
		t.Errorf("metainfo:\n%s", got)
	}
	for _, rel := range []string{"share/icons/hicolor/64x64/apps/org.example.Viewer.png", "share/icons/hicolor/symbolic/apps/org.example.Viewer-symbolic.svg", "share/icons/hicolor/64x64/apps/viewerish.png"} {
		if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
			t.Errorf("icon: %v", err)
		}
	}
	if got := binary.LittleEndian.Uint32([]byte(read("lib/python/__pycache__/mod.cpython-313.pyc"))[8:]); got != 0 {
		t.Errorf("valid byte code keeps mtime %d, want 0", got)
	}
	if got := binary.LittleEndian.Uint32([]byte(read("lib/python/__pycache__/other.cpython-313.pyc"))[8:]); got != 12345 {
		t.Errorf("stale byte code changed: %d", got)
	}
	for rel, want := range map[string]os.FileMode{"bin/viewer": 0o755, "share/applications/org.example.Viewer.desktop": 0o644, "share": 0o755 | os.ModeDir} {
		fi, err := os.Stat(filepath.Join(root, rel))
		if err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v (%v)", rel, fi.Mode(), want, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "share/fifo")); !os.IsNotExist(err) {
		t.Error("the FIFO is still there")
	}
	if _, err := unix.Lgetxattr(filepath.Join(root, "bin/viewer"), "security.capability", nil); err != unix.ENODATA {
		t.Errorf("bin/viewer keeps its file capability (%v)", err)
	}
	rep := readReport(t, root)
	seen := map[string]buildstep.Entry{}
	for _, e := range rep.Entries {
		seen[e.Path] = e
		if strings.HasPrefix(e.Path, ".flatpak-frontend") {
			t.Errorf("the report lists its own folder: %s", e.Path)
		}
	}
	if e := seen["bin/viewer"]; e.Type != 'f' || e.Size != 10 {
		t.Errorf("bin/viewer listed as %+v", e)
	}
	if e := seen["share"]; e.Type != 'd' {
		t.Errorf("share listed as %+v", e)
	}
}

func TestFinishRefusesToEditASymlink(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "share/applications"), 0o755)
	target := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(target, []byte("[Desktop Entry]\nName=x\n"), 0o644)
	os.Symlink(target, filepath.Join(root, "share/applications/org.example.App.desktop"))
	cfg := &buildstep.FinishConfig{Root: root, Kind: buildstep.KindApp, App: &buildstep.AppFinish{ID: "org.example.App", DesktopFileNamePrefix: "x"}}
	err := Run(t.Context(), cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "refusing to edit") {
		t.Errorf("err = %v", err)
	}
	if dt, _ := os.ReadFile(target); string(dt) != "[Desktop Entry]\nName=x\n" {
		t.Errorf("the file outside was edited: %q", dt)
	}
}

// TestFinishReportsTheKeyAtFault: a value that names what the tree does
// not hold fails naming its key; with ReportFailure the finishing writes
// that to its report instead, and succeeds.
func TestFinishReportsTheKeyAtFault(t *testing.T) {
	for _, tc := range []struct {
		key string
		app buildstep.AppFinish
	}{
		{"rename-icon", buildstep.AppFinish{RenameIcon: "no-such-icon"}},
		{"rename-desktop-file", buildstep.AppFinish{RenameDesktopFile: "no-such.desktop"}},
		{"rename-appdata-file", buildstep.AppFinish{RenameAppdataFile: "no-such.appdata.xml"}},
		{"rename-mime-file", buildstep.AppFinish{RenameMimeFile: "no-such.xml"}},
		{"rename-mime-icons", buildstep.AppFinish{RenameMimeIcons: []string{"no-such-mime-icon"}}},
		{"desktop-file-name-suffix", buildstep.AppFinish{DesktopFileNameSuffix: " (dev)"}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "share/icons/hicolor/48x48/apps"), 0o755)
			os.MkdirAll(filepath.Join(root, "share/mime/packages"), 0o755)
			os.WriteFile(filepath.Join(root, "share/mime/packages/org.example.App.xml"), []byte("<mime-info/>"), 0o644)
			app := tc.app
			app.ID = "org.example.App"
			cfg := &buildstep.FinishConfig{Root: root, Prefix: "/app", Kind: buildstep.KindApp, App: &app}
			err := Run(t.Context(), cfg, io.Discard)
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key != tc.key || !strings.HasPrefix(err.Error(), tc.key+": ") {
				t.Fatalf("err = %v, want one of key %s", err, tc.key)
			}
			// Files are named as the app sees them, not where the step
			// finishes them.
			if msg := err.Error(); strings.Contains(msg, root) || !strings.Contains(msg, " /app/share/") {
				t.Errorf("err = %v, want it to name files below /app", err)
			}
			cfg.ReportFailure = true
			if err := Run(t.Context(), cfg, io.Discard); err != nil {
				t.Fatalf("reporting the failure: %v", err)
			}
			if f := readReport(t, root).Failure; f == nil || f.Key != tc.key || f.Message != ke.Error() {
				t.Errorf("report's failure %+v, want key %s and message %q", f, tc.key, ke.Error())
			}
		})
	}
}

func TestFinishRuntime(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/bin", "usr/lib/sysimage/rpm", "etc/yum.repos.d", "var/lib"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "usr/lib/sysimage/rpm/rpmdb.sqlite"), []byte("db"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/yum.repos.d/build.repo"), []byte("[x]"), 0o644)
	os.WriteFile(filepath.Join(root, "usr/bin/tool"), []byte("x"), 0o700)
	cfg := &buildstep.FinishConfig{Root: root, Kind: buildstep.KindRuntime}
	if err := Run(t.Context(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/yum.repos.d/build.repo")); !os.IsNotExist(err) {
		t.Error("the build's repo file is still there")
	}
	rep := readReport(t, root)
	for _, e := range rep.Entries {
		if !strings.HasPrefix(e.Path, "usr") && !strings.HasPrefix(e.Path, "etc") {
			t.Errorf("listed %s, outside usr/ and etc/", e.Path)
		}
	}
	os.MkdirAll(filepath.Join(root, "usr/etc"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/etc/x.conf"), nil, 0o644)
	if err := Run(t.Context(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "/usr/etc/x.conf") {
		t.Errorf("files in /usr/etc: %v", err)
	}
	os.RemoveAll(filepath.Join(root, "usr/etc"))
	os.RemoveAll(filepath.Join(root, "usr/lib/sysimage/rpm"))
	if err := Run(t.Context(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "rpm database") {
		t.Errorf("no rpm database: %v", err)
	}
}

// The content id is the digest of the finished tree, as read from disk,
// although the install's verified report lists files that cleanup-commands
// and the finishing then changed; cleanup-commands' change is seen too.
func TestFinishWritesTheContentIDOfTheFinishedTree(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	reports := filepath.Join(root, buildstep.ReportDir)
	var rep buildstep.InstallReport
	var verified []buildstep.VerifiedFile
	put := func(rel, content string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		f := buildstep.PackagedFile{Package: "viewer", Path: "/app/" + rel, Mode: 0o100644, Size: int64(len(content)),
			DigestAlgo: buildstep.DigestSHA256, Digest: hex.EncodeToString(sum[:])}
		rep.Files = append(rep.Files, f)
		fi, _ := os.Lstat(p)
		stamp, _ := buildstep.StampOf(fi)
		verified = append(verified, buildstep.VerifiedFile{Path: f.Path, DigestAlgo: f.DigestAlgo, Digest: f.Digest, Stamp: stamp})
	}
	put("bin/viewer", "#!/bin/sh\n")
	put("share/applications/viewer.desktop", "[Desktop Entry]\nName=Viewer\nIcon=viewer\nExec=viewer\n")
	put("share/viewer/data", "data")
	os.MkdirAll(reports, 0o755)
	os.WriteFile(filepath.Join(reports, buildstep.InstallReportFile), rep.Encode(), 0o644)
	os.WriteFile(filepath.Join(reports, buildstep.VerifiedReportFile), buildstep.EncodeVerified(verified), 0o644)
	// What cleanup-commands did: same size, same mtime.
	p := filepath.Join(root, "share/viewer/data")
	fi, _ := os.Stat(p)
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(p, []byte("DATA"), 0o644)
	os.Chtimes(p, fi.ModTime(), fi.ModTime())

	cfg := &buildstep.FinishConfig{Root: root, Prefix: "/app", Kind: buildstep.KindApp, CleanupCommands: true, ContentIDOut: out,
		App: &buildstep.AppFinish{ID: "org.example.Viewer", RenameDesktopFile: "viewer.desktop", DesktopFileNamePrefix: "(Test) "}}
	if err := Run(t.Context(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	frep := readReport(t, root)
	if len(frep.Changes) != 1 || frep.Changes[0].Path != "/app/share/viewer/data" || frep.Changes[0].What != "changed" {
		t.Errorf("cleanup changes: %+v, want share/viewer/data changed", frep.Changes)
	}
	got, err := os.ReadFile(filepath.Join(out, buildstep.ContentIDFile))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := contentid.Tree(root, buildstep.ReportDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := sum.ID
	if string(got) != want+"\n" || len(got) != buildstep.ContentIDFileSize {
		t.Errorf("content id %q, want %q (the tree as read)", got, want)
	}
}

// readReport reads the finish report of the tree at root.
func readReport(t *testing.T, root string) *buildstep.FinishReport {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join(root, buildstep.ReportDir, buildstep.FinishReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := buildstep.ParseFinishReport(dt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
