package flatpakref

import (
	"fmt"
	"strings"
)

// Kind is what a ref names.
type Kind string

const (
	App     Kind = "app"
	Runtime Kind = "runtime"
)

// Ref is a Flatpak ref.
type Ref struct {
	Kind             Kind
	ID, Arch, Branch string
}

// String is KIND/ID/ARCH/BRANCH.
func (r Ref) String() string { return string(r.Kind) + "/" + r.Partial() }

// Partial is ID/ARCH/BRANCH, as a metadata file's runtime= and sdk= keys
// and an image's org.flatpak.ref-less mentions of a runtime say it.
func (r Ref) Partial() string { return r.ID + "/" + r.Arch + "/" + r.Branch }

// IsRuntime reports whether r names a runtime (or an extension).
func (r Ref) IsRuntime() bool { return r.Kind == Runtime }

// Check reports why r is not a ref Flatpak accepts.
func (r Ref) Check() error {
	if r.Kind != App && r.Kind != Runtime {
		return fmt.Errorf("%q is neither app nor runtime", r.Kind)
	}
	return r.checkParts()
}

func (r Ref) checkParts() error {
	if err := CheckID(r.ID); err != nil {
		return fmt.Errorf("ID %q: %w", r.ID, err)
	}
	if err := CheckArch(r.Arch); err != nil {
		return fmt.Errorf("arch %q: %w", r.Arch, err)
	}
	if err := CheckBranch(r.Branch); err != nil {
		return fmt.Errorf("branch %q: %w", r.Branch, err)
	}
	return nil
}

// Parse reads KIND/ID/ARCH/BRANCH and checks every part.
func Parse(s string) (Ref, error) {
	kind, rest, _ := strings.Cut(s, "/")
	r, err := ParsePartial(Kind(kind), rest)
	if err != nil {
		return Ref{}, fmt.Errorf("%q is not a Flatpak ref (app/ID/ARCH/BRANCH or runtime/ID/ARCH/BRANCH): %w", s, err)
	}
	if err := r.Check(); err != nil {
		return Ref{}, fmt.Errorf("%q is not a Flatpak ref: %w", s, err)
	}
	return r, nil
}

// ParsePartial reads ID/ARCH/BRANCH as a ref of the given kind and checks
// its parts.
func ParsePartial(kind Kind, s string) (Ref, error) {
	if len(s) > 0xffff {
		return Ref{}, fmt.Errorf("longer than %d bytes", 0xffff)
	}
	p := strings.Split(s, "/")
	if len(p) != 3 {
		return Ref{}, fmt.Errorf("%q has %d parts, not ID/ARCH/BRANCH", s, len(p))
	}
	r := Ref{Kind: kind, ID: p[0], Arch: p[1], Branch: p[2]}
	if err := r.checkParts(); err != nil {
		return Ref{}, err
	}
	return r, nil
}

// SplitLoose splits what flatpak build-finish's --runtime and --sdk take,
// [runtime/]ID[/ARCH[/BRANCH]], with ARCH and BRANCH possibly empty (left
// to the metadata's value), and checks the parts given.
func SplitLoose(s string) (id, arch, branch string, err error) {
	if strings.HasPrefix(s, "app/") {
		return "", "", "", fmt.Errorf("%q is an app: it must be a runtime", s)
	}
	p := strings.Split(strings.TrimPrefix(s, "runtime/"), "/")
	if len(p) > 3 {
		return "", "", "", fmt.Errorf("%q is not ID[/ARCH[/BRANCH]]", s)
	}
	p = append(p, "", "")
	id, arch, branch = p[0], p[1], p[2]
	if err := CheckID(id); err != nil {
		return "", "", "", fmt.Errorf("invalid id: %w", err)
	}
	if arch != "" {
		if err := CheckArch(arch); err != nil {
			return "", "", "", fmt.Errorf("invalid arch: %w", err)
		}
	}
	if branch != "" {
		if err := CheckBranch(branch); err != nil {
			return "", "", "", fmt.Errorf("invalid branch: %w", err)
		}
	}
	return id, arch, branch, nil
}

// CheckID reports why s is not a valid Flatpak ID (of an application,
// runtime or extension), following flatpak_is_valid_name: at most 255
// characters, 3 or more non-empty elements separated by '.', each made of
// [A-Za-z0-9_-] and not starting with a digit, '-' only in the last
// element.
func CheckID(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	if len(s) > 255 {
		return fmt.Errorf("must be at most 255 characters long (it has %d)", len(s))
	}
	if s[0] == '.' {
		return fmt.Errorf("must not start with a period")
	}
	if s[len(s)-1] == '.' {
		return fmt.Errorf("must not end with a period")
	}
	elems := strings.Split(s, ".")
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
// with '.'.
func CheckBranch(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	if s[0] == '.' {
		return fmt.Errorf("must not start with a period")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			return fmt.Errorf("must not contain %s (allowed: letters, digits, '_', '-' and '.')", describeChar(s[i:]))
		}
	}
	return nil
}

// CheckArch reports why s is not a valid Flatpak architecture, following
// flatpak_is_valid_arch: not empty, only [A-Za-z0-9_].
func CheckArch(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' {
			return fmt.Errorf("must not contain %s (allowed: letters, digits and '_')", describeChar(s[i:]))
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
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
