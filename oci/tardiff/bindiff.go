package tardiff

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// A file whose content changed is described against the old file at its
// path as runs aligned with the old bytes (copied where they are the same,
// added to where they differ: a rebuilt binary's moved addresses, a
// version string) and the new bytes between them carried as they are, in
// the spirit of bsdiff: exact matches of at least minMatch bytes are found
// through a hash of the old file's windows, then each is grown over the
// bytes around it while at least half of them match.

// run is a stretch of the new file aligned with the old one: new[at:at+n]
// is old[from:from+n] plus the difference.
type run struct {
	at, from, n int
}

// The parameters, chosen on two security updates of Debian 12 libraries
// (libssl3 3.0.20 to 3.0.22, libglib2.0-0 2.74.6 deb12u2 to deb12u9): a
// shorter minMatch starts runs at chance matches that break the alignment
// of the real ones (32 bytes: deltas 0.23 and 0.17 of the zstd-compressed
// files at zstd's default level; 96: 0.16 and 0.10), and so did taking
// shorter matches on the last run's alignment (16 bytes: 0.28 and 0.20):
// the runs' growing over changed bytes does better than many short runs.
const (
	// window is the bytes hashed to find a match; the old file is indexed
	// every step bytes, so a match of window+step-1 bytes or more holds an
	// indexed window (unless another window took its slot).
	window = 16
	step   = 8
	// minMatch is the shortest exact match a run starts from.
	minMatch = 96
)

// alignedRuns returns the runs of new aligned with old, in order, not
// overlapping in new.
func alignedRuns(old, new []byte) []run {
	if len(old) < window || len(new) < window {
		return nil
	}
	// The index: the position of an old window by its hash (the first
	// one keeps a slot: in text that repeats, the start of a section).
	slots := 1 << bits.Len(uint(len(old)/step*2))
	mask := uint64(slots - 1)
	index := make([]int32, slots)
	for i := range index {
		index[i] = -1
	}
	for i := 0; i+window <= len(old); i += step {
		if slot := &index[hashWindow(old[i:])&mask]; *slot < 0 {
			*slot = int32(i)
		}
	}

	var exact []run
	covered := 0 // new is matched up to here
	shift := 0   // the last match's alignment: old position - new position
	for i := 0; i+window <= len(new); {
		// The last match's alignment first (bytes changed in place), then
		// the index.
		o := i + shift
		if o < 0 || o+window > len(old) || string(old[o:o+window]) != string(new[i:i+window]) {
			o = int(index[hashWindow(new[i:])&mask])
			if o < 0 || string(old[o:o+window]) != string(new[i:i+window]) {
				i++
				continue
			}
		}
		// Grow the match both ways.
		end := window
		for i+end < len(new) && o+end < len(old) && new[i+end] == old[o+end] {
			end++
		}
		back := 0
		for i-back > covered && o-back > 0 && new[i-back-1] == old[o-back-1] {
			back++
		}
		if back+end < minMatch {
			i++
			continue
		}
		exact = append(exact, run{at: i - back, from: o - back, n: back + end})
		i += end
		covered, shift = i, o-(i-end)
	}
	if len(exact) == 0 {
		return nil
	}

	// Grow each run over the gap after it (forward, its alignment) and
	// the gap before the next (backward, the next one's), keeping the
	// lengths where matches outnumber mismatches the most.
	runs := make([]run, 0, len(exact))
	for k, r := range exact {
		gapEnd := len(new)
		if k+1 < len(exact) {
			gapEnd = exact[k+1].at
		}
		// Backward, into what the previous run left; forward, into the
		// gap before the next.
		lo := 0
		if len(runs) > 0 {
			lo = runs[len(runs)-1].at + runs[len(runs)-1].n
		}
		b := grow(old, new, r.at, r.from, r.at-lo, -1)
		r.at, r.from, r.n = r.at-b, r.from-b, r.n+b
		r.n += grow(old, new, r.at+r.n, r.from+r.n, gapEnd-(r.at+r.n), 1)
		// Adjacent runs with the same alignment are one.
		if len(runs) > 0 {
			prev := &runs[len(runs)-1]
			if prev.at+prev.n == r.at && prev.from+prev.n == r.from {
				prev.n += r.n
				continue
			}
		}
		runs = append(runs, r)
	}
	return runs
}

