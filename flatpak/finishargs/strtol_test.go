package finishargs

import (
	"math"
	"testing"
)

// TestStrtolAsC: what glibc's strtol returns for each, and where it stops.
func TestStrtolAsC(t *testing.T) {
	for _, tc := range []struct {
		s        string
		base     int
		want     int64
		wantRead int
	}{
		{"10", 0, 10, 2},
		{"0x10", 0, 16, 4},
		{"010", 0, 8, 3},
		{"  -7", 0, -7, 4},
		{"+12f", 16, 0x12f, 4},
		{"0x", 16, 0, 1},
		{"0X1g", 16, 1, 3},
		{"08", 0, 0, 1},
		{"", 0, 0, 0},
		{"-", 10, 0, 0},
		{"x", 16, 0, 0},
		{"99999999999999999999", 10, math.MaxInt64, 20},
		{"\t 1d6b", 16, 0x1d6b, 6},
	} {
		got, read := strtol(tc.s, tc.base)
		if got != tc.want || read != tc.wantRead {
			t.Errorf("strtol(%q, %d) = %d, %d; want %d, %d", tc.s, tc.base, got, read, tc.want, tc.wantRead)
		}
	}
}
