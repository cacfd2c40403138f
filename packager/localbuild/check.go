package localbuild

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
)

// Check finds what would fail a build only once the daemon asks for it: a
// spec file, build context or named context folder that is not there. The
// command runs it before it connects to (or starts) a daemon; Build runs
// it too.
func (o Options) Check() error {
	if o.ContextDir != "" {
		if err := isDir(o.ContextDir); err != nil {
			return fmt.Errorf("the build context %s: %w", o.ContextDir, err)
		}
	}
	switch fi, err := os.Stat(o.File); {
	case err != nil:
		return fmt.Errorf("the spec %s: %w", o.File, notThere(err))
	case fi.IsDir():
		return fmt.Errorf("the spec %s is a folder: name the file with -f FILE", o.File)
	}
	for _, name := range slices.Sorted(maps.Keys(o.Contexts)) {
		v := o.Contexts[name]
		dir, ok := LayoutDir(v)
		switch {
		case ok:
		case strings.Contains(v, "://"):
			continue
		default:
			dir = v
		}
		if err := isDir(dir); err != nil {
			return fmt.Errorf("--build-context %s=%s: %w", name, v, err)
		}
	}
	return nil
}

func isDir(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return notThere(err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", p)
	}
	return nil
}

// notThere says a missing path in a few words; other errors stay whole.
func notThere(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("no such file or folder")
	}
	return err
}
