package finishargs

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// --filesystem and --nofilesystem values, as flatpak_context_parse_filesystem
// reads them.

// isGraphic is GLib's g_unichar_isgraph: not a control, format, unassigned,
// surrogate or space-separator character.
func isGraphic(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S,
		unicode.Zl, unicode.Zp, unicode.Co)
}

// validatePathCharacters is flatpak_validate_path_characters.
func validatePathCharacters(p string) error {
	for _, r := range p {
		if r == utf8.RuneError {
			return fmt.Errorf("non-UTF-8 byte in path %q", p)
		}
		if r != ' ' && !isGraphic(r) {
			return fmt.Errorf("non-graphical character %U in path %q", r, p)
		}
	}
	return nil
}

// specialFilesystems are flatpak 1.18's (host-root, the host's whole root
// at /run/host/root, is new in 1.18; older versions skip it when they read
// the metadata).
var specialFilesystems = []string{"home", "host", "host-etc", "host-os", "host-reset", "host-root"}

var xdgUserDirs = []string{"xdg-desktop", "xdg-documents", "xdg-download", "xdg-music",
	"xdg-pictures", "xdg-public-share", "xdg-templates", "xdg-videos",
	"xdg-data", "xdg-cache", "xdg-config"}

// isXDGLocation is get_xdg_user_dir_from_string: xdg-* prefixes, xdg-run
// only with a subdirectory.
func isXDGLocation(fs string) bool {
	prefix, rest, _ := strings.Cut(fs, "/")
	rest = strings.TrimLeft(rest, "/")
	for _, x := range xdgUserDirs {
		if prefix == x {
			return true
		}
	}
	return prefix == "xdg-run" && rest != ""
}

// ParseFilesystem is flatpak_context_parse_filesystem: it splits the mode
// suffix (:ro, :rw, :create; :reset with --nofilesystem=host), unescapes
// "\:" and "\\", normalizes the location and checks it. Unlike flatpak, which
// only warns, an unknown suffix or a suffix on --nofilesystem is an error.
func ParseFilesystem(value string, negated bool) (string, FilesystemMode, error) {
	if err := validatePathCharacters(value); err != nil {
		return "", 0, err
	}
	var s strings.Builder
	p := 0
	for p < len(value) && value[p] != ':' {
		if value[p] == '\\' {
			p++
			if p < len(value) {
				s.WriteByte(value[p])
				p++
			}
		} else {
			s.WriteByte(value[p])
			p++
		}
	}
	fs := s.String()
	mode := FilesystemReadWrite
	if negated {
		mode = FilesystemNone
	}
	reset := false
	if fs == "host-reset" {
		if !negated {
			return "", 0, fmt.Errorf("%q only applies to --nofilesystem", fs)
		}
		if p < len(value) {
			return "", 0, fmt.Errorf("%q cannot have a suffix", fs)
		}
		reset = true
	}
	if p < len(value) {
		suffix := value[p+1:]
		switch suffix {
		case "ro", "rw", "create":
			if negated {
				return "", 0, fmt.Errorf("suffix :%s does not apply to --nofilesystem", suffix)
			}
			mode = map[string]FilesystemMode{"ro": FilesystemReadOnly, "rw": FilesystemReadWrite, "create": FilesystemCreate}[suffix]
		case "reset":
			if !negated {
				return "", 0, fmt.Errorf("suffix :reset only applies to --nofilesystem")
			}
			if fs != "host" {
				return "", 0, fmt.Errorf("suffix :reset only applies to --nofilesystem=host")
			}
			reset = true
			fs = "host-reset"
		default:
			return "", 0, fmt.Errorf("unknown suffix :%s (known: :ro, :rw, :create; :reset with --nofilesystem=host)", suffix)
		}
	}
	_ = reset

	// Flatpak 1.18's check, stricter than 1.14's, which looked only after
	// the first '/' and so let xdg-download/.. name the home folder.
	if strings.HasSuffix(fs, "/..") || strings.Contains(fs, "/../") {
		return "", 0, fmt.Errorf("filesystem location %q contains \"..\"", fs)
	}
	if i := strings.IndexByte(fs, '/'); i >= 0 {
		fs = fs[:i] + normalizeSlashes(fs[i:])
		// Eliminate trailing "/." or "/".
		for {
			j := strings.LastIndexByte(fs, '/')
			if j >= 0 && ((j != 0 && j == len(fs)-1) || fs[j+1:] == ".") {
				fs = fs[:j]
			} else {
				break
			}
		}
		if fs == "/" {
			return "", 0, fmt.Errorf("--filesystem=/ is not available, use --filesystem=host for a similar result")
		}
	}
	for _, sp := range specialFilesystems {
		if fs == sp {
			return fs, mode, nil
		}
	}
	switch {
	case isXDGLocation(fs), strings.HasPrefix(fs, "~/"), strings.HasPrefix(fs, "/"):
		return fs, mode, nil
	case fs == "~":
		return "home", mode, nil
	case strings.HasPrefix(fs, "home/"):
		return "~/" + fs[5:], mode, nil
	}
	return "", 0, fmt.Errorf("unknown filesystem location %q, valid locations are: host, host-os, host-etc, host-root, home, xdg-*[/…], ~/dir, /dir", fs)
}

// normalizeSlashes converts "//" and "/./" to "/" in s, which starts with '/'.
func normalizeSlashes(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		if b[i] != '/' {
			continue
		}
		for {
			if i+1 < len(b) && b[i+1] == '/' {
				b = append(b[:i+1], b[i+2:]...)
			} else if i+2 < len(b) && b[i+1] == '.' && b[i+2] == '/' {
				b = append(b[:i+1], b[i+3:]...)
			} else {
				break
			}
		}
	}
	return string(b)
}

func (c *Context) filesystem(v string, negated bool) error {
	fs, mode, err := ParseFilesystem(v, negated)
	if err != nil {
		return err
	}
	if strings.Contains(fs, ";") {
		return fmt.Errorf("';' in a filesystem location cannot be written to the metadata list")
	}
	if fs == "host-reset" {
		c.setFilesystem("host", FilesystemNone)
	}
	c.setFilesystem(fs, mode)
	return nil
}

func (c *Context) setFilesystem(fs string, mode FilesystemMode) {
	for i := range c.Filesystems {
		if c.Filesystems[i].Location == fs {
			c.Filesystems[i].Mode = mode
			return
		}
	}
	c.Filesystems = append(c.Filesystems, Filesystem{fs, mode})
}
