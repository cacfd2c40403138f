package spec_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

const minimal = "id: org.example.App\npackages: [app]\n"

func mustParse(t *testing.T, src string, opts spec.Options) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("f.yaml", []byte(src), opts)
	if err != nil {
		t.Fatalf("Parse:\n%v\nsource:\n%s", err, src)
	}
	return s
}

func rng(r spec.Range) string {
	return fmt.Sprintf("%d:%d-%d:%d", r.Start.Line, r.Start.Column, r.End.Line, r.End.Column)
}

// TestParseKeys reads every key and checks its value and where the file
// sets it.
func TestParseKeys(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(s *spec.Spec) any // returns the value to compare with want
		want  any
		path  []any  // a path whose range is checked
		at    string // the expected range of path
	}{
		{"id", minimal, func(s *spec.Spec) any { return s.ID }, "org.example.App", []any{"id"}, "1:5-1:20"},
		{"branch default", minimal, func(s *spec.Spec) any { return s.Branch }, "stable", nil, ""},
		{"branch", minimal + "branch: f40\n", func(s *spec.Spec) any { return s.Branch }, "f40", []any{"branch"}, "3:9-3:12"},
		{"branch number", minimal + "branch: 1\n", func(s *spec.Spec) any { return s.Branch }, "1", nil, ""},
		{"name", minimal + "name: eog\n", func(s *spec.Spec) any { return s.Name }, "eog", []any{"name"}, "3:7-3:10"},
		{"component", minimal + "component: eog-flatpak\n", func(s *spec.Spec) any { return s.Component }, "eog-flatpak", nil, ""},
		{"build-runtime", minimal + "build-runtime: true\n", func(s *spec.Spec) any { return s.Kind() }, "runtime", []any{"build-runtime"}, "3:16-3:20"},
		{"build-runtime YAML 1.1", minimal + "build-runtime: yes\n", func(s *spec.Spec) any { return s.BuildRuntime }, true, nil, ""},
		{"kind app", minimal, func(s *spec.Spec) any { return s.Kind() }, "app", nil, ""},
		{"runtime and sdk", minimal + "runtime: org.fedoraproject.Platform\nsdk: org.fedoraproject.Sdk\nbuild-runtime: true\n",
			func(s *spec.Spec) any { return s.Runtime + " " + s.SDK }, "org.fedoraproject.Platform org.fedoraproject.Sdk", []any{"sdk"}, "4:6-4:27"},
		{"runtime-name container name", minimal + "runtime-name: flatpak-runtime\nruntime-version: f40\n",
			func(s *spec.Spec) any { return s.DefaultRuntimeImage() }, "registry.fedoraproject.org/flatpak-runtime:f40", []any{"runtime-version"}, "4:18-4:21"},
		{"runtime-name ID", minimal + "runtime-name: org.fedoraproject.Sdk\nruntime-version: f40\n",
			func(s *spec.Spec) any { return s.DefaultRuntimeImage() }, "registry.fedoraproject.org/flatpak-sdk:f40", nil, ""},
		{"runtime-name KDE", minimal + "runtime-name: org.fedoraproject.KDE6Platform\nruntime-version: f41\n",
			func(s *spec.Spec) any { return s.DefaultRuntimeImage() }, "registry.fedoraproject.org/flatpak-kde6-runtime:f41", nil, ""},
		{"runtime ID of a container name", minimal + "runtime-name: flatpak-kde6-sdk\n", func(s *spec.Spec) any { return s.RuntimeID() }, "org.fedoraproject.KDE6Sdk", nil, ""},
		{"runtime ID of an ID", minimal + "runtime-name: org.gnome.Platform\n", func(s *spec.Spec) any { return s.RuntimeID() }, "org.gnome.Platform", nil, ""},
		{"runtime ID of an unknown container name", minimal + "runtime-name: my-runtime\n", func(s *spec.Spec) any { return s.RuntimeID() }, "", nil, ""},
		{"runtime-name other", minimal + "runtime-name: org.gnome.Platform\nruntime-version: \"47\"\n",
			func(s *spec.Spec) any { return s.DefaultRuntimeImage() }, "", nil, ""},
		{"runtime-version number", minimal + "runtime-version: 39\n", func(s *spec.Spec) any { return s.RuntimeVersion }, "39", nil, ""},
		{"runtime-image wins", minimal + "runtime-name: flatpak-runtime\nruntime-version: f40\nruntime-image: localhost/rt:1\n",
			func(s *spec.Spec) any { return s.DefaultRuntimeImage() }, "localhost/rt:1", []any{"runtime-image"}, "5:16-5:30"},
		{"packages strings", "id: org.example.App\npackages:\n- a\n- b-c\n",
			func(s *spec.Spec) any { return s.PackageNames("x86_64") }, []string{"a", "b-c"}, []any{"packages", 1}, "4:3-4:6"},
		{"package name position", "id: org.example.App\npackages:\n- a\n- name: b\n  platforms: {only: x86_64}\n",
			func(s *spec.Spec) any { return s.PackageNames("aarch64") }, []string{"a"}, []any{"packages", 1, "name"}, "4:9-4:10"},
		{"package platforms string list", "id: org.example.App\npackages:\n- name: b\n  platforms: {only: \"x86_64, aarch64\", not: aarch64}\n",
			func(s *spec.Spec) any {
				return [][]string{s.PackageNames("x86_64"), s.PackageNames("aarch64"), s.PackageNames("s390x")}
			},
			[][]string{{"b"}, nil, nil}, []any{"packages", 0, "platforms", "not"}, "4:45-4:52"},
		{"package platforms string positions", "id: org.example.App\npackages:\n- name: b\n  platforms: {only: \"x86_64, aarch64\"}\n",
			func(s *spec.Spec) any { return s.Packages[0].Platforms.Only }, []string{"x86_64", "aarch64"}, []any{"packages", 0, "platforms", "only", 1}, "4:30-4:37"},
		{"package platforms i386", "id: org.example.App\npackages:\n- name: b\n  platforms: {only: [i686]}\n",
			func(s *spec.Spec) any { return s.PackageNames("i386") }, []string{"b"}, []any{"packages", 0, "platforms", "only", 0}, "4:22-4:26"},
		{"command", minimal + "command: eog\n", func(s *spec.Spec) any { return s.Command }, "eog", []any{"command"}, "3:10-3:13"},
		{"finish-args list", minimal + "finish-args:\n  - --share=ipc\n  - --socket=wayland\n",
			func(s *spec.Spec) any { return s.FinishArgs }, []string{"--share=ipc", "--socket=wayland"}, []any{"finish-args", 1}, "5:5-5:21"},
		{"finish-args literal block", minimal + "finish-args: |-\n  --filesystem=host\n  # comment\n  --share=ipc --env=A=\"b c\"\n",
			func(s *spec.Spec) any { return s.FinishArgs }, []string{"--filesystem=host", "--share=ipc", "--env=A=b c"}, []any{"finish-args", 2}, "6:15-6:28"},
		{"finish-args folded block", minimal + "finish-args: >-\n    --share=ipc\n    --socket=x11\n",
			func(s *spec.Spec) any { return s.FinishArgs }, []string{"--share=ipc", "--socket=x11"}, []any{"finish-args", 1}, "5:5-5:17"},
		{"finish-args plain string", minimal + "finish-args: --share=ipc --socket=x11\n",
			func(s *spec.Spec) any { return s.FinishArgs }, []string{"--share=ipc", "--socket=x11"}, []any{"finish-args", 1}, "3:26-3:38"},
		{"finish-args block range", minimal + "finish-args: |-\n  --share=ipc\n  --device=dri\n",
			func(s *spec.Spec) any { return len(s.FinishArgs) }, 2, []any{"finish-args"}, "3:14-5:15"},
		{"cleanup-commands", minimal + "cleanup-commands: |\n  echo ${X}\n  true\n",
			func(s *spec.Spec) any { return s.CleanupCommands }, "echo ${X}\ntrue\n", []any{"cleanup-commands"}, "3:19-5:7"},
		{"cleanup_commands", minimal + "cleanup_commands: echo hi\n",
			func(s *spec.Spec) any { return s.CleanupCommands }, "echo hi", []any{"cleanup-commands"}, "3:19-3:26"},
		{"cleanup_commands key", minimal + "cleanup_commands: echo hi\n",
			func(s *spec.Spec) any { return s.CleanupCommands }, "echo hi", []any{"cleanup-commands", spec.Key}, "3:1-3:17"},
		{"tags", minimal + "tags: [Viewer, \"Eye of GNOME\"]\n", func(s *spec.Spec) any { return s.Tags }, []string{"Viewer", "Eye of GNOME"}, []any{"tags", 1}, "3:16-3:30"},
		{"end-of-life", minimal + "end-of-life: Too old\nend-of-life-rebase: org.example.New\n",
			func(s *spec.Spec) any { return s.EndOfLife + "|" + s.EndOfLifeRebase }, "Too old|org.example.New", []any{"end-of-life"}, "3:14-3:21"},
		{"releasever number", minimal + "releasever: 41\n", func(s *spec.Spec) any { return s.ReleaseVer }, "41", []any{"releasever"}, "3:13-3:15"},
		{"releasever name", minimal + "releasever: rawhide\n", func(s *spec.Spec) any { return s.ReleaseVer }, "rawhide", nil, ""},
		{"releasever dotted", minimal + "releasever: 10.10\n", func(s *spec.Spec) any { return s.ReleaseVer }, "10.10", nil, ""},
		{"appstream-compose default", minimal, func(s *spec.Spec) any { return s.AppstreamCompose }, true, nil, ""},
		{"appstream-compose false", minimal + "appstream-compose: False\n", func(s *spec.Spec) any { return s.AppstreamCompose }, false, nil, ""},
		{"appdata-license", minimal + "appdata-license: MIT\n", func(s *spec.Spec) any { return s.AppdataLicense }, "MIT", nil, ""},
		{"appstream-license", minimal + "appstream-license: MIT\n", func(s *spec.Spec) any { return s.AppdataLicense }, "MIT", []any{"appdata-license"}, "3:20-3:23"},
		{"copy-icon", minimal + "copy-icon: true\n", func(s *spec.Spec) any { return s.CopyIcon }, true, nil, ""},
		{"desktop-file-name prefix and suffix", minimal + "desktop-file-name-prefix: '[Flatpak] '\ndesktop-file-name-suffix: \" (Fedora)\"\n",
			func(s *spec.Spec) any { return s.DesktopFileNamePrefix + "|" + s.DesktopFileNameSuffix }, "[Flatpak] | (Fedora)", []any{"desktop-file-name-prefix"}, "3:27-3:39"},
		{"renames", minimal + "rename-appdata-file: eog.appdata.xml\nrename-desktop-file: eog.desktop\nrename-icon: eog\n",
			func(s *spec.Spec) any { return s.RenameAppdataFile + "|" + s.RenameDesktopFile + "|" + s.RenameIcon }, "eog.appdata.xml|eog.desktop|eog", []any{"rename-icon"}, "5:14-5:17"},
		{"labels", minimal + "labels:\n  org.foo: bar\n", func(s *spec.Spec) any { return s.Labels }, map[string]string{"org.foo": "bar"}, []any{"labels", "org.foo"}, "4:12-4:15"},
		{"labels key", minimal + "labels:\n  org.foo: bar\n", func(s *spec.Spec) any { return len(s.Labels) }, 1, []any{"labels", "org.foo", spec.Key}, "4:3-4:10"},
		{"base_image", minimal + "base_image: f40/flatpak-runtime:latest\n", func(s *spec.Spec) any { return s.BaseImage }, "f40/flatpak-runtime:latest", nil, ""},
		{"installer default", minimal, func(s *spec.Spec) any { return s.Installer }, spec.InstallerAuto, nil, ""},
		{"installer", minimal + "installer: microdnf\n", func(s *spec.Spec) any { return s.Installer }, spec.InstallerMicrodnf, []any{"installer"}, "3:12-3:20"},
		{"repos", minimal + "repos:\n- name: r\n  baseurl: https://example.com/repo/\n  gpgkey: file:///etc/pki/key\n  priority: 5\n  excludepkgs: [\"foo*\"]\n",
			func(s *spec.Spec) any {
				r := s.Repos[0]
				return fmt.Sprint(r.Name, " ", *r.GPGCheck, " ", r.Priority, " ", r.ExcludePkgs)
			}, "r true 5 [foo*]", []any{"repos", 0, "baseurl"}, "5:12-5:37"},
		{"repo metalink", minimal + "repos:\n- name: fedora\n  metalink: https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch\n",
			func(s *spec.Spec) any { return s.Repos[0].Metalink }, "https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch", []any{"repos", 0, "metalink"}, "5:13-5:94"},
		{"repo gpgcheck default false", minimal + "repos:\n- {name: r, path: repo}\n",
			func(s *spec.Spec) any { return *s.Repos[0].GPGCheck }, false, []any{"repos", 0, "path"}, "4:19-4:23"},
		{"repo gpgkeys", minimal + "repos:\n- name: r\n  path: repo\n  gpgkey: |\n    file:///etc/pki/rpm-gpg/RPM-GPG-KEY-old,\n    https://example.com/RPM-GPG-KEY-$releasever\n",
			func(s *spec.Spec) any { return fmt.Sprint(*s.Repos[0].GPGCheck, s.Repos[0].GPGKeys) },
			"true [file:///etc/pki/rpm-gpg/RPM-GPG-KEY-old https://example.com/RPM-GPG-KEY-$releasever]", []any{"repos", 0, "gpgkey", 1}, "8:5-8:48"},
		{"repo gpgcheck explicit", minimal + "repos:\n- {name: r, path: repo, gpgkey: 'https://x/k', gpgcheck: false, context: rpms, secret: creds}\n",
			func(s *spec.Spec) any { return *s.Repos[0].GPGCheck }, false, nil, ""},
		{"allow-outside-app", minimal + "allow-outside-app: [filesystem, setup]\n", func(s *spec.Spec) any { return s.AllowOutsideApp }, []string{"filesystem", "setup"}, []any{"allow-outside-app", 1}, "3:33-3:38"},
		{"add-extensions", minimal + "add-extensions:\n  org.example.App.Plugin:\n    directory: plugins\n    version: '1.0'\n    subdirectories: true\n",
			func(s *spec.Spec) any { return s.AddExtensions["org.example.App.Plugin"] },
			spec.Extension{Directory: "plugins", Version: "1.0", Subdirectories: true}, []any{"add-extensions", "org.example.App.Plugin", "directory"}, "5:16-5:23"},
		{"container.yaml", "compose:\n  modules: [eog:stable]\nimage_build_method: x\nflatpak:\n  id: org.gnome.eog\n  packages: [eog]\nplatforms: {only: x86_64}\n",
			func(s *spec.Spec) any { return s.ID }, "org.gnome.eog", []any{"id"}, "5:7-5:20"},
		{"syntax line and comments", "# syntax=example.com/frontend:1\n# a comment\n" + minimal, func(s *spec.Spec) any { return s.ID }, "org.example.App", []any{"id"}, "3:5-3:20"},
		{"whole file", minimal, func(s *spec.Spec) any { return s.ID }, "org.example.App", []any{}, "1:1-3:1"},
		{"anchors and aliases", "id: org.example.App\nx-common: &p [a, b]\npackages: *p\n",
			nil, nil, nil, ""},
		{"merge key", "x-defaults: &d\n  runtime-name: flatpak-runtime\n  runtime-version: f41\n  branch: stable\nflatpak:\n  <<: *d\n  id: org.example.App\n  branch: devel\n  packages: [app]\n",
			func(s *spec.Spec) any { return s.RuntimeVersion + " " + s.Branch }, "f41 devel", []any{"runtime-version"}, "3:20-3:23"},
		{"merge key list, first wins", "x-a: &a {command: a, name: a}\nx-b: &b {command: b, component: b}\nflatpak:\n  <<: [*a, *b]\n  id: org.example.App\n  packages: [app]\n",
			func(s *spec.Spec) any { return s.Command + s.Name + s.Component }, "aab", []any{"component"}, "2:33-2:34"},
		{"merge key nested", "x-common: &l {a: one, b: two}\nflatpak:\n  id: org.example.App\n  packages: [app]\n  labels:\n    <<: *l\n    b: mine\n",
			func(s *spec.Spec) any { return s.Labels }, map[string]string{"a": "one", "b": "mine"}, nil, ""},
		{"null means unset", minimal + "branch:\ncommand: ~\n", func(s *spec.Spec) any { return s.Branch + s.Command }, "stable", nil, ""},
		{"byte order mark", "\ufeff" + minimal + "command: x\n", func(s *spec.Spec) any { return s.ID }, "org.example.App", []any{"id"}, "1:5-1:20"},
		{"CRLF", "id: org.example.App\r\npackages: [app]\r\nfinish-args: |\r\n  --share=ipc\r\n  --socket=x11\r\n",
			func(s *spec.Spec) any { return s.FinishArgs }, []string{"--share=ipc", "--socket=x11"}, []any{"finish-args", 1}, "5:3-5:15"},
		{"unicode columns", "id: org.example.App\npackages: [app]\nname: \"é\"\ncommand: x\n", func(s *spec.Spec) any { return s.Name }, "é", []any{"command"}, "4:10-4:11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "anchors and aliases" {
				// x-common is not a key: aliases work, unknown keys do not.
				_, err := spec.Parse("f.yaml", []byte(tt.src), spec.Options{})
				if err == nil || !strings.Contains(err.Error(), `f.yaml:2:1: unknown key "x-common"`) {
					t.Fatalf("got %v", err)
				}
				s := mustParse(t, "id: org.example.App\npackages: &p [a, b]\nallow-outside-app: *p\n", spec.Options{})
				if !reflect.DeepEqual(s.AllowOutsideApp, []string{"a", "b"}) {
					t.Fatalf("alias: got %v", s.AllowOutsideApp)
				}
				return
			}
			s := mustParse(t, tt.src, spec.Options{})
			if got := tt.check(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value: got %#v, want %#v", got, tt.want)
			}
			if tt.path != nil {
				r, ok := s.Source.Range(tt.path...)
				if !ok {
					t.Fatalf("Range(%v): not found", tt.path)
				}
				if rng(r) != tt.at {
					t.Errorf("Range(%v) = %s, want %s", tt.path, rng(r), tt.at)
				}
			}
		})
	}
}

