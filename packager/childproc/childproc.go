package childproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Process is a child that runs in its own process group and dies with us.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // exit status, valid after done
}

// Start starts cmd in its own process group with Pdeathsig=SIGKILL.
//
// Pdeathsig fires when the *thread* that forked the child exits, not the
// process, and the Go runtime may retire threads at any time. So the child
// is started from a goroutine locked to its thread that then stays in
// cmd.Wait: the thread lives exactly as long as the child.
func Start(cmd *exec.Cmd) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	p := &Process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: when this goroutine returns the thread is
		// destroyed, which is fine because the child is gone by then.
		if err := cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Pid is the child's process ID (and its process group's).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended, once it has.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Stop sends SIGTERM to the whole process group, waits up to grace, then
// sends SIGKILL to the group and waits for the exit.
func (p *Process) Stop(grace time.Duration) error {
	pgid := p.cmd.Process.Pid
	if !p.Exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	// Kill what is left of the group even if the leader exited: helpers
	// (runc) it started share the group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		return p.err
	}
	return nil
}

// TailFile returns the last n lines of a log file, for error messages.
func TailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return fmt.Sprintf("\n--- last lines of %s ---\n%s", path, strings.Join(lines, "\n"))
}

// A process that is killed outright (a test binary hitting its timeout)
// cannot stop its children. Pdeathsig still kills them, but their
// temporary folders stay, possibly with overlay mounts in them. Each
// folder TempDir makes is therefore flocked for as long as its owner
// lives; RemoveAbandoned removes the ones whose lock is free.

const (
	liveLockName = ".owner.lock"
	// abandonedAge keeps RemoveAbandoned off a folder another process has
	// just made and not locked yet.
	abandonedAge = 2 * time.Minute
)

// HoldLiveLock locks dir/.owner.lock for the life of this process (or
// until the returned file is closed).
func HoldLiveLock(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, liveLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// TempDir makes a temporary folder whose name starts with prefix and holds
// its live lock; closing lock lets RemoveAbandoned take it.
func TempDir(prefix string) (dir string, lock *os.File, err error) {
	if dir, err = os.MkdirTemp("", prefix); err != nil {
		return "", nil, err
	}
	if lock, err = HoldLiveLock(dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, lock, nil
}

// RemoveAbandoned removes the temporary folders named prefix* whose owner
// is gone (their live lock is free and they are more than a couple of
// minutes old), calling before on each first (to unmount what is mounted
// there). Folders of live processes are left alone. It returns the
// folders it removed.
func RemoveAbandoned(prefix string, before func(dir string)) []string {
	var removed []string
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || time.Since(fi.ModTime()) < abandonedAge {
			continue
		}
		lock, err := HoldLiveLock(dir)
		if err != nil {
			continue // alive, or not one of ours
		}
		if before != nil {
			before(dir)
		}
		lock.Close()
		if os.RemoveAll(dir) == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}
