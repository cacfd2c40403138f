package keyfile

import (
	"strings"
)

// EditValues rewrites, in a key file's text, the values of the keys of one
// group, and leaves every other byte as it was: comments, blank lines, the
// order of keys, other groups. edit gets each key of the group (a localized
// key with its "[locale]") and its value as written (escaped), and returns
// the value to write. Lines that are not key=value pairs are kept.
//
// This is for files a package shipped, such as desktop files, where only a
// few values change and the rest must stay the packager's.
func EditValues(data []byte, groupName string, edit func(key, value string) string) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	in := false
	for i, line := range lines {
		body := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		end := line[len(body):]
		trimmed := strings.TrimLeft(body, " \t")
		switch {
		case trimmed == "" || trimmed[0] == '#':
		case trimmed[0] == '[':
			close := strings.IndexByte(trimmed, ']')
			in = close > 0 && trimmed[1:close] == groupName
		case in:
			eq := strings.IndexByte(body, '=')
			if eq < 0 {
				continue
			}
			key := strings.TrimSpace(body[:eq])
			rest := body[eq+1:]
			value := strings.TrimLeft(rest, " \t")
			if nv := edit(key, value); nv != value {
				lines[i] = body[:eq+1] + rest[:len(rest)-len(value)] + nv + end
			}
		}
	}
	return []byte(strings.Join(lines, ""))
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
