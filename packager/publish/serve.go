package publish

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
)

// Handler serves a remote's root folder as Flatpak queries it: GET
// /index/static?...&architecture=ARCH&...&tag=TAG answers with the index of
// TAG (default latest) and ARCH, or the empty index when nothing was
// published for them; /index/icons/... are the icons, /signatures/... the
// signatures (the lookaside). Any web server can do
// the same with a rewrite rule (docs/publishing.md).
func Handler(root string) http.Handler {
	icons := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case r.URL.Path == "/index/static":
			q := r.URL.Query()
			tag, arch := q.Get("tag"), q.Get("architecture")
			if tag == "" {
				tag = "latest"
			}
			if remoteindex.CheckName(tag) != nil || remoteindex.CheckName(arch) != nil {
				http.Error(w, "bad tag or architecture", http.StatusBadRequest)
				return
			}
			p := filepath.Join(root, remoteindex.StaticPath(tag, arch))
			if _, err := os.Stat(p); err != nil {
				p = filepath.Join(root, remoteindex.EmptyPath)
			}
			dt, err := os.ReadFile(p)
			if err != nil {
				http.Error(w, "no index published", http.StatusNotFound)
				return
			}
			// Flatpak keeps an index half an hour unless told otherwise:
			// no-cache makes it ask (with the ETag) every time, so an
			// update is seen at once.
			sum := sha256.Sum256(dt)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(dt))
		case strings.HasPrefix(r.URL.Path, "/"+remoteindex.IconsDir+"/"),
			strings.HasPrefix(r.URL.Path, "/"+remoteindex.SignaturesDir+"/"):
			icons.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
