package finishargs

import "math"

// strtol is C's strtol as flatpak's option parsing meets it (GOption's
// integers with base 0, USB ids with base 16): leading white space, a
// sign, for base 16 or 0 a 0x prefix, for base 0 a leading 0 for octal. It
// returns the value and how many bytes of s it read (0 when no number
// starts s); a value past int64 is clamped, as strtol clamps to LONG_MAX.
func strtol(s string, base int) (int64, int) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	hexPrefix := i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && digit(s[i+2]) < 16
	switch {
	case (base == 0 || base == 16) && hexPrefix:
		base, i = 16, i+2
	case base == 0 && i < len(s) && s[i] == '0':
		base = 8
	case base == 0:
		base = 10
	}
	start := i
	var n uint64
	for ; i < len(s) && digit(s[i]) < base; i++ {
		if n <= math.MaxInt64 {
			n = n*uint64(base) + uint64(digit(s[i]))
		}
	}
	if i == start {
		return 0, 0
	}
	v := int64(math.MaxInt64)
	if n <= math.MaxInt64 {
		v = int64(n)
	}
	if neg {
		v = -v
	}
	return v, i
}

// digit is c's value as a digit of any base up to 36 (36 when it is none).
func digit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 36
}