// TestParseErrors checks each kind of mistake: its message and exact
// position.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "LINE:COL: message substring", in order
	}{
		// The file.
		{"empty", "", []string{"1:1: file is empty"}},
		{"only comments", "# syntax=x\n# nothing\n", []string{"1:1: file is empty"}},
		{"null document", "~\n", []string{"1:1: file is empty"}},
		{"not UTF-8", "id: org.example.App\nname: caf\xe9\n", []string{"2:10: file is not valid UTF-8 (byte 0xe9)"}},
		{"too large", "#" + strings.Repeat("x", spec.MaxFileSize), []string{"1:1: file is too large"}},
		{"syntax error", "id: org.example.App\npackages: [a\n", []string{"2:11: YAML syntax error: did not find expected ',' or ']'"}},
		{"syntax error unknown anchor", "id: org.example.App\npackages: [a]\ncommand: *cmd\n", []string{"3:10: YAML syntax error: unknown anchor 'cmd' referenced"}},
		{"syntax error reserved character", "id: org.example.App\npackages: [a]\ncommand: @app\n", []string{"3:10: YAML syntax error: found character that cannot start any token ('@' cannot start a plain value: put the value in quotes)"}},
		{"syntax error mapping in value", "id: org.example.App: x\npackages: [a]\n", []string{"1:20: YAML syntax error: mapping values are not allowed in this context"}},
		{"syntax error tab", "id: x\npackages:\n\t- a\n", []string{"3:1: YAML syntax error: found character that cannot start any token (a tab: YAML indents with spaces only)"}},
		{"syntax error at end", "id: \"x\n", []string{"2:1: YAML syntax error: found unexpected end of stream"}},
		{"two documents", minimal + "---\nid: b\n", []string{"3:1: file has more than one YAML document"}},
		{"alias bomb", aliasBomb(), []string{"1:1: document is too large: more than 100000 YAML nodes"}},
		{"top level list", "- a\n", []string{"1:1: expected a mapping of keys (id, packages, ...) at the top level, got a list"}},
		{"flatpak not a mapping", "flatpak: [a]\n", []string{"1:10: flatpak: expected a mapping of keys (id, packages, ...), got a list"}},
		{"two flatpak sections", "flatpak: {id: org.a.B, packages: [a]}\nflatpak: {}\n", []string{"2:1: duplicate key \"flatpak\" (first at line 1)"}},

		// Keys.
		{"unknown key", minimal + "comand: eog\n", []string{`3:1: unknown key "comand"; did you mean "command"?`}},
		{"unknown key no suggestion", minimal + "zzzzzzzz: 1\n", []string{`3:1: unknown key "zzzzzzzz"`}},
		{"unknown nested key", minimal + "repos:\n- name: r\n  baseur: https://x/\n", []string{`4:3: repos[0]: missing key "baseurl"`, `5:3: repos[0]: unknown key "baseur"; did you mean "baseurl"?`}},
		{"duplicate key", minimal + "id: org.example.Other\n", []string{`3:1: duplicate key "id" (first at line 1)`}},
		{"duplicate label", minimal + "labels:\n  a: b\n  a: c\n", []string{`5:3: labels: duplicate key "a" (first at line 4)`}},
		{"both spellings", minimal + "cleanup-commands: a\ncleanup_commands: b\n", []string{`4:1: "cleanup_commands" and "cleanup-commands" are two spellings of the same key (first at line 3); keep one`}},
		{"both license spellings", minimal + "appstream-license: MIT\nappdata-license: MIT\n", []string{`4:1: "appdata-license" and "appstream-license" are two spellings`}},
		{"merge of a scalar", minimal + "labels:\n  <<: 3\n", []string{`4:7: merge key <<: expected a mapping or a list of mappings (such as *anchor), got the number 3; quote the key ("<<") if it is not a merge`}},
		{"merge list with a scalar", minimal + "labels:\n  <<: [{a: b}, c]\n", []string{`4:16: merge key <<: expected a list of mappings (such as [*a, *b]), got the string "c" in it`}},
		{"merged unknown key", "x-d: &d {comand: a}\nflatpak:\n  <<: *d\n  id: org.example.App\n  packages: [app]\n", []string{`1:10: unknown key "comand"; did you mean "command"?`}},
		{"quoted << is a key", minimal + "\"<<\": {command: a}\n", []string{`3:1: unknown key "<<"`}},
		{"key not a string", minimal + "[a]: b\n", []string{"3:1: keys must be strings, got a list"}},

		// Types.
		{"string expected", minimal + "command: [eog]\n", []string{"3:10: command: expected a string, got a list"}},
		{"bool expected", minimal + "copy-icon: maybe\n", []string{`3:12: copy-icon: expected a boolean (true or false), got the string "maybe"`}},
		{"int expected", minimal + "repos:\n- {name: r, path: p, priority: high}\n", []string{`4:32: repos[0].priority: expected an integer, got the string "high"`}},
		{"list expected", minimal + "tags: Viewer\n", []string{`3:7: tags: expected a list of strings, got the string "Viewer"`}},
		{"mapping expected", minimal + "labels: [a]\n", []string{"3:9: labels: expected a mapping of strings to strings, got a list"}},
		{"struct expected", minimal + "repos: [r]\n", []string{`3:9: repos[0]: expected a mapping with name and baseurl or path, got the string "r"`}},
		{"packages not a list", "id: org.example.App\npackages: eog\n", []string{`2:11: packages: expected a list of package names (or mappings with name and platforms), got the string "eog"`}},
		{"package entry list", "id: org.example.App\npackages: [[a]]\n", []string{"2:12: packages[0]: expected a package name or a mapping with name and platforms, got a list"}},
		{"finish-args mapping", minimal + "finish-args: {a: b}\n", []string{"3:14: finish-args: expected a list of flatpak build-finish options or one string of them, got a mapping"}},
		{"extension null", minimal + "add-extensions:\n  org.example.App.Ext:\n", []string{"4:23: add-extensions[\"org.example.App.Ext\"]: expected a mapping with directory"}},

		// Identity.
		{"id missing", "packages: [a]\nname: x\n", []string{`1:1: missing key "id"`}},
		{"id missing in container.yaml", "compose: {}\nflatpak:\n  packages: [a]\n", []string{`3:3: missing key "id"`}},
		{"id two elements", "id: org.example\npackages: [a]\n", []string{`1:5: id: "org.example" is not a valid Flatpak ID: must have at least 3 elements`}},
		{"id dash", "id: org.my-example.App\npackages: [a]\n", []string{`1:5: id: "org.my-example.App" is not a valid Flatpak ID: only the last element may contain '-'`}},
		{"id digit", "id: org.example.3D\npackages: [a]\n", []string{`element "3D" must not start with a digit`}},
		{"id too long", "id: org.example." + strings.Repeat("a", 250) + "\npackages: [a]\n", []string{"1:5: id: ", "must be at most 255 characters long"}},
		{"branch slash", minimal + "branch: f40/x\n", []string{`3:9: branch: "f40/x" is not a valid Flatpak branch: must not contain '/'`}},
		{"branch period", minimal + "branch: .x\n", []string{`3:9: branch: ".x" is not a valid Flatpak branch: must not start with a period`}},
		{"branch empty", minimal + "branch: ''\n", []string{`3:9: branch: "" is not a valid Flatpak branch: must not be empty`}},
		{"runtime", minimal + "runtime: org.Platform\n", []string{`3:10: runtime: "org.Platform" is not a valid Flatpak ID`}},
		{"sdk", minimal + "sdk: org.x.Sdk/x86_64\n", []string{`3:6: sdk: "org.x.Sdk/x86_64" is not a valid Flatpak ID: must not contain '/'`}},
		{"runtime-name", minimal + "runtime-name: Flatpak Runtime\n", []string{`3:15: runtime-name: "Flatpak Runtime" is neither a runtime ID`}},
		{"runtime-version", minimal + "runtime-version: f40/1\n", []string{`3:18: runtime-version: "f40/1" is not a valid Flatpak branch`}},
		{"end-of-life-rebase", minimal + "end-of-life-rebase: new\n", []string{`3:21: end-of-life-rebase: "new" is not a valid Flatpak ID`}},

		// Contents.
		{"packages missing", "id: org.example.App\n", []string{`1:1: missing key "packages": the RPM packages to install into the app`}},
		{"packages from modules", "compose:\n  modules: [eog:stable]\nflatpak:\n  id: org.gnome.eog\n", []string{`4:3: missing key "packages": the RPM packages to install into the app (modules from compose: modules are not supported; list the packages instead)`}},
		{"packages empty", "id: org.example.App\npackages: []\n", []string{"2:11: packages: must list at least one RPM package"}},
		{"package shell syntax", "id: org.example.App\npackages:\n- eog\n- \"foo; rm -rf /\"\n", []string{`4:3: packages[1]: "foo; rm -rf /" is not an RPM package name`}},
		{"package version", "id: org.example.App\npackages: [\"eog >= 3\"]\n", []string{`2:12: packages[0]: "eog >= 3" is not an RPM package name`}},
		{"package name missing", "id: org.example.App\npackages:\n- platforms: {only: x86_64}\n", []string{`3:3: packages[0]: missing key "name"`}},
		{"package bad name in mapping", "id: org.example.App\npackages:\n- name: -x\n", []string{`3:9: packages[0]: "-x" is not an RPM package name`}},
		{"unknown arch", "id: org.example.App\npackages:\n- name: a\n  platforms:\n    only: [x86_64, amd64]\n", []string{`5:20: packages[0].platforms.only: unknown architecture "amd64" (known: x86_64, aarch64, ppc64le, s390x, i386, i686, armv7hl, riscv64)`}},
		{"unknown platforms key", "id: org.example.App\npackages:\n- name: a\n  platforms: {ony: x86_64}\n", []string{`4:15: packages[0].platforms: unknown key "ony"; did you mean "only"?`}},
		{"allow-outside-app", minimal + "allow-outside-app: [\"a b\"]\n", []string{`3:21: allow-outside-app[0]: "a b" is not an RPM package name`}},

		// finish-args.
		{"finish-args unterminated quote", minimal + "finish-args: |-\n  --share=ipc\n  --env=A='b\n", []string{"5:11: finish-args: unterminated single quote (')"}},
		{"finish-args unknown option in string", minimal + "finish-args: |-\n  --share=ipc\n  # comment\n  --socket=x12\n", []string{"6:3: finish-args: ", "x12"}},
		{"finish-args unknown option in list", minimal + "finish-args:\n- --share=ipc\n- --socket=x12\n", []string{"5:3: finish-args: ", "x12"}},
		{"finish-args folded", minimal + "finish-args: >-\n    --share=ipc\n    --frobnicate\n", []string{"5:5: finish-args: ", "frobnicate"}},

		// Exports and values written to keyfiles.
		{"rename-desktop-file slash", minimal + "rename-desktop-file: ../eog.desktop\n", []string{`3:22: rename-desktop-file: "../eog.desktop" must be a plain file name, without '/'`}},
		{"rename-icon dotdot", minimal + "rename-icon: ..\n", []string{`3:14: rename-icon: ".." must be a file name, not . or ..`}},
		{"rename-appdata-file newline", minimal + "rename-appdata-file: \"a\\nb\"\n", []string{`3:22: rename-appdata-file: "a\nb" must not contain newlines`}},
		{"command newline", minimal + "command: |\n  eog\n  x\n", []string{"3:10: command: must be one line"}},
		{"tag newline", minimal + "tags: [\"a\\nb\"]\n", []string{"3:8: tags[0]: must be one line"}},
		{"tag semicolon", minimal + "tags: [a;b]\n", []string{`3:8: tags[0]: "a;b" must not contain ';'`}},
		{"desktop prefix NUL", minimal + "desktop-file-name-prefix: \"a\\0\"\n", []string{"3:27: desktop-file-name-prefix: must be one line"}},
		{"end-of-life newline", minimal + "end-of-life: \"a\\rb\"\n", []string{"3:14: end-of-life: must be one line"}},
		{"label key space", minimal + "labels:\n  \"a b\": c\n", []string{`4:3: labels: key "a b" must not be empty or contain spaces`}},
		{"label the frontend writes", minimal + "labels:\n  vendor: me\n  org.flatpak.ref: app/org.example.Other/x86_64/stable\n", []string{`5:3: labels: "org.flatpak.ref": the frontend writes this label from what it builds`}},
		{"label of the frontend's own", minimal + "labels:\n  org.flatpak-frontend.rpms: none\n", []string{`4:3: labels: "org.flatpak-frontend.rpms": the frontend writes this label`}},
		{"label key empty", minimal + "labels:\n  \"\": c\n", []string{`4:3: labels: key "" must not be empty`}},
		{"label value newline", minimal + "labels:\n  a: \"b\\nc\"\n", []string{`4:6: labels.a: must be one line`}},
		{"runtime-image space", minimal + "runtime-image: a b\n", []string{`3:16: runtime-image: "a b" is not an image reference`}},
		{"extension ID", minimal + "add-extensions:\n  plugins:\n    directory: lib/plugins\n", []string{`4:3: add-extensions: "plugins" is not a valid extension ID`}},
		{"extension directory missing", minimal + "add-extensions:\n  org.example.App.Ext:\n    version: '1'\n", []string{`5:5: add-extensions["org.example.App.Ext"]: missing key "directory"`}},
		{"extension directory absolute", minimal + "add-extensions:\n  org.example.App.Ext:\n    directory: /usr/lib\n", []string{`5:16: add-extensions["org.example.App.Ext"].directory: "/usr/lib" must be a relative path`}},
		{"extension directory dotdot", minimal + "add-extensions:\n  org.example.App.Ext:\n    directory: a/../../b\n", []string{`5:16: add-extensions["org.example.App.Ext"].directory: "a/../../b" must not contain '..'`}},
		{"extension version", minimal + "add-extensions:\n  org.example.App.Ext: {directory: x, version: a/b}\n", []string{`4:48: add-extensions["org.example.App.Ext"].version: "a/b" is not a valid Flatpak branch`}},
		{"extension versions", minimal + "add-extensions:\n  org.example.App.Ext: {directory: x, versions: \"1;a b\"}\n", []string{`4:49: add-extensions["org.example.App.Ext"].versions: "a b" is not a valid Flatpak branch`}},

		// Installation.
		{"installer", minimal + "installer: yum\n", []string{`3:12: installer: "yum" is not a known installer (known: auto, microdnf, dnf5, dnf)`}},
		{"releasever slash", minimal + "releasever: /\n", []string{`3:13: releasever: "/" is not a release version (like 41, rawhide or 10.1`}},
		{"releasever space", minimal + "releasever: 41 --nogpgcheck\n", []string{`3:13: releasever: "41 --nogpgcheck" is not a release version`}},
		{"releasever empty", minimal + "releasever: ''\n", []string{`3:13: releasever: "" is not a release version`}},
		{"repo name", minimal + "repos:\n- {name: \"my repo\", path: r}\n", []string{`4:10: repos[0].name: "my repo" is not a repository id`}},
		{"repo name missing", minimal + "repos:\n- {path: r}\n", []string{`4:3: repos[0]: missing key "name"`}},
		{"repo name duplicate", minimal + "repos:\n- {name: r, path: a}\n- {name: r, path: b}\n", []string{`5:10: repos[1].name: repository "r" is already defined by repos[0]`}},
		{"repo both", minimal + "repos:\n- {name: r, path: a, baseurl: 'https://x/'}\n", []string{"4:19: repos[0]: give one of baseurl, metalink, mirrorlist and path, not baseurl and path"}},
		{"repo metalink and baseurl", minimal + "repos:\n- {name: r, baseurl: 'https://x/', metalink: 'https://m/'}\n", []string{"4:46: repos[0]: give one of baseurl, metalink, mirrorlist and path, not baseurl and metalink"}},
		{"repo metalink scheme", minimal + "repos:\n- {name: r, metalink: 'file:///m.xml'}\n", []string{`4:23: repos[0].metalink: "file:///m.xml" must be an http or https URL`}},
		{"repo mirrorlist", minimal + "repos:\n- {name: r, mirrorlist: 'https://m/ list'}\n", []string{`4:25: repos[0].mirrorlist: "https://m/ list" must not contain spaces`}},
		{"dnf variable as a build argument", minimal + "repos:\n- {name: r, baseurl: 'https://x/${basearch}/'}\n", []string{"4:33: repos[0].baseurl: ${basearch} is a build argument here, and none is declared; for dnf's variable write $basearch, or $${basearch}"}},
		{"repo neither", minimal + "repos:\n- {name: r}\n", []string{`4:3: repos[0]: missing key "baseurl" (a URL) or "path"`}},
		{"repo baseurl scheme", minimal + "repos:\n- {name: r, baseurl: 'ftp://x/'}\n", []string{`4:22: repos[0].baseurl: "ftp://x/" has scheme "ftp"; use https, http or file`}},
		{"repo baseurl no scheme", minimal + "repos:\n- {name: r, baseurl: rpms}\n", []string{`4:22: repos[0].baseurl: "rpms" is not a URL: it needs a scheme`}},
		{"repo path absolute", minimal + "repos:\n- {name: r, path: /srv/repo}\n", []string{`4:19: repos[0].path: "/srv/repo" must be relative to the build context`}},
		{"repo path escapes", minimal + "repos:\n- {name: r, path: a/../../b}\n", []string{`4:19: repos[0].path: "a/../../b" leaves the build context`}},
		{"repo path unclean", minimal + "repos:\n- {name: r, path: ./a//b}\n", []string{`4:19: repos[0].path: "./a//b" is not clean; write "a/b"`}},
		{"repo context", minimal + "repos:\n- {name: r, path: a, context: \"my ctx\"}\n", []string{`4:31: repos[0].context: "my ctx" is not a build context name`}},
		{"repo context without path", minimal + "repos:\n- {name: r, baseurl: 'https://x/', context: c}\n", []string{`4:45: repos[0].context: context names the build context that holds path`}},
		{"repo secret", minimal + "repos:\n- {name: r, path: a, secret: \"a/b\"}\n", []string{`4:30: repos[0].secret: "a/b" is not a secret id`}},
		{"repo gpgkey", minimal + "repos:\n- {name: r, path: a, gpgkey: /etc/key}\n", []string{`4:30: repos[0].gpgkey: "/etc/key" is not a URL`}},
		{"repo gpgkeys", minimal + "repos:\n- name: r\n  path: a\n  gpgkey: https://x/k1 ftp://x/k2\n- {name: s, path: a, gpgkey: [file:///k, 'https://x/k 2']}\n- {name: t, path: a, gpgkey: ''}\n- {name: u, path: a, gpgkey: ['https://x/a,b']}\n",
			[]string{`6:24: repos[0].gpgkey[1]: "ftp://x/k2" has scheme "ftp"`, `7:42: repos[1].gpgkey[1]: "https://x/k 2" must not contain spaces`, `8:30: repos[2].gpgkey: no URL given`, `9:30: repos[3].gpgkey: "https://x/a,b" must not contain ','`}},
		{"repo includepkgs", minimal + "repos:\n- {name: r, path: a, includepkgs: [\"a;b\"]}\n", []string{`4:36: repos[0].includepkgs[0]: "a;b" is not a package name or glob`}},

		// Build arguments.
		{"undeclared arg", minimal + "command: ${CMD}\n", []string{"3:10: command: build argument CMD is not declared; add it under args"}},
		{"undeclared arg suggestion", minimal + "args: {COMMAND: x}\ncommand: run-${COMAND}\n", []string{"4:14: command: build argument COMAND is not declared", "did you mean COMMAND?"}},
		{"bad substitution", minimal + "command: ${A:?x}\nargs: {A: b}\n", []string{"3:10: command: bad substitution ${A:?x}: only :- and :+ are supported"}},
		{"bad substitution name", minimal + "command: x${}\n", []string{"3:11: command: bad substitution ${}"}},
		{"unterminated substitution", minimal + "command: x${A\n", []string{"3:11: command: unterminated ${"}},
		{"bad arg name", minimal + "args: {1A: x}\n", []string{`3:8: args: build argument name "1A" must be letters`}},
		{"arg in finish-args string", minimal + "finish-args: --share=ipc --env=A=${B}\n", []string{"3:26: finish-args[1]: build argument B is not declared"}},
		{"arg in package", "id: org.example.App\npackages: [\"${P}\"]\n", []string{"2:13: packages[0]: build argument P is not declared"}},

		// Everything at once, sorted by position.
		{"all errors sorted", "packages: [\"a b\"]\nid: x\ncomand: y\n", []string{
			`1:12: packages[0]: "a b" is not an RPM package name`,
			`2:5: id: "x" is not a valid Flatpak ID`,
			`3:1: unknown key "comand"; did you mean "command"?`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := spec.Parse("f.yaml", []byte(tt.src), spec.Options{})
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if s != nil {
				t.Errorf("Parse returned a spec with an error")
			}
			var errs spec.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want spec.Errors", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if strings.Contains(tt.want[0], ": ") && isPos(tt.want[0]) && len(tt.want) > 1 && isPos(tt.want[1]) {
				// Several positioned errors: each in order.
				if len(lines) < len(tt.want) {
					t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(tt.want), err)
				}
				for i, w := range tt.want {
					if !strings.HasPrefix(lines[i], "f.yaml:"+w) && !strings.Contains(lines[i], w) {
						t.Errorf("error %d:\n got %s\nwant f.yaml:%s", i, lines[i], w)
					}
				}
				return
			}
			// One error: the first substring is its position and message
			// start; the others appear in it.
			first := lines[0]
			for _, l := range lines {
				if isPos(tt.want[0]) && strings.HasPrefix(l, "f.yaml:"+posOf(tt.want[0])) {
					first = l
					break
				}
			}
			if isPos(tt.want[0]) {
				if !strings.HasPrefix(first, "f.yaml:"+tt.want[0]) {
					t.Errorf("got\n%v\nwant a line starting f.yaml:%s", err, tt.want[0])
				}
			} else if !strings.Contains(first, tt.want[0]) {
				t.Errorf("got\n%v\nwant %q", err, tt.want[0])
			}
			for _, w := range tt.want[1:] {
				if !strings.Contains(first, w) {
					t.Errorf("got\n%v\nwant it to contain %q", first, w)
				}
			}
			for _, e := range errs {
				if e.Filename != "f.yaml" || e.Range.Start.Line < 1 || e.Range.Start.Column < 1 {
					t.Errorf("bad position in %v", e)
				}
			}
		})
	}
}

