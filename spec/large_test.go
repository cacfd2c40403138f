package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// TestLargeInputsStayFast guards against quadratic position bookkeeping:
// files near the size limit with long lines, many nodes or many errors
// parse in well under a second each (the bound here is loose).
func TestLargeInputsStayFast(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	const head = "id: org.a.B\npackages: [a]\n"
	cases := map[string]string{
		"one long finish-args line":    head + "finish-args: " + strings.Repeat("--share=ipc ", 300000) + "\n",
		"non-ASCII long line":          head + "finish-args: --env=A=é " + strings.Repeat("--share=ipc ", 300000) + "\n",
		"long block":                   head + "finish-args: |\n" + strings.Repeat("  --share=ipc\n", 250000),
		"many undeclared args":         head + "command: " + strings.Repeat("${X}", 200000) + "\n",
		"long non-ASCII flow list":     head + "tags: [é, " + strings.Repeat("ab, ", 90000) + "]\n",
		"many errors in a flow list":   head + "allow-outside-app: [é, " + strings.Repeat("a;, ", 90000) + "]\n",
		"many packages":                "id: org.a.B\npackages:\n" + strings.Repeat("- a\n", 90000),
		"deep nesting":                 strings.Repeat("[", 1000000) + strings.Repeat("]", 1000000),
		"one long scalar":              head + "name: " + strings.Repeat("x", spec.MaxFileSize-40) + "\n",
		"aliases under the node limit": head + "x: &a [" + strings.Repeat("x, ", 300) + "]\ny: [" + strings.Repeat("*a, ", 300) + "]\n",
	}
	for name, src := range cases {
		start := time.Now()
		spec.Parse("f.yaml", []byte(src), spec.Options{})
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}
