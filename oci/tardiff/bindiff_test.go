package tardiff

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// rebuilt is what a program recompiled after a small change looks like to
// a delta: its bytes shifted by an insertion and a deletion, a block moved,
// and 4-byte values (addresses) changed every few hundred bytes.
func rebuilt(rng *rand.Rand, old []byte) []byte {
	b := slices.Clone(old)
	for i := 300; i+4 < len(b); i += 200 + rng.Intn(400) {
		binary.LittleEndian.PutUint32(b[i:], binary.LittleEndian.Uint32(b[i:])+uint32(rng.Intn(64)+1))
	}
	mid := len(b) / 2
	inserted := make([]byte, 700)
	rng.Read(inserted)
	b = slices.Concat(b[:mid], inserted, b[mid:])
	b = slices.Delete(b, len(b)/4, len(b)/4+min(300, len(b)/8))
	m := min(2000, len(b)/4)
	moved := slices.Clone(b[len(b)/8 : len(b)/8+m])
	b = slices.Delete(b, len(b)/8, len(b)/8+m)
	return slices.Concat(b, moved)
}

// ops lists a delta's operation codes.
func ops(t *testing.T, delta []byte) []byte {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(delta[len(magic):]))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	r := bufio.NewReader(zr)
	var codes []byte
	for {
		code, err := r.ReadByte()
		if err == io.EOF {
			return codes
		}
		size, err := binary.ReadUvarint(r)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
		if code == opData || code == opOpen || code == opAddData {
			if _, err := io.CopyN(io.Discard, r, int64(size)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A changed file is written as its difference from the old file at its
// path, or, its name's version changed, at the name of its folder that
// shares the most with it; the delta rebuilds the layer byte for byte and
// is a fraction of the one that carries them.
func TestDeltaDescribesChangedFilesByTheirDifference(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	bin := make([]byte, 300_000)
	rng.Read(bin)
	lib := make([]byte, spoolLimit+50_000) // spooled to disk when read
	rng.Read(lib)
	text := "Greetings from hello-data 1.0, " + strings.Repeat("and more text around it, ", 40) + "for 1.0.\n"
	entries := []entry{dir("files/"), dir("files/bin/"), file("files/bin/app", string(bin)),
		file("files/lib/libfoo.so.1.2.3", string(lib)), file("files/share/greeting", text),
		file("files/lib/libbar.so.4", string(bin[:5000]))}
	for i := range 300 { // names around libfoo's, none sharing as much
		entries = append(entries, file(fmt.Sprintf("files/lib/lib%c%03d.so", 'a'+i%26, i), "x"))
	}
	old := makeTar(t, entries...)
	app, foo, greeting := rebuilt(rng, bin), rebuilt(rng, lib), strings.ReplaceAll(text, "1.0", "2.0")
	newLayer := makeTar(t, dir("files/"), dir("files/bin/"), file("files/bin/app", string(app)),
		file("files/lib/libfoo.so.1.2.4", string(foo)), file("files/share/greeting", greeting),
		file("files/lib/other.so", string(rebuilt(rng, bin[:5000]))))

	write := func(src *Source) ([]byte, Stats) {
		if err := src.AddLayer(bytes.NewReader(old)); err != nil {
			t.Fatal(err)
		}
		var delta bytes.Buffer
		st, err := Write(&delta, bytes.NewReader(newLayer), src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := apply(delta.Bytes(), extract(t, old))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, newLayer) || st.DiffID != diffID(newLayer) {
			t.Fatalf("the rebuilt layer differs: %d bytes, want %d", len(got), len(newLayer))
		}
		return delta.Bytes(), st
	}
	carried, _ := write(NewSource())
	diffed, st := write(NewDiffingSource(t.TempDir()))
	t.Logf("delta %d bytes with differences, %d without; %+v", len(diffed), len(carried), st)
	if len(diffed)*10 > len(carried) {
		t.Errorf("the delta is %d bytes with differences, %d without", len(diffed), len(carried))
	}
	// other.so shares no start of name with libbar.so.4: carried.
	if want := int64(len(app) + len(foo) + len(greeting)); st.Diffed != want {
		t.Errorf("%d bytes written as differences, want %d", st.Diffed, want)
	}
	codes := ops(t, diffed)
	for _, c := range []byte{opAddData, opSeek, opCopy} {
		if !slices.Contains(codes, c) {
			t.Errorf("no operation %d in %v", c, codes)
		}
	}
}

// Whatever the old and new bytes, the delta rebuilds the new.
func FuzzDiffRebuilds(f *testing.F) {
	rng := rand.New(rand.NewSource(3))
	seed := make([]byte, 3000)
	rng.Read(seed)
	f.Add(seed, rebuilt(rng, seed))
	f.Add(bytes.Repeat([]byte("ab"), 500), bytes.Repeat([]byte("ab"), 700))
	f.Add(bytes.Repeat([]byte{0}, 4096), append(bytes.Repeat([]byte{0}, 4000), 1))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		// The difference alone, whatever it would cost.
		if got, ok := replay(a, diffOps(a, b, alignedRuns(a, b))); !ok || !bytes.Equal(got, b) {
			t.Fatalf("the operations rebuild %d bytes of %d (ok %v)", len(got), len(b), ok)
		}
		old := makeTar(t, file("files/f", string(a)))
		layer := makeTar(t, file("files/f", string(b)))
		src := NewDiffingSource(t.TempDir())
		if err := src.AddLayer(bytes.NewReader(old)); err != nil {
			t.Fatal(err)
		}
		var delta bytes.Buffer
		if _, err := Write(&delta, bytes.NewReader(layer), src); err != nil {
			t.Fatal(err)
		}
		got, err := apply(delta.Bytes(), extract(t, old))
		if err != nil || !bytes.Equal(got, layer) {
			t.Fatalf("rebuilt %d bytes of %d (%v)", len(got), len(layer), err)
		}
	})
}

// Text that repeats itself, its version changed and a line dropped (the
// publish test's greetings), is described by its difference: bytes added
// to the old ones where the version changed, a seek past the dropped line.
func TestDeltaDescribesAnEditedText(t *testing.T) {
	long, tail := strings.Repeat(" and more", 20), strings.Repeat(", and so on", 10)
	oldText := "Greetings from hello-data 1.0" + long + " (a line 2.0 drops)" + tail + "\n"
	newText := "Greetings from hello-data 2.0" + long + tail + "\n"
	old := makeTar(t, file("files/share/hello/greeting.txt", oldText))
	layer := makeTar(t, file("files/share/hello/greeting.txt", newText))
	src := NewDiffingSource(t.TempDir())
	if err := src.AddLayer(bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	var delta bytes.Buffer
	st, err := Write(&delta, bytes.NewReader(layer), src)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := apply(delta.Bytes(), extract(t, old)); err != nil || !bytes.Equal(got, layer) {
		t.Fatalf("rebuilt %d bytes of %d (%v)", len(got), len(layer), err)
	}
	codes := ops(t, delta.Bytes())
	if st.Diffed != int64(len(newText)) || !slices.Contains(codes, opAddData) || !slices.Contains(codes, opSeek) {
		t.Errorf("%+v, operations %v", st, codes)
	}
}

// Operations that would not rebuild the file are not written: the file is
// carried instead.
func TestWriteDiffChecksItsOperations(t *testing.T) {
	old, new := []byte(strings.Repeat("old bytes ", 30)), []byte(strings.Repeat("new bytes ", 30))
	for _, ops := range [][]fileOp{
		{{code: opCopy, size: len(new)}},                       // copies the old bytes
		{{code: opSeek, size: 250}, {code: opCopy, size: 100}}, // past the end
	} {
		var b bytes.Buffer
		d := &deltaWriter{w: &b}
		var st Stats
		if written, err := d.writeDiff("files/f", old, new, ops, &st); err != nil || written || b.Len() != 0 {
			t.Errorf("%v: written %v, %d bytes (%v)", ops, written, b.Len(), err)
		}
	}
}

// The difference rebuilds the new bytes from the old on many pairs: of few
// distinct bytes (repeats, runs of one byte) and of random ones, each
// rebuilt (shifted, values changed, a block moved).
func TestDifferenceRebuildsGeneratedPairs(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	described := 0
	for i := range 500 {
		a := make([]byte, 100+rng.Intn(20000))
		rng.Read(a)
		for j := range a {
			a[j] %= byte(1 + i%7*40)
		}
		b := rebuilt(rng, a)
		if i%3 == 0 {
			b, a = a, b
		}
		runs := alignedRuns(a, b)
		if got, ok := replay(a, diffOps(a, b, runs)); !ok || !bytes.Equal(got, b) {
			t.Fatalf("pair %d: the operations rebuild %d bytes of %d (ok %v)", i, len(got), len(b), ok)
		}
		if len(runs) > 0 && 2*diffCost(a, b, runs) < len(b) {
			described++
		}
	}
	if described < 250 {
		t.Errorf("%d of 500 pairs described by their difference", described)
	}
}
