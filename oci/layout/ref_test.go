package ocilayout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestParseRefAsBuildx: oci-layout://DIR[:TAG][@DIGEST], as docker buildx
// reads it; TAG is an image's name in index.json.
func TestParseRefAsBuildx(t *testing.T) {
	dir := t.TempDir()
	colon := filepath.Join(dir, "with:colon")
	if err := os.Mkdir(colon, 0o755); err != nil {
		t.Fatal(err)
	}
	const d = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for v, want := range map[string]Ref{
		"oci-layout:///srv/rt":                 {"/srv/rt", "", ""},
		"oci-layout:///srv/rt:f41":             {"/srv/rt", "f41", ""},
		"oci-layout:///srv/rt@" + d:            {"/srv/rt", "", d},
		"oci-layout:///srv/rt:f41@" + d:        {"/srv/rt", "f41", d},
		"oci-layout:///srv/a:b/rt":             {"/srv/a:b/rt", "", ""},
		"oci-layout://" + colon:                {colon, "", ""},
		"oci-layout://relative/dir:latest":     {"relative/dir", "latest", ""},
		"oci-layout:///srv/rt:not a tag":       {"/srv/rt:not a tag", "", ""},
		"oci-layout:///srv/rt@sha256:not-hex!": {"/srv/rt@sha256:not-hex!", "", ""},
	} {
		got, ok := ParseRef(v)
		if !ok || got != want {
			t.Errorf("%s: %+v %v, want %+v", v, got, ok, want)
		}
		if got.String() != v {
			t.Errorf("%+v written back as %s, want %s", got, got.String(), v)
		}
	}
	if _, ok := ParseRef("/srv/rt"); ok {
		t.Error("a plain folder parsed as oci-layout://")
	}
}

func TestRefSelect(t *testing.T) {
	a, b := "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64)
	idx := &ocispecs.Index{Manifests: []ocispecs.Descriptor{
		{Digest: digest.Digest(a), Annotations: map[string]string{ocispecs.AnnotationRefName: "f41"}},
		{Digest: digest.Digest(b), Annotations: map[string]string{ocispecs.AnnotationRefName: "f42"}},
		{Digest: digest.Digest("sha256:" + strings.Repeat("c", 64))},
	}}
	for _, tc := range []struct {
		r    Ref
		want []string
		err  string
	}{
		{Ref{Dir: "l"}, []string{a, b, "sha256:" + strings.Repeat("c", 64)}, ""},
		{Ref{Dir: "l", Tag: "f42"}, []string{b}, ""},
		{Ref{Dir: "l", Tag: "f42", Digest: a}, []string{a}, ""},
		{Ref{Dir: "l", Tag: "f40"}, nil, "l/index.json names no image f40 (the names it has: f41, f42)"},
		{Ref{Dir: "l", Digest: "sha256:" + strings.Repeat("d", 64)}, nil, "l/index.json lists no image sha256:dddd"},
	} {
		got, err := tc.r.Select(idx)
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%+v: %v, want %q", tc.r, err, tc.err)
			}
			continue
		}
		var ds []string
		for _, m := range got {
			ds = append(ds, m.Digest.String())
		}
		if err != nil || strings.Join(ds, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%+v: %v %v, want %v", tc.r, ds, err, tc.want)
		}
	}
}