// isPos reports whether s starts with LINE:COL.
func isPos(s string) bool {
	var l, c int
	n, _ := fmt.Sscanf(s, "%d:%d:", &l, &c)
	return n == 2
}

func posOf(s string) string {
	i := strings.Index(s, ": ")
	return s[:i+2]
}

// aliasBomb is a "billion laughs" document.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	return b.String()
}

func TestBuildArgs(t *testing.T) {
	src := `args:
  FEDORA: f40
  CHANNEL:
  SUFFIX: -beta
id: org.example.App${SUFFIX:+Beta}
branch: ${CHANNEL:-stable}
runtime-name: flatpak-runtime
runtime-version: ${FEDORA}
packages: [app]
command: cost-$$5
labels: {x: "a$b"}
cleanup-commands: echo ${FEDORA}
`
	s := mustParse(t, src, spec.Options{})
	got := []string{s.ID, s.Branch, s.RuntimeVersion, s.Command, s.Labels["x"], s.CleanupCommands, s.DefaultRuntimeImage()}
	want := []string{"org.example.AppBeta", "stable", "f40", "cost-$5", "a$b", "echo ${FEDORA}", "registry.fedoraproject.org/flatpak-runtime:f40"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %q\nwant %q", got, want)
	}

	opts := spec.Options{BuildArgs: map[string]string{"FEDORA": "f41", "CHANNEL": "beta", "SUFFIX": "", "OTHER": "x"}}
	s = mustParse(t, src, opts)
	got = []string{s.ID, s.Branch, s.RuntimeVersion, s.Args["FEDORA"]}
	want = []string{"org.example.App", "beta", "f41", "f41"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("overridden:\n got %q\nwant %q", got, want)
	}
	if u := s.UndeclaredBuildArgs(opts); !reflect.DeepEqual(u, []string{"OTHER"}) {
		t.Errorf("UndeclaredBuildArgs = %q", u)
	}
}

