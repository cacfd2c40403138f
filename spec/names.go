package spec

import (
	"fmt"
	"strings"
)

// CheckID reports why s is not a valid Flatpak ID (application, runtime or
// extension name), following flatpak_is_valid_name in Flatpak's
// common/flatpak-ref-utils.c: at most 255 characters, 3 or more non-empty
// elements separated by '.', each made of [A-Za-z0-9_-] and not starting
// with a digit, '-' only in the last element. It returns nil for a valid ID.
func CheckID(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	if len(s) > 255 {
		return fmt.Errorf("must be at most 255 characters long (it has %d)", len(s))
	}
	elems := strings.Split(s, ".")
	if s[0] == '.' {
		return fmt.Errorf("must not start with a period")
	}
	if s[len(s)-1] == '.' {
		return fmt.Errorf("must not end with a period")
	}
	for i, e := range elems {
		last := i == len(elems)-1
		if e == "" {
			return fmt.Errorf("must not contain an empty element (\"..\")")
		}
		for j := 0; j < len(e); j++ {
			c := e[j]
			switch {
			case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
			case c >= '0' && c <= '9':
				if j == 0 {
					return fmt.Errorf("element %q must not start with a digit", e)
				}
			case c == '-':
				if !last {
					return fmt.Errorf("only the last element may contain '-' (element %q)", e)
				}
			default:
				return fmt.Errorf("must not contain %s (allowed: letters, digits, '_', '.' and '-' in the last element)", describeChar(e[j:]))
			}
		}
	}
	if len(elems) < 3 {
		return fmt.Errorf("must have at least 3 elements separated by '.', like org.example.App")
	}
	return nil
}

// CheckBranch reports why s is not a valid Flatpak branch, following
// flatpak_is_valid_branch: not empty, only [A-Za-z0-9_.-], not starting
// with '.'. It returns nil for a valid branch.
func CheckBranch(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	if s[0] == '.' {
		return fmt.Errorf("must not start with a period")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("must not contain %s (allowed: letters, digits, '_', '-' and '.')", describeChar(s[i:]))
		}
	}
	return nil
}

func describeChar(s string) string {
	r := []rune(s)[0]
	switch {
	case r == '/':
		return "'/'"
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf("control character %U", r)
	case r == ' ':
		return "spaces"
	default:
		return fmt.Sprintf("%q", r)
	}
}

// isPackageName reports whether s is an RPM package name.
func isPackageName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '+'
		if i > 0 {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}

// isPackageGlob reports whether s is a package name or a dnf glob of one.
func isPackageGlob(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("_+.-*?[]", c) >= 0) {
			return false
		}
	}
	return s[0] != '.' && s[0] != '-'
}

func matchCharset(s string, extra string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// isContainerName reports whether s is a container repository name such as
// flatpak-runtime (Fedora's container.yaml names runtimes this way).
func isContainerName(s string) bool {
	if s == "" {
		return false
	}
	prevSep := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevSep = false
		case c == '.' || c == '_' || c == '-' || c == '/':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	return !prevSep
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// suggest returns the candidate closest to s, or "" when none is close.
func suggest(s string, candidates []string) string {
	if len(s) > 100 {
		return ""
	}
	best, bestD := "", 0
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}
