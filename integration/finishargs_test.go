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
	// flatpak 1.18's: conditional permissions (one reset first, one that an
	// unconditional one overrides) and host-root.
	"--socket-if=x11:!has-wayland", "--nosocket=pulseaudio", "--socket-if=pulseaudio:has-wayland", "--socket-if=pulseaudio:!has-usb-device",
	"--device-if=dri:true", "--device=dri", "--share-if=network:false", "--allow-if=bluetooth:!false", "--allow-if=canbus:has-usb-portal", "--disallow=devel",
	"--filesystem=host-root:ro",
}

// TestNewerFinishArgsAsFlatpak118WritesThem builds an app with the
// finish-args of flatpak 1.16 and 1.18 and compares its metadata with what Debian
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
		// --share-if=network:false: 1.18 gives no network (only lo in the
		// sandbox's namespace); 1.14 reads the "network" written before the
		// condition, as build-finish 1.18 meant, and shares the host's.
		want := netInterfaces(t, string(mustRead(t, "/proc/net/dev")))
		if name == "flatpak 1.18" {
			want = []string{"lo"}
		}
		if got := netInterfaces(t, fp.Run(t, "--command=cat", "org.example.Hello", "/proc/net/dev")); !slices.Equal(got, want) {
			t.Errorf("%s: the app's network interfaces are %q, want %q", name, got, want)
		}
	}
}

// netInterfaces lists the interfaces of /proc/net/dev, sorted.
func netInterfaces(t *testing.T, dev string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(dev, "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok {
			out = append(out, strings.TrimSpace(name))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no interface in /proc/net/dev:\n%s", dev)
	}
	slices.Sort(out)
	return out
}

// keyValues lists a metadata file as GROUP/KEY=VALUE lines, sorted, a
// list's values ordered by the name each is about ("!x11", "x11" and
// "if:x11:..." about x11; "xdg-download/a:ro" about xdg-download/a), in
// their order for one name: what it says, whatever the order of names.
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
				about := func(x string) string {
					x = strings.TrimPrefix(strings.TrimPrefix(x, "if:"), "!")
					name, _, _ := strings.Cut(x, ":")
					return name
				}
				slices.SortStableFunc(list, func(a, b string) int { return strings.Compare(about(a), about(b)) })
				out = append(out, g+"/"+k+"[]="+strings.Join(list, ";"))
				continue
			}
			out = append(out, g+"/"+k+"="+v)
		}
	}
	slices.Sort(out)
	return out
}
