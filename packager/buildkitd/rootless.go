package buildkitd

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// RootlessCommand is the command line that runs a program as root of a
// user namespace of the calling user, the way BuildKit's rootless mode
// runs buildkitd: rootlesskit with the host's network (so build steps
// reach a registry on loopback) and private copies of /etc and /run. It
// says what to install or configure when something is missing.
func RootlessCommand() ([]string, error) {
	kit, err := exec.LookPath("rootlesskit")
	if err != nil {
		return nil, fmt.Errorf("running buildkitd as uid %d needs rootlesskit: install it (Debian, Fedora: the rootlesskit package), or pass --addr to use a buildkitd you run", os.Geteuid())
	}
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if _, err := lookSbin(tool); err != nil {
			return nil, fmt.Errorf("running buildkitd rootless needs %s: install it (Debian: the uidmap package; Fedora: shadow-utils)", tool)
		}
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		ok, err := hasSubIDs(f, u)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("running buildkitd rootless needs subordinate ids for %s in %s: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", u.Username, f, u.Username)
		}
	}
	return []string{kit, "--net=host", "--copy-up=/etc", "--copy-up=/run"}, nil
}

// hasSubIDs reports whether file (/etc/subuid's format: NAME-OR-ID:START:COUNT)
// gives u a range.
func hasSubIDs(file string, u *user.User) (bool, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fields) != 3 || (fields[0] != u.Username && fields[0] != u.Uid) {
			continue
		}
		if n, err := strconv.ParseUint(fields[2], 10, 32); err == nil && n > 0 {
			return true, nil
		}
	}
	return false, sc.Err()
}

// lookSbin finds a tool on PATH or in the sbin folders, which a normal
// user's PATH often leaves out.
func lookSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found on PATH or in sbin", name)
}

// removeRootless removes a folder a rootless daemon wrote: files its build
// steps made belong to subordinate ids, which only the user namespace can
// delete.
func removeRootless(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	rl, err := RootlessCommand()
	if err != nil {
		return err
	}
	out, err := exec.Command(rl[0], append(rl[1:], "rm", "-rf", dir)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("remove %s: %v: %s", dir, err, out)
	}
	return nil
}