// grow is how far a run grows from new[at] and old[from] in direction d
// (1: over the bytes there and after, -1: over those before), over at most
// limit bytes: the length where matches outnumber mismatches the most.
func grow(old, new []byte, at, from, limit, d int) int {
	best, score, s := 0, 0, 0
	for k := range limit {
		i, j := at+k, from+k
		if d < 0 {
			i, j = at-1-k, from-1-k
		}
		if j < 0 || j >= len(old) {
			break
		}
		if new[i] == old[j] {
			s++
		} else {
			s--
		}
		if s > score {
			best, score = k+1, s
		}
	}
	return best
}

// hashWindow hashes the window bytes at b's start.
func hashWindow(b []byte) uint64 {
	a := binary.LittleEndian.Uint64(b)
	c := binary.LittleEndian.Uint64(b[8:])
	h := a*0x9E3779B97F4A7C15 ^ bits.RotateLeft64(c*0xC2B2AE3D27D4EB4F, 31)
	return h ^ h>>29
}

// diffCost is about what describing new with runs carries before
// compression: the new bytes outside the runs, the differing bytes inside
// them and a few bytes an operation.
func diffCost(old, new []byte, runs []run) int {
	cost, at := 0, 0
	for _, r := range runs {
		cost += r.at - at + 24
		for j := range r.n {
			if new[r.at+j] != old[r.from+j] {
				cost++
			}
		}
		at = r.at + r.n
	}
	return cost + len(new) - at
}

// copyMin is the shortest stretch of a run written as a copy; shorter
// equal stretches go with the added bytes around them.
const copyMin = 8

// fileOp is one operation on the old file a changed file is described
// against.
type fileOp struct {
	code byte
	size int
	data []byte // opData's and opAddData's
}

// diffOps are the operations that rebuild new from old (the old file
// opened), following runs.
func diffOps(old, new []byte, runs []run) []fileOp {
	var ops []fileOp
	pos, at := 0, 0
	for _, r := range runs {
		if r.at > at {
			ops = append(ops, fileOp{opData, r.at - at, new[at:r.at]})
		}
		if r.from != pos {
			ops = append(ops, fileOp{opSeek, r.from, nil})
		}
		for j := 0; j < r.n; {
			s, e := nextEqual(old[r.from:r.from+r.n], new[r.at:r.at+r.n], j)
			if s > j {
				add := make([]byte, s-j)
				for k := range add {
					add[k] = new[r.at+j+k] - old[r.from+j+k]
				}
				ops = append(ops, fileOp{opAddData, len(add), add})
			}
			if e > s {
				ops = append(ops, fileOp{opCopy, e - s, nil})
			}
			j = e
		}
		pos, at = r.from+r.n, r.at+r.n
	}
	if at < len(new) {
		ops = append(ops, fileOp{opData, len(new) - at, new[at:]})
	}
	return ops
}

// replay applies ops to old as Flatpak does; false when an operation
// reads past old's end.
func replay(old []byte, ops []fileOp) ([]byte, bool) {
	var out []byte
	pos := 0
	for _, op := range ops {
		switch op.code {
		case opData:
			out = append(out, op.data...)
		case opSeek:
			pos = op.size
		case opCopy, opAddData:
			if pos < 0 || pos+op.size > len(old) {
				return nil, false
			}
			if op.code == opCopy {
				out = append(out, old[pos:pos+op.size]...)
			} else {
				for k, b := range op.data {
					out = append(out, old[pos+k]+b)
				}
			}
			pos += op.size
		}
	}
	return out, true
}

// writeDiff writes ops, on the old file at path from, after checking that
// they rebuild new from old; false (nothing written) when they do not.
func (d *deltaWriter) writeDiff(from string, old, new []byte, ops []fileOp, st *Stats) (bool, error) {
	if got, ok := replay(old, ops); !ok || !bytes.Equal(got, new) {
		return false, nil
	}
	if err := d.op(opOpen, uint64(len(from)), []byte(from)); err != nil {
		return false, err
	}
	for _, op := range ops {
		if err := d.op(op.code, uint64(op.size), op.data); err != nil {
			return false, err
		}
		switch op.code {
		case opData, opAddData:
			st.Carried += int64(op.size)
		case opCopy:
			st.Copied += int64(op.size)
		}
	}
	st.Diffed += int64(len(new))
	return true, nil
}

// nextEqual is the first stretch [s, e) at or after j where a and b hold
// the same copyMin or more bytes; (len, len) when there is none.
func nextEqual(a, b []byte, j int) (s, e int) {
	start := j
	for k := j; k < len(a); k++ {
		if a[k] != b[k] {
			if k-start >= copyMin {
				return start, k
			}
			start = k + 1
		}
	}
	if len(a)-start >= copyMin {
		return start, len(a)
	}
	return len(a), len(a)
}
