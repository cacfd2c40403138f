package buildkitd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// runcStateRoot is where runc keeps container state when not told
// otherwise, as buildkitd's runc executor runs it.
const runcStateRoot = "/run/runc"

// killContainers force-deletes the runc containers of the daemon whose
// folder is root. A buildkitd that is killed (SIGKILL, OOM, a crash)
// cannot stop its running build steps, and runc starts them outside the
// daemon's process group: without this they run on, holding their mounts.
// runc's state folder is shared by every daemon of the host, so only
// containers whose bundle lies under root are touched.
func killContainers(root string) {
	root, err := filepath.Abs(root)
	if err != nil {
		return
	}
	states, _ := filepath.Glob(filepath.Join(runcStateRoot, "*", "state.json"))
	var ids []string
	for _, p := range states {
		dt, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var st struct {
			Config struct {
				Rootfs string   `json:"rootfs"`
				Labels []string `json:"labels"`
			} `json:"config"`
		}
		if json.Unmarshal(dt, &st) != nil {
			continue
		}
		bundle := st.Config.Rootfs
		for _, l := range st.Config.Labels {
			if b, ok := strings.CutPrefix(l, "bundle="); ok {
				bundle = b
			}
		}
		if strings.HasPrefix(bundle, root+string(filepath.Separator)) {
			ids = append(ids, filepath.Base(filepath.Dir(p)))
		}
	}
	if len(ids) == 0 {
		return
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		runc = "/usr/sbin/runc"
	}
	for _, id := range ids {
		_ = exec.Command(runc, "delete", "--force", id).Run()
	}
}
