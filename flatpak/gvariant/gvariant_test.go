package gvariant

import (
	"bytes"
	"encoding/base64"
	"math/bits"
	"reflect"
	"strings"
	"testing"
)

// Label values from /work/shared/reference/flatpak-1.14-build-bundle-oci-config.json.
var reference = []struct {
	label string
	b64   string
	want  Value
}{
	{"ostree.collection-binding", "AABz", String("")},
	{"ostree.ref-binding", "YXBwL29yZy5leGFtcGxlLkhlbGxvL3g4Nl82NC9zdGFibGUAJABhcw==", StringArray([]string{"app/org.example.Hello/x86_64/stable"})},
	{"xa.download-size", "AAAAAAAAAfYAdA==", Uint64(bits.ReverseBytes64(502))},
	{"xa.installed-size", "AAAAAAAACAAAdA==", Uint64(bits.ReverseBytes64(2048))},
	{"xa.ref", "YXBwL29yZy5leGFtcGxlLkhlbGxvL3g4Nl82NC9zdGFibGUAAHM=", String("app/org.example.Hello/x86_64/stable")},
	{"xa.metadata", "W0FwcGxpY2F0aW9uXQpuYW1lPW9yZy5leGFtcGxlLkhlbGxvCnJ1bnRpbWU9b3JnLmV4YW1wbGUuUGxhdGZvcm0veDg2XzY0LzEKc2RrPW9yZy5leGFtcGxlLlBsYXRmb3JtL3g4Nl82NC8xCmNvbW1hbmQ9aGVsbG8KCltDb250ZXh0XQpzaGFyZWQ9bmV0d29yazsKc29ja2V0cz13YXlsYW5kOwpmaWxlc3lzdGVtcz1ob21lOwoKW1Nlc3Npb24gQnVzIFBvbGljeV0Kb3JnLmZyZWVkZXNrdG9wLk5vdGlmaWNhdGlvbnM9dGFsawoKW0Vudmlyb25tZW50XQpGT089YmFyCgAAcw==",
		String("[Application]\nname=org.example.Hello\nruntime=org.example.Platform/x86_64/1\nsdk=org.example.Platform/x86_64/1\ncommand=hello\n\n[Context]\nshared=network;\nsockets=wayland;\nfilesystems=home;\n\n[Session Bus Policy]\norg.freedesktop.Notifications=talk\n\n[Environment]\nFOO=bar\n")},
}

func TestReferenceLabels(t *testing.T) {
	for _, r := range reference {
		raw, err := base64.StdEncoding.DecodeString(r.b64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalVariant(raw)
		if err != nil {
			t.Fatalf("%s: %v", r.label, err)
		}
		if !reflect.DeepEqual(got, r.want) {
			t.Errorf("%s: decoded %v, want %v", r.label, got, r.want)
		}
		enc, err := Variant(r.want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, raw) {
			t.Errorf("%s: encoded %q, want %q", r.label, enc, raw)
		}
	}
}

func TestArrayOffsetSizes(t *testing.T) {
	tests := []struct {
		strv   []string
		offset int
	}{
		{nil, 0},
		{[]string{""}, 1},
		{[]string{strings.Repeat("a", 253)}, 1},   // 254 + 1 = 255
		{[]string{strings.Repeat("a", 254)}, 2},   // 255 + 1 > 255
		{[]string{strings.Repeat("a", 65532)}, 2}, // 65533 + 2 = 65535
		{[]string{strings.Repeat("a", 65533)}, 4},
		{[]string{"a", "b", "c"}, 1},
	}
	for _, tt := range tests {
		v := StringArray(tt.strv)
		b, err := v.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		body := 0
		for _, s := range tt.strv {
			body += len(s) + 1
		}
		if got := (len(b) - body); got != tt.offset*len(tt.strv) {
			t.Errorf("%d elements, body %d: %d offset bytes, want %d each", len(tt.strv), body, got, tt.offset)
		}
		back, err := Unmarshal("as", b)
		if err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		if !reflect.DeepEqual(back.Strv(), v.Strv()) {
			t.Errorf("round trip changed %d elements", len(tt.strv))
		}
	}
	// "ab", "c": a\0 c\0 then offsets 3, 5.
	b, _ := StringArray([]string{"ab", "c"}).Marshal()
	if want := []byte("ab\x00c\x00\x03\x05"); !bytes.Equal(b, want) {
		t.Errorf("got %q, want %q", b, want)
	}
}

func TestErrors(t *testing.T) {
	if _, err := String("a\x00b").Marshal(); err == nil {
		t.Error("NUL in string accepted")
	}
	for _, bad := range [][]byte{nil, []byte("s"), []byte("abc\x00x"), []byte("a\x00\x00t"), []byte("a\x00\x07\x00as")} {
		if v, err := UnmarshalVariant(bad); err == nil {
			t.Errorf("UnmarshalVariant(%q) = %v, want error", bad, v)
		}
	}
}

func FuzzStringArrayRoundTrip(f *testing.F) {
	f.Add("a\x01b", 3)
	f.Add(strings.Repeat("x", 300), 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 300 {
			return
		}
		var strv []string
		for i := 0; i < n; i++ {
			strv = append(strv, strings.ReplaceAll(s, "\x00", ""))
		}
		for _, v := range []Value{StringArray(strv), String(strings.ReplaceAll(s, "\x00", "")), Uint64(uint64(len(s)) << 40)} {
			b, err := Variant(v)
			if err != nil {
				t.Fatal(err)
			}
			back, err := UnmarshalVariant(b)
			if err != nil {
				t.Fatalf("%v: %v", v, err)
			}
			if back.Type() != v.Type() || back.Str() != v.Str() || back.Uint64() != v.Uint64() || !reflect.DeepEqual(back.Strv(), v.Strv()) {
				t.Fatalf("round trip: %v -> %v", v, back)
			}
		}
	})
}

func FuzzUnmarshalVariant(f *testing.F) {
	for _, r := range reference {
		raw, _ := base64.StdEncoding.DecodeString(r.b64)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := UnmarshalVariant(data)
		if err != nil {
			return
		}
		// Whatever is accepted re-encodes to the same bytes.
		b, err := Variant(v)
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("%q decoded to %v, re-encoded %q (%v)", data, v, b, err)
		}
	})
}
