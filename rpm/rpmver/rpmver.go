package rpmver

import (
	"strconv"
	"strings"
)

// Compare is rpm's rpmvercmp of two VERSION (or RELEASE) strings: -1, 0 or 1.
func Compare(a, b string) int {
	if a == b {
		return 0
	}
	for {
		// Separators (anything but letters, digits, '~' and '^') only split segments.
		a = strings.TrimLeftFunc(a, isSep)
		b = strings.TrimLeftFunc(b, isSep)

		// '~' sorts before everything, even the end of the string.
		if strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~") {
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		// '^' sorts after the end of the string but before anything else.
		if strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^") {
			if a == "" {
				return -1
			}
			if b == "" {
				return 1
			}
			if !strings.HasPrefix(a, "^") {
				return 1
			}
			if !strings.HasPrefix(b, "^") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}

		numeric := isDigit(rune(a[0]))
		take := isAlpha
		if numeric {
			take = isDigit
		}
		sa, ra := span(a, take)
		sb, rb := span(b, take)
		if sb == "" {
			// Segments of different kinds: a number is newer.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			sa = strings.TrimLeft(sa, "0")
			sb = strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				return sign(len(sa) - len(sb))
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	if a == "" && b == "" {
		return 0
	}
	if a == "" {
		return -1
	}
	return 1
}

// PubkeyName is the name rpm records each signing key it imported under
// (rpm --import, or an installer importing a repo's gpgkey): a header with
// the key's id as its version, no files and no architecture. It is not a
// package, and package lists leave it out.
const PubkeyName = "gpg-pubkey"

// NEVRA is an RPM's identity: what rpm -q tells one installed package from
// another. Epoch is 0 for none.
type NEVRA struct {
	Name    string
	Epoch   int
	Version string
	Release string
	Arch    string
}

// EVR is the package's version.
func (n NEVRA) EVR() EVR { return EVR{Epoch: n.Epoch, Version: n.Version, Release: n.Release} }

// String is NAME-[EPOCH:]VERSION-RELEASE.ARCH.
func (n NEVRA) String() string { return n.Name + "-" + n.EVR().String() + "." + n.Arch }

// NVRA is NAME-VERSION-RELEASE.ARCH, as RPM file names say it.
func (n NEVRA) NVRA() string { return n.Name + "-" + n.Version + "-" + n.Release + "." + n.Arch }

// EVR is a parsed [EPOCH:]VERSION[-RELEASE].
type EVR struct {
	Epoch   int
	Version string
	// Release is "" when not given: it then matches any release.
	Release string
}

// Parse splits [EPOCH:]VERSION[-RELEASE]; a missing epoch is 0.
func Parse(s string) (EVR, error) {
	var e EVR
	if ep, rest, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.Atoi(ep)
		if err != nil || n < 0 {
			return e, &strconv.NumError{Func: "rpmver.Parse", Num: ep, Err: strconv.ErrSyntax}
		}
		e.Epoch, s = n, rest
	}
	e.Version, e.Release, _ = strings.Cut(s, "-")
	if e.Version == "" {
		return e, &strconv.NumError{Func: "rpmver.Parse", Num: s, Err: strconv.ErrSyntax}
	}
	return e, nil
}

func (e EVR) String() string {
	s := e.Version
	if e.Epoch != 0 {
		s = strconv.Itoa(e.Epoch) + ":" + s
	}
	if e.Release != "" {
		s += "-" + e.Release
	}
	return s
}

// CompareEVR compares a with b by epoch, version, then release; a release
// left out on either side is not compared, as in rpm's dependency ranges.
func CompareEVR(a, b EVR) int {
	if a.Epoch != b.Epoch {
		return sign(a.Epoch - b.Epoch)
	}
	if c := Compare(a.Version, b.Version); c != 0 {
		return c
	}
	if a.Release == "" || b.Release == "" {
		return 0
	}
	return Compare(a.Release, b.Release)
}

func span(s string, f func(rune) bool) (string, string) {
	i := 0
	for i < len(s) && f(rune(s[i])) {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
func isAlpha(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
func isSep(r rune) bool   { return !isDigit(r) && !isAlpha(r) && r != '~' && r != '^' }

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
