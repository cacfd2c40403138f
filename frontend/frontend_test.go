package frontend

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
)

func TestInstalledSizeCountsExportsTwice(t *testing.T) {
	r := &reports{finish: &buildstep.FinishReport{Entries: []buildstep.Entry{
		{Path: "bin", Type: 'd'},
		{Path: "bin/hello", Type: 'f', Size: 100},
		{Path: "share/applications/org.example.Hello.desktop", Type: 'f', Size: 600},
		{Path: "share/doc/README", Type: 'f', Size: 0},
		{Path: "share/doc/link", Type: 'l'},
	}}}
	// metadata 10 B -> 512; the content id 72 B -> 512; hello 100 -> 512;
	// desktop 600 -> 1024 in files/ and again in export/; an empty file
	// counts 0.
	got := r.installedSize(make([]byte, 10), r.exported([]string{"share/applications/*.desktop"}))
	if want := uint64(512 + 512 + 512 + 1024 + 1024); got != want {
		t.Errorf("installed size = %d, want %d", got, want)
	}
}

func TestFailureErrorPointsAtThePackageLines(t *testing.T) {
	data := []byte("id: org.example.Hello\ncommand: hello\npackages:\n  - hello\n  - helo-typo\n")
	s, err := spec.Parse("flatpak.yaml", data, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{spec: s}
	lines := func(err error) []int32 {
		var out []int32
		for _, src := range errdefs.Sources(err) {
			out = append(out, src.Ranges[0].Start.Line)
		}
		return out
	}
	err = b.failureError(&buildstep.Failure{Status: 1, Missing: []string{"helo-typo"}}, nil)
	if !strings.Contains(err.Error(), `package "helo-typo" was not found`) || !slices.Equal(lines(err), []int32{5}) {
		t.Errorf("missing package: %v at lines %v", err, lines(err))
	}
	err = b.failureError(&buildstep.Failure{Status: 1, Unresolved: []buildstep.Unresolved{
		{Capability: "libgtk-4.so.1()(64bit)", NeededBy: "hello-1.0-1.x86_64"},
		{Capability: "libz.so.1()(64bit)", NeededBy: "dep-2:1.0-1.fc42.x86_64"},
	}}, nil)
	msg := err.Error()
	if !strings.Contains(msg, "nothing provides libgtk-4.so.1()(64bit), which hello-1.0-1.x86_64 needs") ||
		!strings.Contains(msg, "libz.so.1()(64bit)") || !strings.Contains(msg, "(pulled in as a dependency)") {
		t.Errorf("unresolved: %v", err)
	}
	// hello's line, and the packages list (which starts on the same line).
	if got := lines(err); !slices.Equal(got, []int32{4, 4}) {
		t.Errorf("unresolved capabilities at lines %v, want hello's and the packages list's (4, 4)", got)
	}
	err = b.failureError(&buildstep.Failure{Status: 0, Lost: []buildstep.Lost{{Package: "hello", Path: "/app/share/x", Reason: "is missing"}}}, nil)
	if !strings.Contains(err.Error(), "files of package hello are not in the result: /app/share/x is missing") || !slices.Equal(lines(err), []int32{4}) {
		t.Errorf("lost files: %v at %v", err, lines(err))
	}
	err = b.failureError(&buildstep.Failure{Status: 1, Message: "dnf failed with exit status 1"}, []byte("line 1\nError: something\n"))
	if !strings.Contains(err.Error(), "dnf failed with exit status 1:\nline 1\nError: something") {
		t.Errorf("installer failure: %v", err)
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

// TestFailureErrorAsksForTheReleaseVersion: a repo fetched with
// $releasever left in its URL is named at its URL's line, with the key
// that fills it in.
func TestFailureErrorAsksForTheReleaseVersion(t *testing.T) {
	data := []byte("id: org.example.Hello\npackages: [hello]\nrepos:\n  - name: local\n    path: rpms\n  - name: fedora\n    metalink: https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch\n")
	s, err := spec.Parse("flatpak.yaml", data, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{spec: s}
	err = b.failureError(&buildstep.Failure{Status: 1, Unset: []string{"releasever"}, Message: "dnf failed"}, nil)
	want := "repo fedora: the installer has no release version for $releasever in https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch (nothing installed in the root it installs into provides system-release to read it from): give one with releasever:, such as releasever: 41"
	if err == nil || err.Error() != want {
		t.Errorf("error %v,\nwant %s", err, want)
	}
	if srcs := errdefs.Sources(err); len(srcs) != 1 || srcs[0].Ranges[0].Start.Line != 7 {
		t.Errorf("at %v, want the metalink's line 7", srcs)
	}
	// With releasever given, the installer's own words stand.
	s.ReleaseVer = "41"
	if err := b.failureError(&buildstep.Failure{Status: 1, Unset: []string{"releasever"}, Message: "dnf failed"}, []byte("Error: x\n")); !strings.Contains(err.Error(), "dnf failed:\nError: x") {
		t.Errorf("with releasever: %v", err)
	}
}

// TestFailureErrorNamesTheRepoThatCouldNotBeRead: a repo folder with no
// metadata and an RPM that cannot be indexed, one with neither metadata
// nor RPMs, one that does not exist and a remote repo the installer could
// not read are each named at the line that says where the repo is.
func TestFailureErrorNamesTheRepoThatCouldNotBeRead(t *testing.T) {
	data := []byte("id: org.example.Hello\npackages: [hello]\nrepos:\n  - name: local\n    context: rpms\n    path: out/RPMS\n  - name: fedora\n    metalink: https://mirrors.example.org/metalink\n  - name: gone\n    baseurl: file:///srv/gone\n")
	s, err := spec.Parse("flatpak.yaml", data, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{spec: s}
	err = b.failureError(&buildstep.Failure{Status: -1, Unread: []buildstep.UnreadRepo{
		{Repo: "local", Why: buildstep.RepoBadPackage + ": x86_64/a.rpm: not an RPM"},
		{Repo: "fedora", Why: "Usable URL not found"},
		{Repo: "gone", Why: buildstep.RepoNoFolder},
	}, Missing: []string{"hello"}, Message: "dnf failed"}, nil)
	want := []string{
		`repo local: folder "out/RPMS" of build context "rpms" has no repodata/repomd.xml, and one of the .rpm files it holds cannot be read to index them: x86_64/a.rpm: not an RPM`,
		"repo fedora: the installer could not read its metadata from https://mirrors.example.org/metalink: Usable URL not found",
		"repo gone: file:///srv/gone does not exist",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("error %v,\nwant %s", err, strings.Join(want, "\n"))
	}
	var lines []int32
	for _, src := range errdefs.Sources(err) {
		lines = append(lines, src.Ranges[0].Start.Line)
	}
	slices.Sort(lines)
	if !slices.Equal(lines, []int32{6, 8, 10}) {
		t.Errorf("at lines %v, want 6, 8 and 10 (path, metalink, baseurl)", lines)
	}
	for rpms, want := range map[int]string{
		0: `repo local: folder "out/RPMS" of build context "rpms" is not a repository: it has neither repodata/repomd.xml nor a binary .rpm file`,
		2: `repo local: folder "out/RPMS" of build context "rpms" is not a repository: it has no repodata/repomd.xml, and its .rpm files are source packages`,
	} {
		err = b.failureError(&buildstep.Failure{Status: -1, Unread: []buildstep.UnreadRepo{{Repo: "local", Why: buildstep.RepoNoMetadata, RPMs: rpms}}}, nil)
		if err == nil || err.Error() != want {
			t.Errorf("%d .rpm files: %v, want %s", rpms, err, want)
		}
	}
}

// TestNoticeAtTheRepoItIsAbout: a step's notice about a repo of the spec is
// shown at the line that says where the repo is; others at packages.
func TestNoticeAtTheRepoItIsAbout(t *testing.T) {
	data := []byte("id: org.example.Hello\npackages: [hello]\nrepos:\n  - name: local\n    context: rpms\n    path: out/RPMS\n  - name: fedora\n    metalink: https://mirrors.example.org/metalink\n")
	s, err := spec.Parse("flatpak.yaml", data, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{spec: s}
	for n, want := range map[string][]any{
		"repos: repo local: its repodata/ does not list 1 .rpm file": {"repos", 0, "path"},
		"repos: repo fedora has gpgcheck off, but ...":               {"repos", 1, "metalink"},
		"repos: repo elsewhere has gpgcheck off, but ...":            {"packages"},
		"the install updated the runtime's glib2":                    {"packages"},
	} {
		if got := b.noticeAt(n); !slices.Equal(got, want) {
			t.Errorf("%q at %v, want %v", n, got, want)
		}
	}
}
