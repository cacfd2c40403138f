package localbuild

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/util/progress/progressui"
)

// Check finds what would fail a build only once the daemon asks for it: a
// spec file, build context or named context folder that is not there, a
// secret without its file or variable, an image reference (--push,
// docker-image:// contexts) that is not one, a platform Flatpak has no
// architecture for, an unknown progress mode. The command runs it before
// it connects to (or starts) a daemon; Build runs it too.
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
		if err := checkContext(v); err != nil {
			return fmt.Errorf("--build-context %s=%s: %w", name, v, err)
		}
	}
	if o.Push != "" {
		if _, err := reference.ParseNormalizedNamed(o.Push); err != nil {
			return fmt.Errorf("--push %s: %w", o.Push, err)
		}
	}
	for _, s := range o.Secrets {
		if err := checkSecret(s); err != nil {
			return err
		}
	}
	for _, v := range o.Platforms {
		for _, one := range strings.Split(v, ",") {
			p, err := platforms.Parse(one)
			if err != nil {
				return fmt.Errorf("--platform %s: %w", one, err)
			}
			if _, err := fllb.FlatpakArch(platforms.Normalize(p)); err != nil {
				return fmt.Errorf("--platform %s: %w", one, err)
			}
		}
	}
	switch progressui.DisplayMode(o.Progress) {
	case "", progressui.AutoMode, progressui.TtyMode, progressui.PlainMode, progressui.QuietMode, progressui.RawJSONMode:
	default:
		return fmt.Errorf("--progress %s: want auto, tty, plain or quiet", o.Progress)
	}
	return nil
}

// checkSecret finds what a secret's value comes from, as BuildKit's store
// does: src=FILE, env=VAR, or without either a variable named as the id,
// else a file.
func checkSecret(s secretsprovider.Source) error {
	what := fmt.Sprintf("--secret id=%s,src=%s", s.ID, s.FilePath)
	if s.Env == "" && s.FilePath == "" {
		if _, ok := os.LookupEnv(s.ID); ok {
			return nil
		}
		s.FilePath = s.ID
		what = fmt.Sprintf("--secret id=%s (no src=FILE or env=VAR: the file %s)", s.ID, s.ID)
	}
	if s.Env != "" {
		if _, ok := os.LookupEnv(s.Env); !ok {
			return fmt.Errorf("--secret id=%s,env=%s: the variable %s is not set", s.ID, s.Env, s.Env)
		}
		return nil
	}
	fi, err := os.Stat(s.FilePath)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", what, notThere(err))
	case fi.IsDir():
		return fmt.Errorf("%s: a folder, not a file", what)
	case fi.Size() > secretsprovider.MaxSecretSize:
		return fmt.Errorf("%s: %d bytes, more than a secret may hold (%d)", what, fi.Size(), secretsprovider.MaxSecretSize)
	}
	return nil
}

// checkContext checks one named context's value: an OCI layout (a folder
// or an OCI archive of one; with :TAG, one that names such an image) or a
// folder; a docker-image:// reference is parsed and other URLs are the
// daemon's.
func checkContext(v string) error {
	if r, ok := ocilayout.ParseRef(v); ok {
		l, err := ocilayout.OpenLocal(r.Dir)
		if err != nil {
			return notThere(err)
		}
		defer l.Close()
		if r.Digest != "" {
			_, err = l.Index()
		} else {
			_, err = imageDigest(l, r.Tag)
		}
		return err
	}
	switch {
	case strings.HasPrefix(v, "docker-image://"):
		_, err := reference.ParseNormalizedNamed(strings.TrimPrefix(v, "docker-image://"))
		return err
	case strings.Contains(v, "://"):
		return nil
	}
	return isDir(v)
}

func isDir(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return notThere(err)
	}
	if !fi.IsDir() {
		if hint := ocilayout.ArchiveHint(p); hint != "" {
			return fmt.Errorf("%s is not a folder but %s", p, hint)
		}
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
