package remoteindex

import (
	"strings"
	"testing"
)

func TestMarshalIsStableAndValid(t *testing.T) {
	img := func(d string) Image {
		return Image{Digest: d, MediaType: "application/vnd.oci.image.manifest.v1+json", OS: "linux", Architecture: "amd64", Tags: []string{"latest", "1.0"}}
	}
	r := &Response{Registry: "https://registry.example/", Results: []Repository{
		{Name: "b", Images: []Image{img("sha256:2"), img("sha256:1")}},
		{Name: "a", Lists: []List{{Digest: "sha256:9", MediaType: "application/vnd.oci.image.index.v1+json", Images: []Image{img("sha256:3")}}}},
	}}
	a, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// A repository with only lists still has "Images": [], which
	// Flatpak 1.17.1 requires.
	if !strings.Contains(string(a), `"Name": "a",`+"\n"+`      "Images": [],`) {
		t.Errorf("no empty Images for a repository of lists:\n%s", a)
	}
	back, err := Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	b, err := back.Marshal()
	if err != nil || string(a) != string(b) {
		t.Errorf("marshal, parse, marshal changed the index: %v\n%s\n%s", err, a, b)
	}
	if strings.Index(string(a), `"Name": "a"`) > strings.Index(string(a), `"Name": "b"`) {
		t.Error("repositories not sorted")
	}
}

func TestValidateRefusesWhatFlatpak1171Refuses(t *testing.T) {
	for name, doc := range map[string]string{
		"no registry":   `{"Results": []}`,
		"no images":     `{"Registry": "x", "Results": [{"Name": "a"}]}`,
		"no arch":       `{"Registry": "x", "Results": [{"Name": "a", "Images": [{"Digest": "sha256:1", "MediaType": "m", "OS": "linux"}]}]}`,
		"sha512":        `{"Registry": "x", "Results": [{"Name": "a", "Images": [{"Digest": "sha512:1", "MediaType": "m", "OS": "linux", "Architecture": "amd64"}]}]}`,
		"not json":      `{"Registry": `,
		"list no media": `{"Registry": "x", "Results": [{"Name": "a", "Images": [], "Lists": [{"Digest": "sha256:1", "Images": []}]}]}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestCheckNameKeepsPathsInTheRemote(t *testing.T) {
	for _, bad := range []string{"", "..", "../x", "a/b", ".hidden", "-x", "a b", strings.Repeat("a", 129)} {
		if CheckName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"latest", "f43", "1.0-testing", "amd64", "arm64"} {
		if err := CheckName(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"Registry": "x", "Results": [{"Name": "a", "Images": []}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		if _, err := r.Marshal(); err != nil {
			t.Fatalf("a parsed index does not marshal: %v", err)
		}
	})
}
