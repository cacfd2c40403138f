package suggest

import "strings"

// Closest returns the candidate closest to s by edit distance, ignoring
// case, or "" when none is close enough to be what the user meant: at most
// a third of s's length away, and always 2 edits for short words. The first
// of equally close candidates wins. Failing that, the one candidate that
// begins with s (of four letters or more) is it: a word cut short
// (rename-appdata for rename-appdata-file).
func Closest(s string, candidates []string) string {
	if len(s) > 100 {
		return ""
	}
	ls := []rune(strings.ToLower(s))
	best, bestD := "", 0
	for _, c := range candidates {
		d := distance(ls, []rune(strings.ToLower(c)))
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" && bestD <= max(2, len(ls)/3) {
		return best
	}
	if len(ls) < 4 {
		return ""
	}
	prefixed := ""
	for _, c := range candidates {
		if strings.HasPrefix(strings.ToLower(c), string(ls)) {
			if prefixed != "" {
				return ""
			}
			prefixed = c
		}
	}
	return prefixed
}

// distance is the Levenshtein distance of a and b.
func distance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
