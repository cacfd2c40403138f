package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// User is a normal (unprivileged) account made for one test, with a fresh
// home folder and subordinate ids in /etc/subuid and /etc/subgid (useradd
// gives them, as on Fedora and Debian), the way a packager's own account
// is set up. It is deleted when the test ends, after its processes.
type User struct {
	Name     string
	UID, GID int
	Home     string
	// Bin is a folder first on the user's PATH.
	Bin string
}

// NewUser makes the account. Its home lives under /tmp, outside the
// checkout, so nothing of the project is found by walking up from it.
func NewUser(t testing.TB) *User {
	t.Helper()
	base, err := os.MkdirTemp("", "ffe-user-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	name := fmt.Sprintf("ffe%d", time.Now().UnixNano()%1_000_000_000)
	home := filepath.Join(base, "home")
	if out, err := exec.Command("useradd", "--create-home", "--home-dir", home, "--shell", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	u := &User{Name: name, Home: home, Bin: filepath.Join(base, "bin")}
	t.Cleanup(func() {
		u.killAll()
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", name, err, out)
		}
		os.RemoveAll(base)
	})
	pu, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	u.UID, _ = strconv.Atoi(pu.Uid)
	u.GID, _ = strconv.Atoi(pu.Gid)
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		dt, _ := os.ReadFile(f)
		if !bytes.Contains(dt, []byte("\n"+name+":")) && !bytes.HasPrefix(dt, []byte(name+":")) {
			if out, err := exec.Command("usermod", "--add-subuids", "300000000-300065535", "--add-subgids", "300000000-300065535", name).CombinedOutput(); err != nil {
				t.Fatalf("usermod: %v\n%s", err, out)
			}
		}
	}
	if err := os.MkdirAll(u.Bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return u
}

// Dir makes a folder the user owns, outside the checkout and the home.
func (u *User) Dir(t testing.TB, name string) string {
	t.Helper()
	d := filepath.Join(filepath.Dir(u.Home), name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	u.Chown(t, d)
	return d
}

// Chown gives the user a file or a whole tree.
func (u *User) Chown(t testing.TB, path string) {
	t.Helper()
	if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", u.UID, u.GID), path).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
}

// Command runs as the user in dir, with a login's environment only: HOME,
// USER, LOGNAME, PATH (u.Bin first, no sbin) and extra.
func (u *User) Command(dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"HOME=" + u.Home, "USER=" + u.Name, "LOGNAME=" + u.Name,
		"PATH=" + u.Bin + ":/usr/local/bin:/usr/bin:/bin",
		"LANG=C.UTF-8",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}},
		Setpgid:    true,
	}
	return cmd
}

// Processes lists the user's live processes (zombies left out) as
// "PID COMMAND".
func (u *User) Processes() []string {
	var out []string
	for _, p := range listProcs() {
		if p.uid == u.UID && p.state != "Z" {
			out = append(out, fmt.Sprintf("%d %s", p.pid, p.cmdline))
		}
	}
	return out
}

// WaitNoProcesses waits up to d for the user's processes to end and
// returns those still running.
func (u *User) WaitNoProcesses(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		ps := u.Processes()
		if len(ps) == 0 || time.Now().After(deadline) {
			return ps
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (u *User) killAll() {
	for i := 0; i < 50; i++ {
		ps := u.Processes()
		if len(ps) == 0 {
			return
		}
		exec.Command("pkill", "-KILL", "-u", strconv.Itoa(u.UID)).Run()
		time.Sleep(100 * time.Millisecond)
	}
}

type procInfo struct {
	pid, ppid int
	uid, euid int
	state     string
	comm      string
	cmdline   string
}

func listProcs() []procInfo {
	var out []procInfo
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		st, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			continue
		}
		p := procInfo{}
		p.pid, _ = strconv.Atoi(filepath.Base(d))
		for _, line := range strings.Split(string(st), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			switch k {
			case "Name":
				p.comm = f[0]
			case "State":
				p.state = f[0]
			case "PPid":
				p.ppid, _ = strconv.Atoi(f[0])
			case "Uid":
				p.uid, _ = strconv.Atoi(f[0])
				if len(f) > 1 {
					p.euid, _ = strconv.Atoi(f[1])
				}
			}
		}
		cl, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		p.cmdline = strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))
		out = append(out, p)
	}
	return out
}

// TreeWatch samples the processes below a root process while it runs:
// every process that ever ran there, with its real and effective uid.
type TreeWatch struct {
	stop chan struct{}
	done chan struct{}
	seen map[int]procInfo
}

// WatchTree starts sampling the descendants of pid every 50 ms.
func WatchTree(pid int) *TreeWatch {
	w := &TreeWatch{stop: make(chan struct{}), done: make(chan struct{}), seen: map[int]procInfo{}}
	go func() {
		defer close(w.done)
		for {
			procs := listProcs()
			children := map[int][]procInfo{}
			for _, p := range procs {
				children[p.ppid] = append(children[p.ppid], p)
			}
			queue := []int{pid}
			for len(queue) > 0 {
				n := queue[0]
				queue = queue[1:]
				for _, c := range children[n] {
					if _, ok := w.seen[c.pid]; !ok || w.seen[c.pid].cmdline == "" {
						w.seen[c.pid] = c
					}
					queue = append(queue, c.pid)
				}
			}
			select {
			case <-w.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return w
}

// Stop ends the sampling and returns "PID UID/EUID COMMAND" of every
// process seen, and of those whose real or effective uid was root.
func (w *TreeWatch) Stop() (all, root []string) {
	close(w.stop)
	<-w.done
	for _, p := range w.seen {
		s := fmt.Sprintf("%d %d/%d %s: %s", p.pid, p.uid, p.euid, p.comm, p.cmdline)
		all = append(all, s)
		if p.uid == 0 || p.euid == 0 {
			root = append(root, s)
		}
	}
	return all, root
}
