package finishargs

import (
	"reflect"
	"testing"
)

// Orders observed from flatpak build-finish 1.14.10 on GLib 2.74.6.
func TestBuildFinishOrder(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"org.a.b1", "org.a.b2", "org.a.b3"}, []string{"org.a.b2", "org.a.b1", "org.a.b3"}},
		{[]string{"/a", "/b", "/c", "home"}, []string{"home", "/a", "/c", "/b"}},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := buildFinishOrder(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("buildFinishOrder(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGStrHashSignedChars(t *testing.T) {
	// g_str_hash adds bytes as signed char.
	h := uint32(5381)
	for _, c := range []int32{-61, -87} {
		h = h*33 + uint32(c)
	}
	if got, want := gStrHash("\xc3\xa9"), h; got != want {
		t.Errorf("gStrHash = %d, want %d", got, want)
	}
}

func TestGHashKeepsEveryKeyThroughResizes(t *testing.T) {
	var keys []string
	for i := 0; i < 1000; i++ {
		keys = append(keys, string(rune('a'+i%26))+string(rune('A'+i/26)))
	}
	got := ghashOrder(keys)
	if len(got) != len(keys) {
		t.Fatalf("%d keys out, %d in", len(got), len(keys))
	}
	seen := map[string]bool{}
	for _, k := range got {
		seen[k] = true
	}
	for _, k := range keys {
		if !seen[k] {
			t.Errorf("lost %q", k)
		}
	}
}
