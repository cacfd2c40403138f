package filecheck

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

func TestCheckFindsWhatIsNotWhereRPMPutIt(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	outside := filepath.Join(dir, "runtime-share")
	for _, d := range []string{app + "/bin", app + "/lib", outside} {
		os.MkdirAll(d, 0o755)
	}
	write := func(p, s string) string {
		os.WriteFile(p, []byte(s), 0o644)
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	file := func(path, content string, flags uint32) buildstep.PackagedFile {
		sum := sha256.Sum256([]byte(content))
		return buildstep.PackagedFile{Package: "p", Path: path, Mode: 0o100644, Size: int64(len(content)), DigestAlgo: 8, Digest: hex.EncodeToString(sum[:]), Flags: flags}
	}
	write(app+"/bin/ok", "ok")
	write(app+"/bin/edited", "EDITED")
	write(app+"/bin/config", "edited by a scriptlet")
	// A package made /app/share a symlink out of the tree: what the next
	// package installed below it landed outside.
	os.Symlink(outside, app+"/share")
	write(outside+"/data", "data")
	os.Symlink("ok", app+"/bin/link")
	os.Mkdir(app+"/lib/replaced", 0o755)
	// A symlink to a folder inside the tree is fine: rpm follows it.
	os.Symlink("lib", app+"/lib64")
	os.Symlink("/app/lib", app+"/libabs")
	write(app+"/lib/inlib", "in lib")

	files := []buildstep.PackagedFile{
		{Package: "p", Path: "/app/bin", Mode: 0o40755},
		file("/app/bin/ok", "ok", 0),
		file("/app/bin/edited", "edited", 0),
		file("/app/bin/config", "original", buildstep.FileFlagConfig),
		file("/app/bin/gone", "x", 0),
		file("/app/bin/ghost", "x", buildstep.FileFlagGhost),
		{Package: "p", Path: "/app/share", Mode: 0o40755},
		file("/app/share/data", "data", 0),
		{Package: "p", Path: "/app/bin/link", Mode: 0o120777, LinkTo: "elsewhere"},
		file("/app/lib/replaced", "x", 0),
		file("/usr/bin/not-below-the-prefix", "x", 0),
		{Package: "p", Path: "/app/lib64", Mode: 0o120777, LinkTo: "lib"},
		file("/app/lib64/inlib", "in lib", 0),
		file("/app/libabs/inlib", "in lib", 0),
		{Package: "p", Path: "/app/bin/not-installed", Mode: 0o100644, State: 2},
	}
	got := map[string]string{}
	for _, p := range Check(files, Tree{Dir: app, Prefix: "/app"}) {
		got[p.File.Path] = p.What
	}
	want := map[string]string{
		"/app/bin/edited":   "has changed content",
		"/app/bin/gone":     "is missing",
		"/app/share":        "was a folder, is a symlink",
		"/app/share/data":   "is not in the tree: the folder /app/share above it is a symlink to " + outside + ", outside /app",
		"/app/bin/link":     `points to "ok", not "elsewhere"`,
		"/app/lib/replaced": "was a file, is a folder",
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(got) != len(want) {
		t.Errorf("problems at %q, want %d", keys, len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
}
