package frontend

import (
	"errors"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
)

func TestInstalledSizeCountsExportsTwice(t *testing.T) {
	r := &reports{
		files: map[string]int64{"bin/hello": 100, "share/applications/org.example.Hello.desktop": 600, "share/doc/README": 0},
		order: []string{"bin/hello", "share/applications/org.example.Hello.desktop", "share/doc/README"},
	}
	// metadata 10 B -> 512; hello 100 -> 512; desktop 600 -> 1024 in files/
	// and again in export/; an empty file counts 0.
	got := r.installedSize(make([]byte, 10), []string{"share/applications/org.example.Hello.desktop"})
	if want := uint64(512 + 512 + 1024 + 1024); got != want {
		t.Errorf("installed size = %d, want %d", got, want)
	}
}

func TestParseRPMsSkipsMalformedLines(t *testing.T) {
	got := parseRPMs([]byte("hello\t0\t1.0\t1\tnoarch\thello-1.0-1.src.rpm\nbroken line\n\n"))
	if len(got) != 1 || got[0].Name != "hello" || got[0].SourceRPM != "hello-1.0-1.src.rpm" {
		t.Errorf("parseRPMs = %+v", got)
	}
}

func TestParseErrorGivesEachErrorItsLocation(t *testing.T) {
	data := []byte("id: x\nbranch: a/b\n")
	_, err := spec.Parse("flatpak.yaml", data, spec.Options{})
	if err == nil {
		t.Fatal("invalid spec parsed")
	}
	wrapped := parseError("flatpak.yaml", data, err)
	srcs := errdefs.Sources(wrapped)
	if len(srcs) < 2 {
		t.Fatalf("%d sources for %v", len(srcs), err)
	}
	for _, s := range srcs {
		if s.Info.Filename != "flatpak.yaml" || len(s.Ranges) != 1 {
			t.Errorf("source %+v", s)
		}
	}
	// One location per error, in file order, the branch's on line 2 last.
	var list spec.Errors
	errors.As(err, &list)
	if len(srcs) != len(list) {
		t.Errorf("%d sources for %d errors", len(srcs), len(list))
	}
	for i := 1; i < len(srcs); i++ {
		if srcs[i].Ranges[0].Start.Line < srcs[i-1].Ranges[0].Start.Line {
			t.Errorf("sources out of file order: line %d after line %d", srcs[i].Ranges[0].Start.Line, srcs[i-1].Ranges[0].Start.Line)
		}
	}
	if last := srcs[len(srcs)-1].Ranges[0].Start.Line; last != 2 {
		t.Errorf("last source on line %d, want 2 (branch)", last)
	}
}

func TestDefaultFilenameOnlyWhenNoneGiven(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want string
	}{
		{nil, DefaultFilename},
		{map[string]string{"filename": "app.yaml"}, "app.yaml"},
	} {
		got := withDefaults{fakeClient{opts: tc.opts}}.BuildOpts().Opts["filename"]
		if got != tc.want {
			t.Errorf("opts %v: filename %q, want %q", tc.opts, got, tc.want)
		}
	}
}

type fakeClient struct {
	client.Client
	opts map[string]string
}

func (f fakeClient) BuildOpts() client.BuildOpts { return client.BuildOpts{Opts: f.opts} }
