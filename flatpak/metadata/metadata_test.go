package metadata

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/finishargs"
)

const (
	appID    = "org.example.Hello"
	platform = "org.example.Platform/x86_64/1"
)

// referenceMetadata is what build-finish wrote for the reference app in
// /work/shared/reference/flatpak-oci.md.
const referenceMetadata = `[Application]
name=org.example.Hello
runtime=org.example.Platform/x86_64/1
sdk=org.example.Platform/x86_64/1
command=hello

[Context]
shared=network;
sockets=wayland;
filesystems=home;

[Session Bus Policy]
org.freedesktop.Notifications=talk

[Environment]
FOO=bar
`

func mustParse(t *testing.T, args []string) *finishargs.Context {
	t.Helper()
	c, err := finishargs.Parse(args)
	if err != nil {
		t.Fatalf("finishargs.Parse(%q): %v", args, err)
	}
	return c
}

func TestAppReference(t *testing.T) {
	got, err := App(AppInput{ID: appID, Runtime: platform, SDK: platform, Command: "hello",
		Context: mustParse(t, []string{"--share=network", "--socket=wayland", "--filesystem=home",
			"--talk-name=org.freedesktop.Notifications", "--env=FOO=bar"})})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != referenceMetadata {
		t.Errorf("got\n%s\nwant\n%s", got, referenceMetadata)
	}
}

func names(prefix string, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("%sorg.example.Service%d", prefix, i))
	}
	return out
}

