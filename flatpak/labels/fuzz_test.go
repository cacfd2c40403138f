package labels_test

import (
	"encoding/base64"
	"math/bits"
	"strconv"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/gvariant"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
)

// FuzzFlatpakLabelsRoundTrip checks that the commit-metadata labels decode
// (base64, then a GVariant variant) back to exactly what went in, for any
// metadata text, ref and sizes Check accepts: the GVariant writer against
// its reader, through the labels a verifier reads.
func FuzzFlatpakLabelsRoundTrip(f *testing.F) {
	f.Add("app/org.example.Hello/x86_64/stable", []byte("[Application]\nname=org.example.Hello\n"), uint64(4096), uint64(1234), "")
	f.Add("runtime/org.example.Platform/x86_64/1", []byte{}, uint64(0), uint64(1<<40), "org.example.Repo")
	f.Add("app/a/b/c", []byte("\xff\xfe"), uint64(1<<63), uint64(511), "\x00")
	f.Fuzz(func(t *testing.T, ref string, md []byte, installed, download uint64, collection string) {
		in := labels.Input{Ref: ref, Metadata: md, InstalledSize: installed, DownloadSize: download, CollectionID: collection}
		if labels.Check(in) != nil {
			return
		}
		l := labels.Flatpak(in)
		decode := func(key, typ string) gvariant.Value {
			t.Helper()
			s, ok := l[labels.CommitMetadataPrefix+key]
			if !ok {
				t.Fatalf("no %s label for %+v", key, in)
			}
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			v, err := gvariant.UnmarshalVariant(raw)
			if err != nil {
				t.Fatalf("%s: %v (%q)", key, err, raw)
			}
			if v.Type() != typ {
				t.Fatalf("%s has type %q, want %q", key, v.Type(), typ)
			}
			return v
		}
		if got := decode(labels.KeyMetadata, "s").Str(); got != string(md) || l[labels.Metadata] != string(md) {
			t.Fatalf("metadata round trip: %q / %q, want %q", got, l[labels.Metadata], md)
		}
		if got := decode(labels.KeyRef, "s").Str(); got != ref || l[labels.Ref] != ref {
			t.Fatalf("ref round trip: %q", got)
		}
		if got := bits.ReverseBytes64(decode(labels.KeyInstalledSize, "t").Uint64()); got != installed {
			t.Fatalf("installed size %d, want %d", got, installed)
		}
		if got := bits.ReverseBytes64(decode(labels.KeyDownloadSize, "t").Uint64()); got != download {
			t.Fatalf("download size %d, want %d", got, download)
		}
		if got := decode(labels.KeyRefBinding, "as").Strv(); len(got) != 1 || got[0] != ref {
			t.Fatalf("ref binding %q", got)
		}
		if got := decode(labels.KeyCollectionBinding, "s").Str(); got != collection {
			t.Fatalf("collection binding %q", got)
		}
		if l[labels.InstalledSize] != strconv.FormatUint(installed, 10) {
			t.Fatalf("installed-size label %q", l[labels.InstalledSize])
		}
	})
}

// A NUL byte in the ref cannot be stored in xa.ref: Check refuses it
// rather than letting Flatpak silently drop the label (found by
// FuzzFlatpakLabelsRoundTrip).
func TestCheckRefusesNULInRef(t *testing.T) {
	if err := labels.Check(labels.Input{Ref: "app/\x00/0/0"}); err == nil {
		t.Fatal("Check accepted a ref with a NUL byte")
	}
}
