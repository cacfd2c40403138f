package spec

import (
	"strconv"
	"strings"
)

// Marker is a path element with a special meaning for (*Source).Range.
type Marker int

// Key, as the last element of a path, asks for the range of a mapping key
// instead of its value: Range("labels", "org.foo", Key).
const Key Marker = 1

// Range returns the range of the node that set the value at path. Path
// elements are canonical key names (strings, such as "cleanup-commands" even
// when the file spells it cleanup_commands), list indexes (ints) and
// optionally Key last. With an empty path it returns the whole file. For
// finish-args given as one string, Range("finish-args", i) is the range of
// the i-th argument inside it.
func (s *Source) Range(path ...any) (Range, bool) {
	if s == nil {
		return Range{}, false
	}
	if len(path) == 0 {
		return wholeFile(s.Data), true
	}
	k, ok := pathKey(path)
	if !ok {
		return Range{}, false
	}
	r, ok := s.ranges[k]
	return r, ok
}

func (s *Source) set(r Range, path ...any) {
	if s.ranges == nil {
		s.ranges = map[string]Range{}
	}
	k, ok := pathKey(path)
	if !ok {
		return
	}
	if _, dup := s.ranges[k]; dup {
		return // the first node wins (aliases can revisit a path)
	}
	s.ranges[k] = r
}

func pathKey(path []any) (string, bool) {
	var b strings.Builder
	for i, e := range path {
		if i > 0 {
			b.WriteByte('/')
		}
		switch v := e.(type) {
		case string:
			b.WriteString(strconv.Quote(v))
		case int:
			b.WriteString(strconv.Itoa(v))
		case Marker:
			b.WriteString("#")
			b.WriteString(strconv.Itoa(int(v)))
		default:
			return "", false
		}
	}
	return b.String(), true
}

// pathString renders a path for messages: packages[2].name, labels["a b"].
func pathString(path []any) string {
	var b strings.Builder
	for _, e := range path {
		switch v := e.(type) {
		case string:
			if b.Len() > 0 {
				if isPlainKey(v) {
					b.WriteByte('.')
					b.WriteString(v)
				} else {
					b.WriteString("[" + strconv.Quote(v) + "]")
				}
			} else {
				b.WriteString(v)
			}
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		}
	}
	return b.String()
}

func isPlainKey(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func wholeFile(data []byte) Range {
	end := Pos{Line: 1, Column: 1}
	for _, c := range strings.TrimPrefix(string(data), "\ufeff") {
		if c == '\n' {
			end.Line++
			end.Column = 1
		} else {
			end.Column++
		}
	}
	return Range{Start: Pos{1, 1}, End: end}
}
