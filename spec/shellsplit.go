package spec

// word is one argument of a shell-like string: its value and the span
// [start,end) of its text in the input, quotes included.
type word struct {
	value      string
	start, end int
}

type splitError struct {
	start int
	msg   string
}

// shellSplit splits s the way a POSIX shell splits words, as Fedora's
// container.yaml writes finish-args: blanks and newlines separate words;
// '...' quotes literally; "..." quotes with \ escaping \ " $ ` and newline;
// outside quotes \ escapes the next character and \ before a newline joins
// lines; # at the start of a word begins a comment to the end of the line.
// Words found before an error are returned with it.
func shellSplit(s string) ([]word, *splitError) {
	var words []word
	i := 0
	for {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		if i >= len(s) {
			return words, nil
		}
		if s[i] == '#' {
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		}
		start := i
		var val []byte
		for i < len(s) && !isBlank(s[i]) {
			switch c := s[i]; c {
			case '\'':
				j := i + 1
				for j < len(s) && s[j] != '\'' {
					j++
				}
				if j >= len(s) {
					return words, &splitError{i, "unterminated single quote (')"}
				}
				val = append(val, s[i+1:j]...)
				i = j + 1
			case '"':
				j := i + 1
				for ; j < len(s) && s[j] != '"'; j++ {
					if s[j] == '\\' && j+1 < len(s) {
						switch s[j+1] {
						case '\\', '"', '$', '`':
							val = append(val, s[j+1])
							j++
							continue
						case '\n':
							j++
							continue
						}
					}
					val = append(val, s[j])
				}
				if j >= len(s) {
					return words, &splitError{i, "unterminated double quote (\")"}
				}
				i = j + 1
			case '\\':
				if i+1 >= len(s) {
					i++ // a trailing backslash is dropped
					continue
				}
				if s[i+1] != '\n' {
					val = append(val, s[i+1])
				}
				i += 2
			default:
				val = append(val, c)
				i++
			}
		}
		words = append(words, word{value: string(val), start: start, end: i})
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
