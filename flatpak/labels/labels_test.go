package labels

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const referenceConfig = "/work/shared/reference/flatpak-1.14-build-bundle-oci-config.json"

func readLabels(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no reference config: %v", err)
	}
	var cfg struct {
		Config struct{ Labels map[string]string }
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Config.Labels
}

// inputFor builds the Input for labels flatpak wrote, taking the values
// this package cannot know (sizes measured by ostree, commit time) from them.
func inputFor(t *testing.T, ref map[string]string, installed uint64) Input {
	ts, _ := strconv.ParseInt(ref[Timestamp], 10, 64)
	layer, _ := strconv.ParseUint(ref[DownloadSize], 10, 64)
	return Input{
		Ref:           ref[Ref],
		Metadata:      []byte(ref[Metadata]),
		InstalledSize: installed,
		DownloadSize:  0x1f6, // xa.download-size in the reference: ostree's compressed objects
		LayerSize:     layer,
		Timestamp:     time.Unix(ts, 0),
		Subject:       DefaultSubject("org.example.Hello"),
		Body:          DefaultBody(ref[Ref], "1.14.10"),
	}
}

func compare(t *testing.T, got, want map[string]string, skip ...string) {
	t.Helper()
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	for k, w := range want {
		if skipped[k] {
			continue
		}
		if g, ok := got[k]; !ok {
			t.Errorf("missing label %s=%q", k, w)
		} else if g != w {
			t.Errorf("label %s = %q, want %q", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("extra label %s=%q", k, g)
		}
	}
}

func TestReferenceApp(t *testing.T) {
	ref := readLabels(t, referenceConfig)
	// The reference app: metadata, files/bin/hello, the desktop file and
	// its exported copy, each under 512 bytes.
	in := inputFor(t, ref, InstalledSizeOf(300, 10, 100, 100))
	if err := Check(in); err != nil {
		t.Fatal(err)
	}
	compare(t, Flatpak(in), ref, "org.flatpak.commit")
}

func TestInstalledSize(t *testing.T) {
	tests := []struct {
		sizes []uint64
		want  uint64
	}{
		{nil, 0}, {[]uint64{0}, 0}, {[]uint64{1}, 512}, {[]uint64{512}, 512}, {[]uint64{513}, 1024},
		{[]uint64{1, 1, 1, 1}, 2048}, {[]uint64{1 << 40}, 1 << 40},
	}
	for _, tt := range tests {
		if got := InstalledSizeOf(tt.sizes...); got != tt.want {
			t.Errorf("InstalledSizeOf(%v) = %d, want %d", tt.sizes, got, tt.want)
		}
	}
}

func TestEndOfLife(t *testing.T) {
	l := Flatpak(Input{Ref: "app/org.example.Old/x86_64/stable", Metadata: []byte("[Application]\n"), EndOfLife: "use New", EndOfLifeRebase: "org.example.New"})
	if got, want := l[CommitMetadataPrefix+KeyEndOfLife], "dXNlIE5ldwAAcw=="; got != want { // "use New" NUL NUL s
		t.Errorf("endoflife %q, want %q", got, want)
	}
	if got, want := l[CommitMetadataPrefix+KeyEndOfLifeRebase], "YXBwL29yZy5leGFtcGxlLk5ldy94ODZfNjQvc3RhYmxlAABz"; got != want {
		t.Errorf("endoflife-rebase %q, want %q", got, want)
	}
	if _, ok := l[Timestamp]; ok {
		t.Error("zero timestamp written")
	}
}

func TestCheck(t *testing.T) {
	for _, in := range []Input{{Ref: "org.example.App"}, {Ref: "app/org.example.App/x86_64"}, {Ref: "app/a/b/c", Metadata: []byte("a\x00")}} {
		if err := Check(in); err == nil {
			t.Errorf("Check(%+v) accepted", in)
		}
	}
}

func run(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

// TestBuildExportBundleLabels builds the reference app by hand, runs the
// real build-finish, build-export and build-bundle --oci, and compares the
// bundle's labels with Flatpak() given the same metadata and sizes.
func TestBuildExportBundleLabels(t *testing.T) {
	if _, err := exec.LookPath("flatpak"); err != nil {
		t.Skip("flatpak not installed")
	}
	dir := t.TempDir()
	env := []string{"FLATPAK_USER_DIR=" + filepath.Join(dir, "user"), "FLATPAK_SYSTEM_DIR=" + filepath.Join(dir, "system")}
	app := filepath.Join(dir, "app")
	files := map[string]string{
		"files/bin/hello": "#!/bin/sh\necho hello\n",
		"files/share/applications/org.example.Hello.desktop": "[Desktop Entry]\nName=Hello\nExec=hello\nType=Application\n",
		"files/share/doc/big":                                string(make([]byte, 5000)),
		"metadata":                                           "[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n",
	}
	for p, c := range files {
		full := filepath.Join(app, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink and an empty dir, which count nothing.
	if err := os.Symlink("hello", filepath.Join(app, "files/bin/hi")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(app, "files/lib/empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, env, "flatpak", "build-finish", "--command=hello", "--share=network", "--socket=wayland", "--filesystem=home",
		"--talk-name=org.freedesktop.Notifications", "--env=FOO=bar", app)
	repo := filepath.Join(dir, "repo")
	run(t, env, "flatpak", "build-export", "--end-of-life=old", "--end-of-life-rebase=org.example.New", repo, app, "stable")
	oci := filepath.Join(dir, "oci")
	run(t, env, "flatpak", "build-bundle", "--oci", repo, oci, "org.example.Hello", "stable")

	// The config blob is the one JSON blob with a "config" member.
	var got map[string]string
	var cfgLabels map[string]string
	err := filepath.WalkDir(filepath.Join(oci, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		var cfg struct {
			Config *struct{ Labels map[string]string }
		}
		if json.Unmarshal(b, &cfg) == nil && cfg.Config != nil && cfg.Config.Labels != nil {
			cfgLabels = cfg.Config.Labels
		}
		return nil
	})
	if err != nil || cfgLabels == nil {
		t.Fatalf("no image config in %s: %v", oci, err)
	}

	// Installed size: every regular file of the commit, metadata and the
	// exported copy of the desktop file included.
	var sizes []uint64
	err = filepath.WalkDir(app, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(app, p)
		if d.Type().IsRegular() && (rel == "metadata" || strings.HasPrefix(rel, "files/") || strings.HasPrefix(rel, "export/")) {
			info, _ := d.Info()
			sizes = append(sizes, uint64(info.Size()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(app, "metadata"))
	if err != nil {
		t.Fatal(err)
	}
	in := inputFor(t, cfgLabels, InstalledSizeOf(sizes...))
	in.Metadata = md
	in.EndOfLife, in.EndOfLifeRebase = "old", "org.example.New"
	// download sizes come from the tools: ostree's compressed objects and
	// the gzip layer.
	in.DownloadSize = 0
	got = Flatpak(in)
	t.Logf("flatpak: installed-size %s, download-size %s (layer)", cfgLabels[InstalledSize], cfgLabels[DownloadSize])
	compare(t, got, cfgLabels, "org.flatpak.commit", CommitMetadataPrefix+KeyDownloadSize)
	if got[InstalledSize] != strconv.FormatUint(InstalledSizeOf(sizes...), 10) || got[InstalledSize] != cfgLabels[InstalledSize] {
		t.Errorf("installed size %s, flatpak %s", got[InstalledSize], cfgLabels[InstalledSize])
	}
}

func TestReservedAreTheLabelsTheFrontendWrites(t *testing.T) {
	for key, want := range map[string]bool{
		Ref: true, Metadata: true, CommitMetadataPrefix + KeyMetadata: true, InstalledSize: true,
		AppstreamAppdata: true, AppstreamIconPrefix + "64": true, "org.flatpak-frontend.rpms": true,
		// The build system's labels are defaults a user may set.
		Name: false, Component: false, Version: false, Release: false,
		"org.opencontainers.image.title": false, "vendor": false, "org.flatpakx": false, "org.flatpak": false,
	} {
		if got := Reserved(key); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", key, got, want)
		}
	}
}