func reversed(s []string) []string {
	out := append([]string(nil), s...)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// finishCases are finish-args combinations compared with the real tool.
var finishCases = []struct {
	name string
	args []string
	tags []string
	exts map[string]Extension
	// kind is "app" or "runtime".
	runtime bool
}{
	{name: "reference", args: []string{"--share=network", "--socket=wayland", "--filesystem=home", "--talk-name=org.freedesktop.Notifications", "--env=FOO=bar"}},
	{name: "nothing"},
	{name: "sockets and devices", args: []string{"--socket=pulseaudio", "--socket=fallback-x11", "--socket=wayland", "--socket=cups", "--nosocket=ssh-auth",
		"--device=kvm", "--device=dri", "--nodevice=all", "--share=ipc", "--unshare=network", "--allow=bluetooth", "--disallow=devel", "--allow=per-app-dev-shm"}},
	{name: "filesystems", args: []string{"--filesystem=xdg-download", "--filesystem=home:ro", "--filesystem=~/.config/foo:create", "--filesystem=/opt/a\\:b",
		"--filesystem=xdg-run/pipewire-0", "--nofilesystem=host:reset", "--filesystem=host-os:ro", "--filesystem=home/Music", "--filesystem=xdg-config/kdeglobals:ro",
		"--nofilesystem=xdg-documents", "--filesystem=/media", "--filesystem=/run/media", "--filesystem=xdg-pictures", "--filesystem=xdg-videos", "--filesystem=xdg-music"}},
	{name: "9 talk names", args: prefixed("--talk-name=", names("", 9))},
	{name: "9 talk names reversed", args: prefixed("--talk-name=", reversed(names("", 9)))},
	{name: "40 talk names", args: prefixed("--talk-name=", names("", 40))},
	{name: "40 talk names reversed", args: prefixed("--talk-name=", reversed(names("", 40)))},
	{name: "mixed bus", args: []string{"--talk-name=org.freedesktop.Notifications", "--own-name=org.example.Hello.*", "--talk-name=org.kde.StatusNotifierWatcher",
		"--talk-name=com.canonical.AppMenu.Registrar", "--no-talk-name=org.freedesktop.Flatpak", "--talk-name=org.freedesktop.secrets", "--talk-name=ca.desrt.dconf",
		"--talk-name=org.gtk.vfs.*", "--talk-name=org.freedesktop.FileManager1", "--talk-name=org.a11y.Bus", "--own-name=org.mpris.MediaPlayer2.Hello",
		"--system-talk-name=org.freedesktop.UPower", "--system-talk-name=org.freedesktop.login1", "--system-own-name=org.example.Sys", "--talk-name=org.freedesktop.Notifications"}},
	{name: "env", args: []string{"--env=FOO=bar", "--env=PATH=/app/bin:/usr/bin", "--unset-env=LD_PRELOAD", "--env=EMPTY=", "--env=SPACES=  a b ", "--env=BS=a\\b",
		"--env=SEMI=a;b", "--env=TAB=\tx", "--env=GTK_USE_PORTAL=1", "--env=QT_QPA_PLATFORM=wayland", "--unset-env=PYTHONPATH", "--env=FOO=baz"}},
	{name: "only unset-env", args: []string{"--unset-env=LD_PRELOAD", "--talk-name=org.a.b"}},
	{name: "policies", args: []string{"--add-policy=Subsystem.key=value1", "--add-policy=Subsystem.key=value2", "--remove-policy=Subsystem.key=value1",
		"--add-policy=other.k.with.dots=x", "--add-policy=zzz.a=1", "--add-policy=aaa.b=2"}},
	{name: "persist", args: []string{"--persist=.mozilla", "--persist=.config/foo", "--persist=.local/share/x", "--persist=a b"}},
	{name: "build options", args: []string{"--require-version=1.6.2;1.4.2;", "--metadata=X-Foo=bar", "--metadata=X-Foo=baz=a=b", "--metadata=Application=X-Key=1",
		"--extension=org.example.Hello.Plugin=directory=lib/plugins", "--extension=org.example.Hello.Plugin=subdirectories", "--extension-priority=-3",
		"--sdk=org.example.Sdk", "--runtime=org.example.Platform//2",
		"--extra-data=foo.tar:" + strings.Repeat("ab", 32) + ":100:200:https://example.org/x", "--extra-data=:" + strings.Repeat("cd", 32) + ":5::https://example.org/y",
		"--share=network", "--no-exports"}},
	{name: "command override", args: []string{"--command=other", "--no-inherit-permissions"}},
	{name: "tags and extensions", tags: []string{"proprietary", "beta"}, exts: map[string]Extension{
		"org.example.Hello.Plugin": {Directory: "lib/plugins", Subdirectories: true, NoAutodownload: true, Autodelete: true, AddLdPath: "lib", MergeDirs: "a;b",
			DownloadIf: "active-gl-driver", EnableIf: "have-intel-gpu", AutopruneUnless: "active-gl-driver", SubdirectorySuffix: "x", Version: "1", Versions: "1;2", LocaleSubset: true},
		"org.example.Hello.Codecs": {Directory: "lib/codecs", Version: "stable"},
		"org.example.Hello.Locale": {Directory: "share/runtime/locale", LocaleSubset: true, Autodelete: true},
	}, args: []string{"--extension=org.example.Hello.Codecs=directory=overridden", "--socket=x11"}},
	{name: "runtime", runtime: true, tags: []string{"latest"}, args: []string{"--env=GI_TYPELIB_PATH=/app/lib/girepository-1.0", "--env=XDG_DATA_DIRS=/app/share:/usr/share",
		"--socket=wayland", "--require-version=1.0.0"},
		exts: map[string]Extension{"org.example.Platform.GL": {Directory: "lib/GL", Versions: "1;default", Subdirectories: true, NoAutodownload: true, AddLdPath: "lib"}}},
}

func prefixed(p string, s []string) []string {
	var out []string
	for _, x := range s {
		out = append(out, p+x)
	}
	return out
}

// realBuildFinish runs flatpak build-finish on a build directory set up as
// build-init (with --tag) sets it up, with the arguments flatpak-builder
// would pass, and returns the metadata it wrote.
func realBuildFinish(t *testing.T, runtime bool, tags []string, command string, args []string, exts map[string]Extension) []byte {
	t.Helper()
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	for _, d := range []string{"files/bin", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(app, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(app, "files/bin/hello"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	group, id := "Application", appID
	if runtime {
		group, id = "Runtime", "org.example.Platform"
	}
	md := fmt.Sprintf("[%s]\nname=%s\nruntime=%s\nsdk=%s\n", group, id, platform, platform)
	if len(tags) > 0 {
		md += "tags=" + strings.Join(tags, ";") + ";\n"
	}
	if err := os.WriteFile(filepath.Join(app, "metadata"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{"build-finish"}
	if command != "" {
		argv = append(argv, "--command="+command)
	}
	argv = append(argv, args...)
	ea, err := ExtensionArgs(exts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ea {
		argv = append(argv, fmt.Sprintf("--extension=%s=%s=%s", e.Name, e.Key, e.Value))
	}
	argv = append(argv, app)
	cmd := exec.Command("flatpak", argv...)
	cmd.Env = append(os.Environ(), "FLATPAK_USER_DIR="+filepath.Join(dir, "user"), "FLATPAK_SYSTEM_DIR="+filepath.Join(dir, "system"))
	out, err := cmd.CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("CRITICAL")) || bytes.Contains(out, []byte("WARNING")) {
		t.Fatalf("flatpak %q: %v\n%s", argv, err, out)
	}
	got, err := os.ReadFile(filepath.Join(app, "metadata"))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestMetadataMatchesFlatpakBuildFinish(t *testing.T) {
	if _, err := exec.LookPath("flatpak"); err != nil {
		t.Skip("flatpak not installed")
	}
	for _, tc := range finishCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := mustParse(t, tc.args)
			var got []byte
			var err error
			command := ""
			if tc.runtime {
				got, err = Runtime(RuntimeInput{ID: "org.example.Platform", Runtime: platform, SDK: platform, Context: ctx, Tags: tc.tags, Extensions: tc.exts})
			} else {
				command = "hello"
				got, err = App(AppInput{ID: appID, Runtime: platform, SDK: platform, Command: command, Context: ctx, Tags: tc.tags, Extensions: tc.exts})
			}
			if err != nil {
				t.Fatal(err)
			}
			want := realBuildFinish(t, tc.runtime, tc.tags, command, tc.args, tc.exts)
			if !bytes.Equal(got, want) {
				t.Errorf("metadata differs from flatpak build-finish\n--- got\n%s\n--- want\n%s", got, want)
			}
		})
	}
}
