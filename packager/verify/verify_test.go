package verify_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/packager/verify"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const testMetadata = "[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\ncommand=hello\n"

// file is one tar entry of a test image.
type file struct {
	name     string
	typ      byte
	mode     int64
	uid, gid int
	body     string
	link     string
}

func reg(name string, mode int64, body string) file {
	return file{name: name, typ: tar.TypeReg, mode: mode, body: body}
}
func dir(name string) file { return file{name: name, typ: tar.TypeDir, mode: 0o755} }

// testImage is a valid app image that tests break one way at a time.
type testImage struct {
	ref      string
	metadata string
	files    []file
	labels   map[string]string
	refName  *string
	arch     string
}

func validApp() *testImage {
	img := &testImage{
		ref:      "app/org.example.Hello/x86_64/stable",
		metadata: testMetadata,
		arch:     "amd64",
		files: []file{
			dir("files"), dir("files/bin"), reg("files/bin/hello", 0o755, "#!/bin/sh\necho hi\n"),
			dir("export"), dir("export/share"), dir("export/share/applications"),
			reg("export/share/applications/org.example.Hello.desktop", 0o644, "[Desktop Entry]\n"),
			{name: "files/share/x", typ: tar.TypeSymlink, mode: 0o777, link: "/app/bin/hello"},
		},
	}
	return img
}

// write writes the image as an OCI layout and returns its directory.
func (img *testImage) write(t *testing.T) string {
	t.Helper()
	files := append([]file{reg("metadata", 0o644, img.metadata)}, img.files...)
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	var sizes []uint64
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: f.mode, Uid: f.uid, Gid: f.gid, Linkname: f.link, Size: int64(len(f.body)), Format: tar.FormatPAX}
		if f.typ != tar.TypeReg {
			h.Size = 0
		} else {
			sizes = append(sizes, uint64(len(f.body)))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if f.typ == tar.TypeReg {
			tw.Write([]byte(f.body))
		}
	}
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()

	l := labels.Flatpak(labels.Input{Ref: img.ref, Metadata: []byte(img.metadata), InstalledSize: labels.InstalledSizeOf(sizes...), DownloadSize: 1000})
	for k, v := range img.labels {
		if v == "<delete>" {
			delete(l, k)
		} else {
			l[k] = v
		}
	}
	dirPath := t.TempDir()
	put := func(dt []byte) digest.Digest {
		d := digest.FromBytes(dt)
		p := filepath.Join(dirPath, "blobs", "sha256", d.Encoded())
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, dt, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	cfg := ocispecs.Image{
		Platform: ocispecs.Platform{Architecture: img.arch, OS: "linux"},
		Config:   ocispecs.ImageConfig{Labels: l},
		RootFS:   ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(raw.Bytes())}},
	}
	cfgBytes, _ := json.Marshal(cfg)
	mf := ocispecs.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispecs.MediaTypeImageManifest,
		Config:    ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageConfig, Digest: put(cfgBytes), Size: int64(len(cfgBytes))},
		Layers:    []ocispecs.Descriptor{{MediaType: ocispecs.MediaTypeImageLayerGzip, Digest: put(gz.Bytes()), Size: int64(gz.Len())}},
	}
	mfBytes, _ := json.Marshal(mf)
	name := img.ref
	if img.refName != nil {
		name = *img.refName
	}
	desc := ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageManifest, Digest: put(mfBytes), Size: int64(len(mfBytes))}
	if name != "" {
		desc.Annotations = map[string]string{ocispecs.AnnotationRefName: name}
	}
	idx, _ := json.Marshal(ocispecs.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{desc}})
	os.WriteFile(filepath.Join(dirPath, "index.json"), idx, 0o644)
	os.WriteFile(filepath.Join(dirPath, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return dirPath
}

func check(t *testing.T, dir string) []string {
	t.Helper()
	rep, err := verify.Check(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range rep.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestValidAppPasses(t *testing.T) {
	if p := check(t, validApp().write(t)); len(p) > 0 {
		t.Fatalf("problems in a valid image:\n%s", strings.Join(p, "\n"))
	}
}

// TestAnyRefNameImports: buildctl and buildx name the image of an OCI
// layout "latest"; flatpak build-import-bundle --oci takes it all the same.
func TestAnyRefNameImports(t *testing.T) {
	img := validApp()
	latest := "latest"
	img.refName = &latest
	if p := check(t, img.write(t)); len(p) > 0 {
		t.Fatalf("problems in an image named %q:\n%s", latest, strings.Join(p, "\n"))
	}
}

// TestBrokenImagesNameTheirProblem breaks a valid image one way at a time;
// verify must report that problem and where it is.
func TestBrokenImagesNameTheirProblem(t *testing.T) {
	empty := ""
	other := "app/org.example.Other/x86_64/stable"
	tests := []struct {
		name   string
		break_ func(*testImage)
		want   []string
	}{
		{"xa.metadata differs", func(i *testImage) {
			l := labels.Flatpak(labels.Input{Ref: i.ref, Metadata: []byte(i.metadata + "\n[Context]\nshared=network;\n")})
			i.labels = map[string]string{"org.flatpak.commit-metadata.xa.metadata": l["org.flatpak.commit-metadata.xa.metadata"]}
		}, []string{"label org.flatpak.commit-metadata.xa.metadata", "differs from org.flatpak.metadata"}},
		{"metadata label differs from the file", func(i *testImage) {
			i.labels = map[string]string{"org.flatpak.metadata": i.metadata + "x=y\n"}
		}, []string{"metadata: the file", "byte-identical"}},
		{"xa.ref differs", func(i *testImage) {
			l := labels.Flatpak(labels.Input{Ref: other})
			i.labels = map[string]string{"org.flatpak.commit-metadata.xa.ref": l["org.flatpak.commit-metadata.xa.ref"]}
		}, []string{"xa.ref", other}},
		{"xa.metadata missing", func(i *testImage) {
			i.labels = map[string]string{"org.flatpak.commit-metadata.xa.metadata": "<delete>"}
		}, []string{"label org.flatpak.commit-metadata.xa.metadata: missing"}},
		{"commit metadata not GVariant", func(i *testImage) {
			i.labels = map[string]string{"org.flatpak.commit-metadata.xa.ref": "aGVsbG8="}
		}, []string{"xa.ref", "GVariant"}},
		{"installed size wrong", func(i *testImage) {
			i.labels = map[string]string{"org.flatpak.installed-size": "1"}
		}, []string{"org.flatpak.installed-size", "is 1"}},
		{"owner", func(i *testImage) {
			i.files = append(i.files, file{name: "files/bin/mine", typ: tar.TypeReg, mode: 0o755, uid: 1000, gid: 1000})
		}, []string{"files/bin/mine", "owned by 1000:1000"}},
		{"setuid", func(i *testImage) {
			i.files = append(i.files, reg("files/bin/su", 0o4755, ""))
		}, []string{"files/bin/su", "setuid"}},
		{"group-writable", func(i *testImage) {
			i.files = append(i.files, reg("files/share/w", 0o664, ""))
		}, []string{"files/share/w", "0664"}},
		{"device", func(i *testImage) {
			i.files = append(i.files, file{name: "files/dev/null", typ: tar.TypeChar, mode: 0o644})
		}, []string{"files/dev/null", "character device"}},
		{"whiteout", func(i *testImage) {
			i.files = append(i.files, reg("files/share/.wh.gone", 0o644, ""))
		}, []string{"files/share/.wh.gone", "whiteout"}},
		{"entry outside files", func(i *testImage) {
			i.files = append(i.files, dir("usr"), reg("etc/passwd", 0o644, "root:x:0:0::/:/bin/sh\n"))
		}, []string{"usr: is a runtime's container entry", "etc/passwd: is outside files/"}},
		{"dot-dot", func(i *testImage) {
			i.files = append(i.files, reg("files/../../evil", 0o644, ""))
		}, []string{"files/../../evil", "'..'"}},
		{"export name", func(i *testImage) {
			i.files = append(i.files, reg("export/share/applications/org.example.HelloWorld.desktop", 0o644, ""),
				reg("export/share/applications/evil.desktop", 0o644, ""))
		}, []string{"export/share/applications/org.example.HelloWorld.desktop: exported file name does not start", "export/share/applications/evil.desktop: exported"}},
		{"no ref.name", func(i *testImage) { i.refName = &empty }, []string{"index.json", "no org.opencontainers.image.ref.name"}},
		{"metadata names another app", func(i *testImage) {
			i.metadata = strings.Replace(i.metadata, "name=org.example.Hello", "name=org.example.Other", 1)
		}, []string{"[Application] name is \"org.example.Other\""}},
		{"architecture", func(i *testImage) { i.arch = "arm64" }, []string{"architecture x86_64", "arm64"}},
		{"no files", func(i *testImage) {
			i.files = []file{dir("export")}
		}, []string{"files/: missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := validApp()
			tt.break_(img)
			problems := check(t, img.write(t))
			all := strings.Join(problems, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems do not mention %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestCorruptBlobIsReported(t *testing.T) {
	dir := validApp().write(t)
	// Flip a byte of the layer (the largest blob but the config).
	blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
	var layer string
	for _, b := range blobs {
		dt, _ := os.ReadFile(b)
		if len(dt) > 2 && dt[0] == 0x1f && dt[1] == 0x8b {
			layer = b
		}
	}
	dt, _ := os.ReadFile(layer)
	dt[len(dt)-5] ^= 0xff
	os.WriteFile(layer, dt, 0o644)
	all := strings.Join(check(t, dir), "\n")
	if !strings.Contains(all, "layer 1") {
		t.Errorf("corrupt layer not reported:\n%s", all)
	}
}

func TestNotALayoutIsAnError(t *testing.T) {
	if _, err := verify.Check(context.Background(), t.TempDir()); err == nil {
		t.Fatal("an empty folder verified")
	}
}

// TestFlatpakBuildBundlePasses checks an image made by Flatpak's own
// build-bundle --oci: whatever it writes, verify must accept.
func TestFlatpakBuildBundlePasses(t *testing.T) {
	if _, err := exec.LookPath("flatpak"); err != nil {
		t.Skip("flatpak is not installed")
	}
	work := t.TempDir()
	app := filepath.Join(work, "app")
	for _, d := range []string{"files/bin", "files/share/applications", "files/share/icons/hicolor/64x64/apps"} {
		os.MkdirAll(filepath.Join(app, d), 0o755)
	}
	os.WriteFile(filepath.Join(app, "files/bin/hello"), []byte("#!/bin/sh\necho hello\n"), 0o755)
	os.WriteFile(filepath.Join(app, "files/share/applications/org.example.Hello.desktop"), []byte("[Desktop Entry]\nType=Application\nName=Hello\nExec=hello\nIcon=org.example.Hello\n"), 0o644)
	os.WriteFile(filepath.Join(app, "files/share/icons/hicolor/64x64/apps/org.example.Hello.png"), pngIcon(t), 0o644)
	os.WriteFile(filepath.Join(app, "metadata"), []byte("[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n"), 0o644)
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command("flatpak", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("flatpak %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("build-finish", "--command=hello", "--share=network", "--socket=wayland", "--filesystem=home",
		"--talk-name=org.freedesktop.Notifications", "--env=FOO=bar", app)
	repo := filepath.Join(work, "repo")
	run("build-export", repo, app, "stable")
	bundle := filepath.Join(work, "bundle")
	run("build-bundle", "--oci", repo, bundle, "org.example.Hello", "stable")
	if p := check(t, bundle); len(p) > 0 {
		t.Fatalf("problems in flatpak build-bundle's image:\n%s", strings.Join(p, "\n"))
	}
}

func pngIcon(t *testing.T) []byte {
	m := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := 0; x < 64; x++ {
		for y := 0; y < 64; y++ {
			m.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestImageListedTwiceIsCheckedOnce: a layout whose index.json lists the
// image both directly and inside an image index (as a BuildKit export with
// attestations does once the Flatpak image is exposed) names it once.
func TestImageListedTwiceIsCheckedOnce(t *testing.T) {
	dir := validApp().write(t)
	dt, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	var idx ocispecs.Index
	json.Unmarshal(dt, &idx)
	child, _ := json.Marshal(ocispecs.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispecs.MediaTypeImageIndex, Manifests: idx.Manifests})
	d := digest.FromBytes(child)
	os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), child, 0o644)
	idx.Manifests = append(idx.Manifests, ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageIndex, Digest: d, Size: int64(len(child))})
	dt, _ = json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, "index.json"), dt, 0o644)
	rep, err := verify.Check(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Refs) != 1 || !rep.OK() {
		t.Errorf("refs %q, problems %v", rep.Refs, rep.Problems)
	}
}

// TestTaggedLayoutChecksThatImage: oci-layout://DIR:TAG verifies the image
// index.json names TAG; a tag it does not name is an error that lists the
// names it has.
func TestTaggedLayoutChecksThatImage(t *testing.T) {
	img := validApp()
	latest := "latest"
	img.refName = &latest
	dir := img.write(t)
	rep, err := verify.Check(context.Background(), "oci-layout://"+dir+":latest")
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("the tagged image: %v %v", err, rep)
	}
	_, err = verify.Check(context.Background(), "oci-layout://"+dir+":f41")
	if err == nil || !strings.Contains(err.Error(), "names no image f41 (the names it has: latest)") {
		t.Fatalf("an unknown tag: %v", err)
	}
}

// TestOCIArchiveIsCheckedInPlace: a tar of a layout (docker buildx's
// --output type=oci,dest=FILE, skopeo's oci-archive:) is verified as the
// layout itself, named as a file or as skopeo names it, and a layer broken
// inside the archive is reported as in a folder.
func TestOCIArchiveIsCheckedInPlace(t *testing.T) {
	img := validApp()
	dir := img.write(t)
	archive := filepath.Join(t.TempDir(), "app.tar")
	if out, err := exec.Command("tar", "-C", dir, "-cf", archive, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	for _, src := range []string{archive, "oci-archive:" + archive, "oci-archive:" + archive + ":" + img.ref} {
		rep, err := verify.Check(context.Background(), src)
		if err != nil || len(rep.Problems) > 0 || len(rep.Refs) != 1 || rep.Refs[0] != img.ref {
			t.Errorf("%s: %v %+v", src, err, rep)
		}
	}
	dt, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	gz := bytes.Index(dt, []byte{0x1f, 0x8b, 8})
	if gz < 0 {
		t.Fatal("no gzip layer in the archive")
	}
	dt[gz+40] ^= 0xff
	if err := os.WriteFile(archive, dt, 0o644); err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(check(t, archive), "\n"); !strings.Contains(all, "layer 1") {
		t.Errorf("a layer broken inside the archive is not reported:\n%s", all)
	}
}
