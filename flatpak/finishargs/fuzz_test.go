package finishargs_test

import (
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/finishargs"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
)

// FuzzParseSave feeds arbitrary finish-args (NUL-separated) to Parse and,
// when they are accepted, saves them into a metadata keyfile. It checks that
// nothing panics, that what Save writes reads back, and that no value can
// open a group or add a line the options did not ask for: the groups of
// the file are the ones a context writes, plus those --metadata names.
func FuzzParseSave(f *testing.F) {
	for _, s := range []string{
		"--share=network\x00--socket=wayland\x00--filesystem=home:ro",
		"--env=FOO=bar\x00--unset-env=LD_PRELOAD",
		"--talk-name=org.freedesktop.Notifications\x00--own-name=org.example.App.*",
		"--env=A=x\n[Context]\nshared=network",
		"--talk-name=org.a.b\r\n[Environment]",
		"--add-policy=sub.key=a\x00--remove-policy=sub.key=b",
		"--persist=.mozilla\x00--filesystem=/opt/x//y/./z/",
		"--metadata=X-Foo=bar=baz\x00--extension=org.a.B=directory=lib",
		"--filesystem=xdg-download/Foo:create\x00--nofilesystem=host:reset",
		"--env\x00FOO=\xff",
		"--system-talk-name=org.freedesktop.UPower\x00--socket=fallback-x11",
		"--extension-priority=0x10\x00--require-version=1.6.2;",
		"--filesystem=~/a;b\x00--persist=a;b\x00--env=X=a;b",
		"--usb=vnd:1D6B+dev:0002\x00--nousb=cls:0e:*\x00--usb-list=vnd:046d;!all\x00--a11y-own-name=org.a.B\x00--device=input",
		"--socket-if=x11:!has-wayland\x00--nosocket=pulseaudio\x00--socket-if=pulseaudio:has-usb-portal\x00--filesystem=host-root:ro",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\x00")
		c, err := finishargs.Parse(args)
		if err != nil {
			if c == nil {
				t.Fatal("Parse returned a nil context with its error")
			}
			return
		}
		kf := keyfile.New()
		if err := c.Save(kf); err != nil {
			// Parse accepted the values: Save must be able to write them.
			t.Fatalf("Save after a successful Parse(%q): %v", args, err)
		}
		data := kf.Bytes()
		back, err := keyfile.Parse(data)
		if err != nil {
			t.Fatalf("Parse of the saved file %q: %v", data, err)
		}
		for _, g := range back.Groups() {
			switch {
			case g == finishargs.GroupContext, g == finishargs.GroupSessionBusPolicy,
				g == finishargs.GroupSystemBusPolicy, g == finishargs.GroupEnvironment,
				g == finishargs.GroupA11yBusPolicy, g == finishargs.GroupUSBDevices,
				strings.HasPrefix(g, finishargs.GroupPrefixPolicy):
			default:
				t.Fatalf("args %q wrote group [%s]:\n%s", args, g, data)
			}
		}
		// One line per key and one per group: no value spans lines.
		lines := 0
		for _, g := range back.Groups() {
			lines += 1 + len(back.Keys(g))
		}
		if got := strings.Count(strings.TrimSuffix(string(data), "\n"), "\n") + 1 - (len(back.Groups()) - 1); len(data) > 0 && got != lines {
			t.Fatalf("args %q: %d lines for %d groups and keys:\n%s", args, got, lines, data)
		}
		// Environment values read back as set.
		for _, e := range c.Environment {
			got, err := back.String(finishargs.GroupEnvironment, e.Name)
			if err != nil {
				t.Fatalf("env %s: %v\n%s", e.Name, err, data)
			}
			if !e.Unset && got != e.Value {
				t.Fatalf("env %s = %q, want %q\n%s", e.Name, got, e.Value, data)
			}
		}
	})
}
