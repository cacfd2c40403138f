package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
)

// TestEightDifferentAppsBuildAtOnce: CI runners share a daemon; eight
// builds of different apps started together all succeed, and every result
// installs and runs.
func TestEightDifferentAppsBuildAtOnce(t *testing.T) {
	const n = 8
	harness.Runtime(t) // build the fixtures before the goroutines need them
	harness.RPMRepo(t)
	results := make([]*buildResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		dir := writeSpec(t, strings.Replace(appSpec("hello"), "id: org.example.Hello", fmt.Sprintf("id: org.example.Load%d", i), 1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = build(t, buildOpts{dir: dir, file: "flatpak.yaml"})
		}()
	}
	wg.Wait()
	fp := harness.Flatpak(t)
	fp.ImportOCI(t, harness.Runtime(t).Dir)
	fp.Install(t, "org.example.Platform")
	for i := range n {
		if errs[i] != nil {
			t.Errorf("build %d: %v", i, errs[i])
			continue
		}
		id := fmt.Sprintf("org.example.Load%d", i)
		fp.ImportOCI(t, results[i].oci)
		fp.Install(t, id)
		if out := fp.Run(t, id); !strings.Contains(out, "Hello from org.example.Hello") {
			t.Errorf("%s printed %q", id, out)
		}
	}
}

// TestFiftyRebuildsLeakNothing rebuilds the example fifty times in a row on
// one daemon: no build leaves a process behind, and the daemon's memory
// does not keep growing.
func TestFiftyRebuildsLeakNothing(t *testing.T) {
	if _, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml"}); err != nil {
		t.Fatal(err)
	}
	socket := strings.TrimPrefix(harness.Addr(), "unix://")
	daemon := processesWith(socket)
	if len(daemon) != 1 {
		t.Fatalf("want one buildkitd serving %s, found pids %v", socket, daemon)
	}
	pid := strconv.Itoa(daemon[0])
	before := children(t, pid)
	var rss []int
	for i := range 50 {
		if _, err := build(t, buildOpts{dir: exampleDir(t), file: "flatpak.yaml"}); err != nil {
			t.Fatalf("rebuild %d: %v", i, err)
		}
		rss = append(rss, rssKiB(t, pid))
	}
	if after := children(t, pid); after > before {
		t.Errorf("buildkitd has %d child processes after 50 rebuilds, %d before", after, before)
	}
	// Memory settles after the first rebuilds: the last ten may not use
	// more than the second ten by a quarter (plus 16 MiB of slack).
	mean := func(v []int) int {
		sum := 0
		for _, x := range v {
			sum += x
		}
		return sum / len(v)
	}
	if early, late := mean(rss[10:20]), mean(rss[40:]); late > early+early/4+16<<10 {
		t.Errorf("buildkitd RSS grew from %d KiB (rebuilds 11-20) to %d KiB (rebuilds 41-50): %v", early, late, rss)
	}
	t.Logf("buildkitd RSS over 50 rebuilds (KiB): %v", rss)
}

// children counts the processes whose parent is pid.
func children(t *testing.T, pid string) int {
	t.Helper()
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == pid {
			n++
		}
	}
	return n
}

func rssKiB(t *testing.T, pid string) int {
	t.Helper()
	status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	t.Fatalf("no VmRSS for pid %s", pid)
	return 0
}
