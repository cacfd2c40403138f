package sbom

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

var pkgs = []manifest.Package{
	{NEVRA: rpmver.NEVRA{Name: "hello", Version: "1.0", Release: "1", Arch: "noarch"}, SourceRPM: "hello-1.0-1.src.rpm", Origin: manifest.App},
	{NEVRA: rpmver.NEVRA{Name: "libstdc++", Epoch: 2, Version: "13.2.1", Release: "4.fc39", Arch: "x86_64"}, SourceRPM: "gcc-13.2.1-4.fc39.src.rpm", Origin: manifest.Runtime},
	{NEVRA: rpmver.NEVRA{Name: "gpg-pubkey", Version: "18b8e74c", Release: "62f2920f", Arch: "(none)"}, Origin: manifest.Runtime},
}

func TestJSONIsSPDX23WithPurlsAndOrigins(t *testing.T) {
	dt, err := JSON(Input{Ref: "app/org.example.Hello/x86_64/stable", Runtime: "org.example.Platform/x86_64/1", Packages: pkgs, Created: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SPDXVersion  string `json:"spdxVersion"`
		CreationInfo struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
		Packages []struct {
			Name         string `json:"name"`
			ExternalRefs []struct {
				Category, Type, Locator string
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(dt, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
		t.Errorf("version %q, created %q", doc.SPDXVersion, doc.CreationInfo.Created)
	}
	for _, want := range []string{
		`"referenceLocator": "pkg:rpm/hello@1.0-1?arch=noarch\u0026upstream=hello-1.0-1.src.rpm"`,
		`"referenceLocator": "pkg:rpm/libstdc%2B%2B@13.2.1-4.fc39?arch=x86_64\u0026epoch=2\u0026upstream=gcc-13.2.1-4.fc39.src.rpm"`,
		`"referenceCategory": "PACKAGE-MANAGER"`,
		`"SPDXID": "SPDXRef-RPM-3-libstdc--"`,
	} {
		if !strings.Contains(string(dt), want) {
			t.Errorf("document lacks %s:\n%s", want, dt)
		}
	}

	back, err := Packages(dt)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]manifest.Package(nil), pkgs...)
	manifest.Sort(want)
	manifest.Sort(back)
	if !reflect.DeepEqual(back, want) {
		t.Errorf("Packages:\n%+v\nwant\n%+v", back, want)
	}
}

func TestJSONOfARuntimeOwnsEveryPackage(t *testing.T) {
	dt, err := JSON(Input{Ref: "runtime/org.example.Platform/x86_64/1", Packages: pkgs[1:], Created: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := Packages(dt)
	if err != nil {
		t.Fatal(err)
	}
	// As in the label, a runtime's packages are all "runtime".
	for _, p := range back {
		if p.Origin != manifest.Runtime {
			t.Errorf("%s: origin %s in the runtime's own document", p.Name, p.Origin)
		}
	}
}

func TestJSONRefusesBadRefs(t *testing.T) {
	for _, in := range []Input{
		{Ref: "org.example.Hello"},
		{Ref: "app/org.example.Hello/x86_64/stable"}, // no runtime
		{Ref: "image/a/b/c"},
	} {
		if _, err := JSON(in); err == nil {
			t.Errorf("JSON(%+v) accepted", in)
		}
	}
}
