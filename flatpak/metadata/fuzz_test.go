package metadata_test

import (
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/finishargs"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/metadata"
)

// FuzzAppNoInjection builds an app's metadata from hostile values of every
// spec key that reaches it (command, tags, finish-args, an extension's
// fields) and checks that the result is either an error or a file whose
// groups are exactly the ones the input asks for and whose values read
// back unchanged: no value can add a line or a [section].
func FuzzAppNoInjection(f *testing.F) {
	f.Add("hello", "Viewer", "--env=A=b\x00--talk-name=org.a.B", "lib/x", "1.0", "a;b")
	f.Add("hello\n[Context]\nshared=network", "a\nb", "--env=X=1\n[Environment]", "d\n[x]", "1\n", "\r[y]")
	f.Add("\\s\\n", "t\\", "--metadata=Application=command=x", "..", "", "")
	f.Add(" lead", "ok", "--command=\xff", "a", "b", "c")
	f.Fuzz(func(t *testing.T, command, tag, fa, dir, version, mergeDirs string) {
		var ctx *finishargs.Context
		args := strings.Split(fa, "\x00")
		c, err := finishargs.Parse(args)
		if err != nil {
			return // spec validation refuses these with the parser's message
		}
		ctx = c
		in := metadata.AppInput{
			ID:      "org.example.App",
			Runtime: "org.example.Platform/x86_64/1",
			SDK:     "org.example.Sdk/x86_64/1",
			Command: command,
			Context: ctx,
			Tags:    []string{tag},
			Extensions: map[string]metadata.Extension{
				"org.example.App.Plugin": {Directory: dir, Version: version, MergeDirs: mergeDirs},
			},
		}
		data, err := metadata.App(in)
		if err != nil {
			return
		}
		kf, err := keyfile.Parse(data)
		if err != nil {
			t.Fatalf("metadata does not parse: %v\n%s", err, data)
		}
		want := map[string]bool{"Application": true, "Extension org.example.App.Plugin": true}
		for _, m := range ctx.Metadata {
			want[m.Group] = true
		}
		for _, e := range ctx.Extensions {
			want[metadata.GroupPrefixExtension+e.Name] = true
		}
		for _, g := range kf.Groups() {
			switch {
			case want[g], g == finishargs.GroupContext, g == finishargs.GroupSessionBusPolicy,
				g == finishargs.GroupSystemBusPolicy, g == finishargs.GroupEnvironment,
				strings.HasPrefix(g, finishargs.GroupPrefixPolicy), g == metadata.GroupExtraData,
				g == metadata.GroupExtensionOf:
			default:
				t.Fatalf("unexpected group [%s] from command %q tag %q finish-args %q:\n%s", g, command, tag, args, data)
			}
		}
		wantCmd := command
		if ctx.Command != "" {
			wantCmd = ctx.Command
		}
		if !overridden(ctx, "Application", "command") {
			if got, err := kf.String("Application", "command"); err != nil || got != wantCmd {
				t.Fatalf("command = %q (%v), want %q:\n%s", got, err, wantCmd, data)
			}
		}
		if !overridden(ctx, "Application", "tags") {
			if got, err := kf.StringList("Application", "tags"); err != nil || len(got) != 1 || got[0] != tag {
				t.Fatalf("tags = %q (%v), want [%q]:\n%s", got, err, tag, data)
			}
		}
		if got, err := kf.String("Extension org.example.App.Plugin", "directory"); err != nil || got != dir {
			if !overriddenExt(ctx) {
				t.Fatalf("directory = %q (%v), want %q:\n%s", got, err, dir, data)
			}
		}
	})
}

func overridden(c *finishargs.Context, group, key string) bool {
	for _, m := range c.Metadata {
		if m.Group == group && m.Key == key {
			return true
		}
	}
	return false
}

func overriddenExt(c *finishargs.Context) bool {
	return len(c.Extensions) > 0 || len(c.RemoveExtensions) > 0 || len(c.Metadata) > 0
}
