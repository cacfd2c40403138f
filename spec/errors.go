package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a spec file, with the range of the YAML node it is
// about.
type Error struct {
	Filename string
	Range    Range
	Msg      string
}

// Error formats the problem as FILE:LINE:COL: message.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Filename, e.Range.Start.Line, e.Range.Start.Column, e.Msg)
}

// Errors is every problem Parse found, sorted by position.
type Errors []*Error

// Error is one line per problem.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns each problem, for errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Range.Start, es[j].Range.Start
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// dedupe drops errors with the same position and message (a value can be
// reached twice through YAML aliases).
func (es Errors) dedupe() Errors {
	out := es[:0]
	seen := map[string]bool{}
	for _, e := range es {
		k := e.Error()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}
