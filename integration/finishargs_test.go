package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
)

// newerFinishArgs are options and values flatpak 1.16 added (1.14 knows
// none of them, and skips them in metadata it reads).
var newerFinishArgs = []string{
	"--socket=wayland", "--socket=inherit-wayland-socket", "--device=input", "--device=usb", "--nodevice=kvm",
	"--a11y-own-name=org.example.Hello.Reader", "--usb=vnd:1D6B+dev:0002", "--usb=cls:03:*", "--nousb=cls:0E:01",
	"--usb-list=vnd:046d;!vnd:045e+dev:028e", "--usb=vnd: 0x1+dev:-000", "--talk-name=org.freedesktop.Notifications",
}

// TestNewerFinishArgsAsFlatpak118WritesThem builds an app with the
// finish-args of flatpak 1.16 and compares its metadata with what Debian
// sid's flatpak build-finish (1.18) writes for the same arguments: the same
// groups, keys and values (1.18 sorts the [Context] lists, which this
// frontend writes in 1.16's order). Flatpak 1.14 and 1.18 then install
// and run it.
func TestNewerFinishArgsAsFlatpak118WritesThem(t *testing.T) {
	yaml := strings.Replace(appSpec("hello"), "command: hello\n", "command: hello\nfinish-args:\n  - '"+strings.Join(newerFinishArgs, "'\n  - '")+"'\n", 1)
	res, err := build(t, buildOpts{dir: writeSpec(t, yaml), file: "flatpak.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	readImage(t, res.oci, tree)
	ours := mustRead(t, filepath.Join(tree, "metadata"))

	nf := harness.NewerFlatpak(t)
	app := filepath.Join(t.TempDir(), "app")
	for _, d := range []string{"files/bin", "var"} {
		if err := os.MkdirAll(filepath.Join(app, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	initial := "[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\n"
	if err := os.WriteFile(filepath.Join(app, "metadata"), []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := nf.Command(append(append([]string{"build-finish", "--command=hello"}, newerFinishArgs...), app)...); err != nil {
		t.Fatalf("flatpak 1.18 build-finish: %v\n%s", err, out)
	}
	theirs := mustRead(t, filepath.Join(app, "metadata"))
	if a, b := keyValues(t, ours), keyValues(t, theirs); !slices.Equal(a, b) {
		t.Errorf("metadata differs from flatpak 1.18's build-finish:\n--- ours\n%s\n--- flatpak 1.18\n%s\n--- as values: ours\n%s\n--- flatpak 1.18\n%s",
			ours, theirs, strings.Join(a, "\n"), strings.Join(b, "\n"))
	}

	for name, fp := range map[string]*harness.FlatpakEnv{"flatpak 1.14": harness.Flatpak(t), "flatpak 1.18": nf} {
		fp.ImportOCI(t, harness.Runtime(t).Dir)
		fp.ImportOCI(t, res.oci)
		fp.Install(t, harness.RuntimeID)
		fp.Install(t, "org.example.Hello")
		if out := fp.Run(t, "org.example.Hello"); !strings.Contains(out, "Hello") {
			t.Errorf("%s: flatpak run printed %q", name, out)
		}
	}
}

// keyValues lists a metadata file as GROUP/KEY=VALUE lines, a list's
// values one a line, sorted: what it says, whatever the order.
func keyValues(t *testing.T, dt []byte) []string {
	t.Helper()
	kf, err := keyfile.Parse(dt)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range kf.Groups() {
		for _, k := range kf.Keys(g) {
			v, _ := kf.String(g, k)
			if strings.Contains(v, ";") {
				list, _ := kf.StringList(g, k)
				for _, x := range list {
					out = append(out, g+"/"+k+"[]="+x)
				}
				continue
			}
			out = append(out, g+"/"+k+"="+v)
		}
	}
	slices.Sort(out)
	return out
}
