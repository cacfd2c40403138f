//go:build bench

package bench

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
)

// trace collects a build's progress: it is the io.Writer of a "rawjson"
// progress display (one client.SolveStatus per line) or is fed statuses.
type trace struct {
	mu       sync.Mutex
	start    time.Time // of the build: steps' At is relative to it
	buf      []byte
	vertices map[string]*step
	order    []string
	statuses map[string]*step
	// phases are the install steps' own lines on where their time went.
	phases []string
	// logs are when each vertex's output began and ended, and when the
	// installer said it was done ("Complete!"), by vertex.
	logs map[string]*logTimes
	// output is every vertex's output, line by line, when BENCH_LOGS is
	// set (summary then shows it, timed from the vertex's start).
	output map[string][]timedLine
}

type timedLine struct {
	at   time.Time
	text string
}

type logTimes struct {
	first, last, complete time.Time
}

// step is one vertex, or one sub-status of a vertex (exporting layers...).
type step struct {
	Name      string    `json:"name"`
	Started   time.Time `json:"started"`
	Completed time.Time `json:"completed"`
	Cached    bool      `json:"cached,omitempty"`
	Error     string    `json:"error,omitempty"`
	// Seconds is Completed - Started (0 when cached or unfinished).
	Seconds float64 `json:"seconds"`
	// At and End are Started and Completed in seconds since the build
	// began: where the step sits on the build's timeline.
	At  float64 `json:"at"`
	End float64 `json:"end"`
}

func newTrace(start time.Time) *trace {
	t := &trace{start: start, vertices: map[string]*step{}, statuses: map[string]*step{}, logs: map[string]*logTimes{}}
	if os.Getenv("BENCH_LOGS") != "" {
		t.output = map[string][]timedLine{}
	}
	return t
}

var _ io.Writer = (*trace)(nil)

func (t *trace) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	var lines [][]byte
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, append([]byte(nil), t.buf[:i]...))
		t.buf = t.buf[i+1:]
	}
	t.mu.Unlock()
	for _, l := range lines {
		var ss client.SolveStatus
		if err := json.Unmarshal(l, &ss); err == nil {
			t.add(&ss)
		}
	}
	return len(p), nil
}

func (t *trace) consume(ch chan *client.SolveStatus) {
	for ss := range ch {
		t.add(ss)
	}
}

func (t *trace) add(ss *client.SolveStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, v := range ss.Vertexes {
		s := t.vertices[v.Digest.String()]
		if s == nil {
			s = &step{}
			t.vertices[v.Digest.String()] = s
			t.order = append(t.order, v.Digest.String())
		}
		s.Name = v.Name
		if v.Started != nil {
			s.Started = *v.Started
		}
		if v.Completed != nil {
			s.Completed = *v.Completed
		}
		s.Cached = s.Cached || v.Cached
		if v.Error != "" {
			s.Error = v.Error
		}
	}
	for _, l := range ss.Logs {
		lt := t.logs[l.Vertex.String()]
		if lt == nil {
			lt = &logTimes{first: l.Timestamp}
			t.logs[l.Vertex.String()] = lt
		}
		lt.last = l.Timestamp
		if bytes.Contains(l.Data, []byte("Complete!")) {
			lt.complete = l.Timestamp
		}
		for _, line := range strings.Split(string(l.Data), "\n") {
			if t.output != nil && strings.TrimSpace(line) != "" {
				t.output[l.Vertex.String()] = append(t.output[l.Vertex.String()], timedLine{l.Timestamp, line})
			}
			if _, rest, ok := strings.Cut(line, "flatpak-frontend: install step: "); ok {
				t.phases = append(t.phases, rest)
			}
		}
	}
	for _, st := range ss.Statuses {
		key := st.Vertex.String() + "/" + st.ID
		s := t.statuses[key]
		if s == nil {
			s = &step{}
			t.statuses[key] = s
		}
		name := st.ID
		if v := t.vertices[st.Vertex.String()]; v != nil {
			name = v.Name + " / " + st.ID
		}
		s.Name = name
		if st.Started != nil {
			s.Started = *st.Started
		}
		if st.Completed != nil {
			s.Completed = *st.Completed
		}
	}
}

// steps returns every vertex and status with its duration, slowest first.
func (t *trace) steps() []step {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []step
	for _, d := range t.order {
		out = append(out, t.finish(*t.vertices[d]))
	}
	for _, s := range t.statuses {
		s := t.finish(*s)
		if s.Seconds >= 0.05 {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seconds > out[j].Seconds })
	return out
}

func (t *trace) finish(s step) step {
	if !s.Started.IsZero() && !s.Completed.IsZero() && !s.Cached {
		s.Seconds = s.Completed.Sub(s.Started).Seconds()
	}
	if !s.Started.IsZero() {
		s.At = s.Started.Sub(t.start).Seconds()
	}
	if !s.Completed.IsZero() {
		s.End = s.Completed.Sub(t.start).Seconds()
	}
	return s
}

// ran reports whether a vertex whose name starts with prefix was executed
// (completed and not cached).
func (t *trace) ran(prefix string) bool {
	for _, s := range t.steps() {
		if strings.HasPrefix(s.Name, prefix) && !s.Cached && !s.Completed.IsZero() {
			return true
		}
	}
	return false
}

// cached reports whether a vertex whose name starts with prefix was cached.
func (t *trace) cached(prefix string) bool {
	for _, s := range t.steps() {
		if strings.HasPrefix(s.Name, prefix) && s.Cached {
			return true
		}
	}
	return false
}

// summary is the slowest steps, one a line.
func (t *trace) summary(n int) string {
	var b strings.Builder
	for i, s := range t.steps() {
		if i == n {
			break
		}
		if s.Seconds < 0.01 {
			break
		}
		fmt.Fprintf(&b, "    %7.2fs  [%6.2f-%6.2f]  %s\n", s.Seconds, s.At, s.End, s.Name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.order {
		lt, s := t.logs[d], t.vertices[d]
		if lt == nil || lt.complete.IsZero() || s.Started.IsZero() || s.Completed.IsZero() {
			continue
		}
		fmt.Fprintf(&b, "    %s: output from %.2fs, \"Complete!\" at %.2fs, last output %.2fs, done %.2fs after it started\n", s.Name,
			lt.first.Sub(s.Started).Seconds(), lt.complete.Sub(s.Started).Seconds(), lt.last.Sub(s.Started).Seconds(), s.Completed.Sub(s.Started).Seconds())
	}
	for _, p := range t.phases {
		fmt.Fprintf(&b, "    install step: %s\n", p)
	}
	for _, d := range t.order {
		s := t.vertices[d]
		for _, l := range t.output[d] {
			fmt.Fprintf(&b, "    %6.2fs  %.40s | %s\n", l.at.Sub(s.Started).Seconds(), s.Name, l.text)
		}
	}
	return b.String()
}

// logSteps logs every step of a build by the time it ended, when
// BENCH_STEPS is set.
func logSteps(r *result) {
	if os.Getenv("BENCH_STEPS") == "" {
		return
	}
	logf("    started at %.3f (unix seconds)", float64(r.trace.start.UnixNano())/1e9)
	steps := slices.Clone(r.Steps)
	slices.SortFunc(steps, func(a, b step) int { return cmp.Compare(a.End, b.End) })
	for _, st := range steps {
		logf("    [%6.2f-%6.2f] cached=%v %s", st.At, st.End, st.Cached, st.Name)
	}
}