func TestPackageNames(t *testing.T) {
	s := mustParse(t, `id: org.example.App
packages:
- a
- name: only-x86
  platforms: {only: x86_64}
- name: not-s390x
  platforms: {not: [s390x]}
- name: both
  platforms: {only: [x86_64, aarch64], not: aarch64}
`, spec.Options{})
	for arch, want := range map[string][]string{
		"x86_64":  {"a", "only-x86", "not-s390x", "both"},
		"aarch64": {"a", "not-s390x"},
		"s390x":   {"a"},
	} {
		if got := s.PackageNames(arch); !reflect.DeepEqual(got, want) {
			t.Errorf("PackageNames(%s) = %q, want %q", arch, got, want)
		}
	}
}

func TestErrorsUnwrap(t *testing.T) {
	_, err := spec.Parse("f.yaml", []byte("id: x\n"), spec.Options{})
	var e *spec.Error
	if !errors.As(err, &e) || e.Range.Start != (spec.Pos{Line: 1, Column: 1}) {
		t.Fatalf("errors.As: %v %+v", err, e)
	}
	if len(err.(spec.Errors).Unwrap()) != 2 {
		t.Errorf("Unwrap: %v", err)
	}
}

// TestFedoraFiles parses container.yaml files written like Fedora's, as
// they are.
func TestFedoraFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	want := map[string]struct {
		id, kind, image string
		packages        int
		finishArgs      int
	}{
		"eog.container.yaml":             {"org.gnome.eog", "app", "registry.fedoraproject.org/flatpak-runtime:f40", 2, 9},
		"ghex.container.yaml":            {"org.gnome.GHex", "app", "registry.fedoraproject.org/flatpak-runtime:f39", 1, 5},
		"flatpak-runtime.container.yaml": {"org.fedoraproject.Platform", "runtime", "", 49, 3},
		"ownrepo.flatpak.yaml":           {"org.example.Hello", "app", "registry.fedoraproject.org/flatpak-runtime:f40", 1, 2},
		"fedora-sdk.container.yaml":      {"org.fedoraproject.Sdk", "runtime", "", 9, 7},
		"chrome.container.yaml":          {"com.google.Chrome", "app", "registry.fedoraproject.org/flatpak-runtime:f43", 1, 7},
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(f, data, spec.Options{})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		w, ok := want[filepath.Base(f)]
		if !ok {
			t.Errorf("%s: no expectations", f)
			continue
		}
		got := fmt.Sprint(s.ID, " ", s.Kind(), " ", s.DefaultRuntimeImage(), " ", len(s.Packages), " ", len(s.FinishArgs))
		exp := fmt.Sprint(w.id, " ", w.kind, " ", w.image, " ", w.packages, " ", w.finishArgs)
		if got != exp {
			t.Errorf("%s:\n got %s\nwant %s", f, got, exp)
		}
		// Every finish-arg has its own position on its own line.
		for i, a := range s.FinishArgs {
			r, ok := s.Source.Range("finish-args", i)
			if !ok {
				t.Errorf("%s: finish-args[%d] has no range", f, i)
				continue
			}
			line := strings.Split(string(data), "\n")[r.Start.Line-1]
			// Shell quotes are not part of the value.
			if !strings.Contains(strings.NewReplacer(`"`, "", "'", "").Replace(line), a) {
				t.Errorf("%s: finish-args[%d] %q at %s, line is %q", f, i, a, rng(r), line)
			}
		}
	}
}
