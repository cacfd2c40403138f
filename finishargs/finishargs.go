// Package finishargs parses flatpak build-finish options into the sandbox
// permissions (Flatpak's "context") they describe and writes them as the
// metadata keyfile groups build-finish writes.
package finishargs

// Context is the sandbox permissions that a list of finish-args describes.
// TODO(metadata helper): replace with the real model.
type Context struct{}

// Error is a problem with one finish-arg.
type Error struct {
	// Index of the argument in the list given to Parse.
	Index int
	// Msg says what is wrong and what would be right.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Errors is every problem Parse found.
type Errors []*Error

func (e Errors) Error() string {
	s := ""
	for i, x := range e {
		if i > 0 {
			s += "\n"
		}
		s += x.Msg
	}
	return s
}

// Parse reads finish-args. On failure the error is Errors, one per bad
// argument. TODO(metadata helper): implement.
func Parse(args []string) (*Context, error) { return &Context{}, nil }
