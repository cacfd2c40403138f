package keyfile

import (
	"strings"
)

// Lines is a key file's text, edited in place: values are read and set in
// their escaped form, and every line not set stays as it was (comments,
// blank lines, the order of keys, other groups). It is for files a package
// shipped, such as desktop files, where a few values change and the rest
// must stay the packager's.
type Lines struct {
	lines []string
}

// ParseLines splits a key file into lines.
func ParseLines(data []byte) *Lines {
	s := string(data)
	l := &Lines{lines: strings.SplitAfter(s, "\n")}
	if n := len(l.lines); n > 0 && l.lines[n-1] == "" {
		l.lines = l.lines[:n-1]
	}
	return l
}

// Bytes is the edited text.
func (l *Lines) Bytes() []byte { return []byte(strings.Join(l.lines, "")) }

// entry is a key=value line of a group.
type entry struct {
	line       int
	key, value string
}

// group returns the key lines of a group, and the index of the line after
// which a new key goes (-1 when the group is missing).
func (l *Lines) group(name string) ([]entry, int) {
	var out []entry
	in, last := false, -1
	for i, line := range l.lines {
		body := strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimLeft(body, " \t")
		switch {
		case trimmed == "" || trimmed[0] == '#':
		case trimmed[0] == '[':
			end := strings.IndexByte(trimmed, ']')
			in = end > 0 && trimmed[1:end] == name
			if in {
				last = i
			}
		case in:
			if eq := strings.IndexByte(body, '='); eq >= 0 {
				out = append(out, entry{i, strings.TrimSpace(body[:eq]), strings.TrimLeft(body[eq+1:], " \t")})
				last = i
			}
		}
	}
	return out, last
}

// Keys are the keys of a group, localized ones ("Name[de]") included.
func (l *Lines) Keys(group string) []string {
	entries, _ := l.group(group)
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.key)
	}
	return keys
}

// Value is a key's value as written (escaped).
func (l *Lines) Value(group, key string) (string, bool) {
	entries, _ := l.group(group)
	for _, e := range entries {
		if e.key == key {
			return e.value, true
		}
	}
	return "", false
}

// Set sets a key's value (escaped): in its line when the group has the key,
// else in a new line after the group's last key, else in a new group at the
// end of the file.
func (l *Lines) Set(group, key, value string) {
	entries, last := l.group(group)
	for _, e := range entries {
		if e.key == key {
			line := l.lines[e.line]
			body := strings.TrimRight(line, "\r\n")
			eq := strings.IndexByte(body, '=')
			rest := body[eq+1:]
			l.lines[e.line] = body[:eq+1] + rest[:len(rest)-len(strings.TrimLeft(rest, " \t"))] + value + line[len(body):]
			return
		}
	}
	newLine := key + "=" + value + "\n"
	if last < 0 {
		if n := len(l.lines); n > 0 && !strings.HasSuffix(l.lines[n-1], "\n") {
			l.lines[n-1] += "\n"
		}
		if len(l.lines) > 0 {
			l.lines = append(l.lines, "\n")
		}
		l.lines = append(l.lines, "["+group+"]\n", newLine)
		return
	}
	if !strings.HasSuffix(l.lines[last], "\n") {
		l.lines[last] += "\n"
	}
	l.lines = append(l.lines[:last+1], append([]string{newLine}, l.lines[last+1:]...)...)
}

// Unescape returns the string a value stands for (the inverse of
// EscapeString), or the value itself if it is not validly escaped.
func Unescape(value string) string {
	s, _, err := unescape(value, false)
	if err != nil {
		return value
	}
	return s
}
