package spec

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Line and column bookkeeping. Lines break where yaml.v3 breaks them (LF,
// CR, CRLF, NEL, LS, PS) and columns count characters, as yaml.v3 does, so
// that positions computed here agree with the parser's.

func (p *parser) indexLines() {
	p.lines = []int{0}
	d := p.data
	if bytes.HasPrefix(d, []byte("\ufeff")) {
		// yaml.v3 does not count a byte order mark as a column.
		p.lines[0] = 3
	}
	p.ascii = true
	for _, c := range d {
		if c >= 0x80 {
			p.ascii = false
			break
		}
	}
	for i := 0; i < len(d); {
		switch {
		case d[i] == '\r' && i+1 < len(d) && d[i+1] == '\n':
			i += 2
		case d[i] == '\r' || d[i] == '\n':
			i++
		case d[i] == 0xC2 && i+1 < len(d) && d[i+1] == 0x85:
			i += 2
		case d[i] == 0xE2 && i+2 < len(d) && d[i+1] == 0x80 && (d[i+2] == 0xA8 || d[i+2] == 0xA9):
			i += 3
		default:
			i++
			continue
		}
		p.lines = append(p.lines, i)
	}
}

// lineEnd is the offset of the line break ending line l (1-based).
func (p *parser) lineEnd(l int) int {
	if l < 1 {
		return 0
	}
	if l >= len(p.lines) {
		return len(p.data)
	}
	e := p.lines[l]
	for e > p.lines[l-1] {
		c := p.data[e-1]
		if c == '\n' || c == '\r' {
			e--
			continue
		}
		if c == 0x85 && e >= 2 && p.data[e-2] == 0xC2 {
			e -= 2
			continue
		}
		if (c == 0xA8 || c == 0xA9) && e >= 3 && p.data[e-3] == 0xE2 && p.data[e-2] == 0x80 {
			e -= 3
			continue
		}
		break
	}
	return e
}

func (p *parser) posAt(off int) Pos {
	off = max(p.lines[0], min(off, len(p.data)))
	l := sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off }) // first line starting after off
	start := p.lines[l-1]
	if e := p.lineEnd(l); off > e {
		off = e
	}
	return Pos{Line: l, Column: p.column(l, start, off)}
}

// column is the 1-based column of byte offset off on line l (which starts
// at start). Non-ASCII lines keep a checkpoint every markEvery characters,
// so that long lines do not make positions quadratic.
func (p *parser) column(l, start, off int) int {
	if p.ascii {
		return off - start + 1
	}
	marks := p.lineMarks(l)
	k := sort.Search(len(marks), func(i int) bool { return marks[i] > off }) - 1
	return k*markEvery + utf8.RuneCount(p.data[marks[k]:off]) + 1
}

const markEvery = 256

// lineMarks returns the byte offsets of characters 0, markEvery,
// 2*markEvery, ... of line l.
func (p *parser) lineMarks(l int) []int {
	if m, ok := p.marks[l]; ok {
		return m
	}
	start, end := p.lines[l-1], p.lineEnd(l)
	m := []int{start}
	for off, n := start, 0; off < end; n++ {
		if n > 0 && n%markEvery == 0 {
			m = append(m, off)
		}
		_, w := utf8.DecodeRune(p.data[off:end])
		off += w
	}
	if p.marks == nil {
		p.marks = map[int][]int{}
	}
	p.marks[l] = m
	return m
}

func (p *parser) offsetOf(pos Pos) int {
	if pos.Line < 1 {
		return 0
	}
	if pos.Line > len(p.lines) {
		return len(p.data)
	}
	start := p.lines[pos.Line-1]
	end := p.lineEnd(pos.Line)
	if p.ascii {
		return min(start+max(pos.Column-1, 0), end)
	}
	marks := p.lineMarks(pos.Line)
	k := min((pos.Column-1)/markEvery, len(marks)-1)
	off, col := marks[k], k*markEvery+1
	for ; col < pos.Column && off < end; col++ {
		_, n := utf8.DecodeRune(p.data[off:end])
		off += n
	}
	return off
}

func (p *parser) clampRange(r Range) Range {
	if p.lines == nil {
		return r
	}
	clamp := func(pos Pos) Pos {
		if pos.Line < 1 {
			return Pos{1, 1}
		}
		if pos.Line > len(p.lines) {
			return p.posAt(len(p.data))
		}
		if pos.Column < 1 {
			pos.Column = 1
		} else if pos.Column > 1 {
			// At most one past the end of the line.
			end := p.lineEnd(pos.Line)
			if off := p.offsetOf(pos); off >= end {
				pos.Column = p.posAt(end).Column
			}
		}
		return pos
	}
	r.Start, r.End = clamp(r.Start), clamp(r.End)
	if r.End.Line < r.Start.Line || r.End.Line == r.Start.Line && r.End.Column < r.Start.Column {
		r.End = r.Start
	}
	return r
}

