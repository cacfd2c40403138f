package childproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRemoveAbandonedTakesOnlyUnlockedOldFolders(t *testing.T) {
	const prefix = "childproc-test-"
	abandoned, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	live, lock, err := TempDir(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(live)
	defer lock.Close()
	old := time.Now().Add(-time.Hour)
	for _, d := range []string{abandoned, live} {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	young, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(young)

	var saw []string
	removed := RemoveAbandoned(prefix, func(dir string) { saw = append(saw, dir) })
	if _, err := os.Stat(abandoned); !os.IsNotExist(err) || !slices.Equal(removed, []string{abandoned}) || !slices.Equal(saw, removed) {
		t.Errorf("abandoned folder %s: removed %v, before called on %v, stat %v", abandoned, removed, saw, err)
	}
	for _, d := range []string{live, young} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("live or young folder %s removed: %v", d, err)
		}
	}
}

func TestStopEndsTheProcessGroup(t *testing.T) {
	// A shell that ignores SIGTERM, with a child of its own in its group.
	p, err := Start(exec.Command("sh", "-c", "trap '' TERM; sleep 60 & wait"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if p.Exited() {
		t.Fatalf("exited at once: %v", p.Err())
	}
	if err := p.Stop(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Error("not exited after Stop")
	}
	if live := running(p.Pid()); len(live) > 0 {
		t.Errorf("processes %v of the group %d still run after Stop", live, p.Pid())
	}
}

// running lists the processes of group pgid that are not zombies (a
// killed child whose parent died waits for init to reap it).
func running(pgid int) []string {
	var out []string
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		dt, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		i := strings.LastIndexByte(string(dt), ')')
		fields := strings.Fields(string(dt[i+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			out = append(out, f)
		}
	}
	return out
}
