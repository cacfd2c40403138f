package buildstep

import (
	"reflect"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

func TestReportsRoundTripAnyFileName(t *testing.T) {
	odd := []string{"/app/share/new\nline", "/app/share/tab\there", "/app/share/it's \"quoted\"", "/app/share/\xff\xfe not UTF-8", "/app/share/back\\slash"}
	in := &InstallReport{
		Packages: []Package{
			{NEVRA: rpmver.NEVRA{Name: "hello", Epoch: 0, Version: "1.0", Release: "1", Arch: "noarch"}, SourceRPM: "hello-1.0-1.src.rpm", Added: true},
			{NEVRA: rpmver.NEVRA{Name: "runtime", Epoch: 2, Version: "3", Release: "4", Arch: "x86_64"}},
		},
		Notices:    []string{"a notice"},
		Downloaded: []Downloaded{{File: "hello-1.0-1.noarch.rpm", Repo: "fedora", Check: true}, {File: "x.rpm"}},
		Failure: &Failure{Status: 0, Lost: []Lost{{"hello", odd[0], "is missing"}}, Outside: []Owned{{"hello", "/usr/bin/x"}},
			Missing: []string{"helo"}, Excluded: []string{"hello-data"}, Conflicts: []Conflict{{odd[0], "a-1-1.noarch", "b-1-1.noarch", true}},
			Updated: []Update{{"glib2-2.80-1.x86_64", "glib2-2.82-1.x86_64"}}, Unresolved: []Unresolved{{"libfoo.so.1()(64bit)", "hello-1.0-1.noarch"}},
			Unread: []UnreadRepo{{"local", RepoNoMetadata, 3}, {"remote", "Cannot download repomd.xml: Status code: 404", 0}}, Message: "it failed\non two lines"},
	}
	for _, p := range odd {
		in.Files = append(in.Files, PackagedFile{Package: "hello", SourceRPM: "hello-1.0-1.src.rpm", Path: p, Mode: 0o100644, Size: 12, DigestAlgo: 8, Digest: "ab", Flags: FileFlagConfig, LinkTo: "x\ny"})
	}
	out, err := ParseInstallReport(in.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("install report changed:\n%+v\n%+v", in, out)
	}

	fin := &FinishReport{Changes: []Change{{"hello", odd[1], "removed"}}, Failure: &FinishFailure{Key: "rename-icon", Message: "no icon named " + odd[0]}}
	for i, p := range odd {
		fin.Entries = append(fin.Entries, Entry{Path: strings.TrimPrefix(p, "/app/"), Type: "fdl"[i%3], Size: int64(i)})
	}
	got, err := ParseFinishReport(fin.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fin, got) {
		t.Errorf("finish report changed:\n%+v\n%+v", fin, got)
	}
}

func TestReportsRefuseWhatTheyDoNotKnow(t *testing.T) {
	for name, data := range map[string]string{
		"truncated record":  "package\x00hello\x000\x00",
		"no final NUL":      "missing\x00helo",
		"unknown record":    "surprise\x00x\x00",
		"bad size":          "entry\x00f\x00big\x00bin/x\x00",
		"finish in install": "entry\x00f\x001\x00bin/x\x00",
	} {
		if _, err := ParseInstallReport([]byte(data)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if r, err := ParseInstallReport(nil); err != nil || r.Failure != nil || len(r.Packages) != 0 {
		t.Errorf("an empty report: %+v, %v", r, err)
	}
}
