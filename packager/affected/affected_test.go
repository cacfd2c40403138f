package affected

import (
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

func TestQueries(t *testing.T) {
	p := manifest.Package{NEVRA: rpmver.NEVRA{Name: "openssl-libs", Epoch: 1, Version: "3.1.1", Release: "4.fc39", Arch: "x86_64"}}
	for q, want := range map[string]bool{
		"openssl-libs":                true,
		"openssl":                     false,
		"openssl-libs<1:3.1.2":        true,
		"openssl-libs<1:3.1.1":        false,
		"openssl-libs<1:3.1.1-5":      true,
		"openssl-libs<1:3.1.1-4.fc39": false,
		"openssl-libs<3.2":            false, // epoch 1 is newer than any epoch 0
		"openssl-libs<2:0.1":          true,
	} {
		query, err := ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := query.Matches(p); got != want {
			t.Errorf("%s matches %s: %v, want %v", q, p.NEVRA, got, want)
		}
	}
	for _, bad := range []string{"", "<1.0", "a b", "x<", "x<a:1", "x>=1"} {
		if _, err := ParseQuery(bad); err == nil {
			t.Errorf("ParseQuery(%q) accepted", bad)
		}
	}
}
