package frontend

import (
	"context"
	"path"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/metadata"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// checkCommand warns when the command the app's metadata names is not
// something flatpak run can start: flatpak execs it as one program, found
// by name on the sandbox's PATH (/app/bin, then the runtime's /usr/bin) or
// by absolute path. Neither build-finish nor the install can tell; the
// first to find out would be the user running the app.
func (b *builder) checkCommand(ctx context.Context, rt *image, rep *reports, md []byte) {
	kf, err := keyfile.Parse(md)
	if err != nil {
		return
	}
	cmd, _ := kf.String(metadata.GroupApplication, metadata.KeyCommand)
	key := "command"
	if cmd != b.spec.Command {
		key = "finish-args" // its --command
	}
	if cmd == "" {
		return
	}
	if strings.ContainsAny(cmd, " \t") {
		b.warn(ctx, "command: flatpak runs "+cmd+" as one program, whose name has a space, not as a command line: arguments go in a wrapper script in /app/bin", key)
		return
	}
	inRuntime := func(dir, name string) bool {
		if rt == nil || rt.ref == nil {
			return true // nothing to look in: no warning
		}
		ents, err := rt.ref.ReadDir(ctx, client.ReadDirRequest{Path: dir, IncludePattern: name})
		if err != nil {
			return false
		}
		for _, e := range ents {
			if e.Path == name {
				return true
			}
		}
		return false
	}
	installed := func(rel string) bool { return rep.has(rel, 'f') || rep.has(rel, 'l') }
	switch {
	case strings.HasPrefix(cmd, "/app/"):
		if !installed(strings.TrimPrefix(cmd, "/app/")) {
			b.warn(ctx, "command: no package installed "+cmd+", so flatpak run cannot start it", key)
		}
	case strings.HasPrefix(cmd, "/usr/"):
		rel := strings.TrimPrefix(cmd, "/usr/")
		if !inRuntime(path.Join("/files", path.Dir(rel)), path.Base(rel)) {
			b.warn(ctx, "command: the runtime has no "+cmd+", so flatpak run cannot start it", key)
		}
	case strings.HasPrefix(cmd, "/"):
	case strings.Contains(cmd, "/"):
		b.warn(ctx, "command: "+cmd+" is a relative path, which flatpak run looks for in the sandbox's working folder: give a name in /app/bin, or an absolute path", key)
	case !installed("bin/"+cmd) && !inRuntime("/files/bin", cmd):
		b.warn(ctx, "command: "+cmd+" is neither in /app/bin (no package installed it) nor in the runtime's /usr/bin, so flatpak run cannot start it", key)
	}
}
