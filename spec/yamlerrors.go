package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// yaml.v3 reports syntax errors as text only: these read the line (and
// for some, the column) back out of it.

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) syntaxError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		msg = m[2]
		if l, err := strconv.Atoi(m[1]); err == nil {
			line = l
			// yaml.v3 counts lines from 0 for parser (not scanner) errors,
			// and reports where the enclosing collection starts.
			if isParserError(msg) {
				line++
			}
		}
	} else {
		// Without "line N", yaml.v3's error is on the first line, or is
		// not tied to one (an unknown anchor).
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	off := p.syntaxOffset(msg, line)
	pos := p.posAt(off)
	p.errorAt(Range{pos, pos}, "YAML syntax error: %s%s", msg, p.tokenHint(msg, off))
}

// tokenHint says what to do about a character no YAML token starts with.
func (p *parser) tokenHint(msg string, i int) string {
	if !strings.HasPrefix(msg, "found character that cannot start any token") || i < 0 || i >= len(p.data) {
		return ""
	}
	switch p.data[i] {
	case '\t':
		return " (a tab: YAML indents with spaces only)"
	case '@', '`':
		return fmt.Sprintf(" (%q cannot start a plain value: put the value in quotes)", p.data[i])
	}
	return ""
}

var unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// syntaxOffset is where a YAML syntax error is, as a byte offset: yaml.v3
// gives the line (of most errors) but no column, so the offending token is
// looked for in it.
func (p *parser) syntaxOffset(msg string, line int) int {
	if strings.Contains(msg, "end of stream") {
		// The parser reached the end of the file.
		return len(p.data)
	}
	if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		// The first alias of that name: *NAME followed by no name
		// character.
		re := regexp.MustCompile(`\*` + regexp.QuoteMeta(m[1]) + `(?:[\s,\]}]|$)`)
		if loc := re.FindIndex(p.data); loc != nil {
			return loc[0]
		}
		return 0
	}
	if line < 1 || line > len(p.lines) {
		return 0
	}
	start := p.lines[line-1]
	end := len(p.data)
	if line < len(p.lines) {
		end = p.lines[line]
	}
	text := string(p.data[start:end])
	col := -1
	switch {
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		// '@' and '`' are reserved; a tab cannot indent.
		col = strings.IndexAny(text, "@`\t")
	case strings.HasPrefix(msg, "mapping values are not allowed"):
		// The ':' that would start a mapping where none can be.
		first := strings.Index(text, ": ")
		if second := strings.Index(text[first+1:], ": "); first >= 0 && second >= 0 {
			col = first + 1 + second
		} else {
			col = first
		}
	case strings.HasPrefix(msg, "did not find expected ',' or ']'"):
		col = strings.IndexByte(text, '[')
	case strings.HasPrefix(msg, "did not find expected ',' or '}'"):
		col = strings.IndexByte(text, '{')
	}
	if col < 0 {
		col = len(text) - len(strings.TrimLeft(text, " \t"))
	}
	return start + col
}

// isParserError reports whether a yaml.v3 message comes from its parser
// (parserc.go) rather than its scanner.
func isParserError(msg string) bool {
	for _, p := range []string{"did not find expected", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