// rangeOf is the span of a node in the file.
func (p *parser) rangeOf(n *yaml.Node) Range {
	start := Pos{n.Line, n.Column}
	if p.lines == nil {
		return Range{start, start}
	}
	return p.clampRange(Range{start, p.posAt(p.endOffset(n))})
}

// endOffset is the byte offset just after node n.
func (p *parser) endOffset(n *yaml.Node) int {
	if e, ok := p.ends[n]; ok {
		return e
	}
	e := p.computeEnd(n)
	if p.ends == nil {
		p.ends = map[*yaml.Node]int{}
	}
	p.ends[n] = e
	return e
}

func (p *parser) computeEnd(n *yaml.Node) int {
	start := p.offsetOf(Pos{n.Line, n.Column})
	switch n.Kind {
	case yaml.AliasNode:
		return start + 1 + len(n.Value)
	case yaml.MappingNode, yaml.SequenceNode:
		// The end of the last child (iteratively: documents may nest deeply).
		last := n
		for (last.Kind == yaml.MappingNode || last.Kind == yaml.SequenceNode) && len(last.Content) > 0 {
			last = last.Content[len(last.Content)-1]
		}
		if last == n {
			if n.Style&yaml.FlowStyle != 0 {
				return p.closeBracket(start + 1)
			}
			return start
		}
		end := p.endOffset(last)
		if n.Style&yaml.FlowStyle != 0 {
			end = p.closeBracket(end)
		}
		return end
	}
	// Scalars.
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		_, end := p.blockLines(n)
		return end
	case n.Style&yaml.DoubleQuotedStyle != 0:
		d := p.data
		for i := start + 1; i < len(d); i++ {
			if d[i] == '\\' {
				i++
			} else if d[i] == '"' {
				return i + 1
			}
		}
		return len(d)
	case n.Style&yaml.SingleQuotedStyle != 0:
		d := p.data
		for i := start + 1; i < len(d); i++ {
			if d[i] == '\'' {
				if i+1 < len(d) && d[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return len(d)
	}
	// Plain: find each word of the value in turn.
	if isNull(n) && n.Value == "" {
		return start
	}
	cur := start
	for _, w := range strings.Fields(n.Value) {
		i := bytes.Index(p.data[cur:], []byte(w))
		if i < 0 {
			break
		}
		cur += i + len(w)
	}
	return cur
}

// closeBracket returns the offset after the next ']' or '}' from off.
func (p *parser) closeBracket(off int) int {
	i := bytes.IndexAny(p.data[min(off, len(p.data)):], "]}")
	if i < 0 {
		return off
	}
	return off + i + 1
}

// blockLines returns the offset where the content of block scalar n starts
// (the line after its indicator) and the offset after its last non-blank
// line.
func (p *parser) blockLines(n *yaml.Node) (start, end int) {
	first := n.Line + 1
	if first > len(p.lines) {
		return len(p.data), len(p.data)
	}
	start = p.lines[first-1]
	end = p.offsetOf(Pos{n.Line, n.Column}) + 1
	indent := -1
	for l := first; l <= len(p.lines); l++ {
		line := p.data[p.lines[l-1]:p.lineEnd(l)]
		trimmed := bytes.TrimLeft(line, " ")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ind := len(line) - len(trimmed)
		if indent < 0 {
			if ind == 0 {
				break
			}
			indent = ind
		}
		if ind < indent {
			break
		}
		end = p.lineEnd(l)
	}
	return start, end
}

// contentStart is where the text of scalar n starts in the file.
func (p *parser) contentStart(n *yaml.Node) int {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		s, _ := p.blockLines(n)
		return s
	}
	return p.offsetOf(Pos{n.Line, n.Column})
}

// find locates raw, a piece of the value of scalar n, in the file at or
// after *cursor and within n, and moves the cursor past it. When raw cannot
// be found as written (escapes, folding) it returns the range of n.
func (p *parser) find(n *yaml.Node, raw string, cursor *int) Range {
	if first, _, ok := strings.Cut(raw, "\n"); ok {
		raw = first
	}
	limit := max(p.endOffset(n), *cursor)
	limit = min(limit, len(p.data))
	from := min(*cursor, limit)
	if raw == "" {
		pos := p.posAt(from)
		return Range{pos, pos}
	}
	i := bytes.Index(p.data[from:limit], []byte(raw))
	if i < 0 {
		return p.rangeOf(n)
	}
	*cursor = from + i + len(raw)
	return Range{p.posAt(from + i), p.posAt(from + i + len(raw))}
}
