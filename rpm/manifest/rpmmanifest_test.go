package manifest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

// The label is the frontend's to write: a user's label of its name, which
// would make affected trust a made-up list, is refused.
func TestLabelIsReserved(t *testing.T) {
	if !labels.Reserved(Label) {
		t.Errorf("%s is not a reserved label", Label)
	}
}

func TestEncodeIsCompactAndSorted(t *testing.T) {
	pkgs := []Package{
		{NEVRA: rpmver.NEVRA{Name: "hello", Version: "1.0", Release: "1", Arch: "noarch"}, SourceRPM: "hello-1.0-1.src.rpm", Origin: App},
		{NEVRA: rpmver.NEVRA{Name: "glibc-common", Epoch: 0, Version: "2.38", Release: "14.fc39", Arch: "x86_64"}, SourceRPM: "glibc-2.38-14.fc39.src.rpm", Origin: Runtime},
		{NEVRA: rpmver.NEVRA{Name: "gpg-pubkey", Version: "18b8e74c", Release: "62f2920f", Arch: "(none)"}, Origin: Runtime},
		{NEVRA: rpmver.NEVRA{Name: "openssl-libs", Epoch: 1, Version: "3.1.1", Release: "4.fc39", Arch: "x86_64"}, SourceRPM: "openssl-3.1.1-4.fc39.src.rpm", Origin: Runtime},
		{NEVRA: rpmver.NEVRA{Name: "odd", Version: "1", Release: "2", Arch: "x86_64"}, SourceRPM: "other-9-9.src.rpm", Origin: App},
	}
	want := `v1
r glibc-common 2.38-14.fc39.x86_64 ~glibc
r gpg-pubkey 18b8e74c-62f2920f.(none) -
a hello 1.0-1.noarch =
a odd 1-2.x86_64 other-9-9.src.rpm
r openssl-libs 1:3.1.1-4.fc39.x86_64 ~openssl`
	got, err := Encode(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Encode:\n%s\nwant:\n%s", got, want)
	}
	back, err := Decode(got + "\n")
	if err != nil {
		t.Fatal(err)
	}
	Sort(pkgs)
	if !reflect.DeepEqual(back, pkgs) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, pkgs)
	}
}

func TestDecodeRefusesWhatItCannotRead(t *testing.T) {
	for in, wantErr := range map[string]string{
		"":                                "format version line",
		"v2\na x 1-1.noarch =":            `format "v2"`,
		"v1\na x 1-1.noarch":              "want 4 fields",
		"v1\nq x 1-1.noarch =":            "origin",
		"v1\na x 1.noarch =":              "no -RELEASE",
		"v1\na x 1-1 =":                   "no .ARCH",
		"v1\na x x:1-1.noarch =":          "bad epoch",
		"v1\na x 1-1.noarch =\n\n":        "line 3",
		"v1\na x 1-1.noarch  =":           "want 4 fields",
		"v1\na hello 1.0-1.noarch = more": "want 4 fields",
	} {
		_, err := Decode(in)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Decode(%q) = %v, want an error with %q", in, err, wantErr)
		}
	}
	if pkgs, err := Decode("v1"); err != nil || len(pkgs) != 0 {
		t.Errorf("Decode(v1) = %v, %v; want no packages", pkgs, err)
	}
}

func TestEncodeRefusesWhatItCannotWrite(t *testing.T) {
	for _, p := range []Package{
		{NEVRA: rpmver.NEVRA{Name: "a b", Version: "1", Release: "1", Arch: "x"}, Origin: App},
		{NEVRA: rpmver.NEVRA{Name: "a", Version: "1-2", Release: "1", Arch: "x"}, Origin: App},
		{NEVRA: rpmver.NEVRA{Name: "a", Version: "1", Release: "1", Arch: "x"}, Origin: "z"},
		{NEVRA: rpmver.NEVRA{Name: "a", Version: "1", Release: "1", Arch: "x"}, SourceRPM: "~x", Origin: App},
		{NEVRA: rpmver.NEVRA{Name: "a", Version: "", Release: "1", Arch: "x"}, Origin: App},
	} {
		if _, err := Encode([]Package{p}); err == nil {
			t.Errorf("Encode(%+v) accepted", p)
		}
	}
}

func TestSourceName(t *testing.T) {
	for src, want := range map[string]string{
		"glibc-2.38-14.fc39.src.rpm": "glibc",
		"xz-java-1.9-5.nosrc.rpm":    "xz-java",
		"":                           "",
		"weird":                      "",
	} {
		if got := (Package{SourceRPM: src}).SourceName(); got != want {
			t.Errorf("SourceName(%q) = %q, want %q", src, got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("v1\na hello 1.0-1.noarch =\nr glibc 1:2-3.x86_64 ~g")
	f.Fuzz(func(t *testing.T, s string) {
		pkgs, err := Decode(s)
		if err != nil {
			return
		}
		enc, err := Encode(pkgs)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", s, err)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		Sort(pkgs)
		if !reflect.DeepEqual(pkgs, again) {
			t.Fatalf("%q: %+v != %+v", s, pkgs, again)
		}
	})
}
