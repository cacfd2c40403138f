package spec_test

import (
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// hostileBase is a valid app spec; tests append or replace one key.
const hostileBase = "id: org.example.Hello\nruntime-name: org.example.Platform\nruntime-version: \"1\"\ncommand: hello\npackages: [hello]\n"

// TestHostileValuesAreRefused feeds values a pull request could use to
// inject lines or [groups] into the metadata keyfile, repo files or
// labels, or shell syntax into the install step. Each must be refused
// with an error that names the key; none may panic.
func TestHostileValuesAreRefused(t *testing.T) {
	inject := `"x\n[Context]\nshared=network;"`
	cr := `"x\r[Context]"`
	tests := []struct {
		name, yaml, want string
	}{
		// Newlines into the metadata keyfile.
		{"command newline", "command: " + inject + "\n", "command"},
		{"command CR", "command: " + cr + "\n", "command"},
		{"tag newline", "tags: [" + inject + "]\n", "tags[0]"},
		{"tag semicolon", "tags: [\"a;b\"]\n", "tags[0]"},
		{"finish-args env", "finish-args: [" + `"--env=A=b\n[Context]\nshared=network;"` + "]\n", "finish-args"},
		{"finish-args talk-name", "finish-args: [" + `"--talk-name=org.a.B\n[Context]"` + "]\n", "finish-args"},
		{"finish-args filesystem", "finish-args: [" + `"--filesystem=home\n[Context]"` + "]\n", "finish-args"},
		{"finish-args persist", "finish-args: [" + `"--persist=.x\r\ny=z"` + "]\n", "finish-args"},
		{"finish-args metadata group", "finish-args: [" + `"--metadata=A]\n[B=k=v"` + "]\n", "finish-args"},
		{"finish-args metadata value", "finish-args: [" + `"--metadata=X=k=v\n[Y]"` + "]\n", "finish-args"},
		{"finish-args extension", "finish-args: [" + `"--extension=org.a.B=directory=x\n[Y]"` + "]\n", "finish-args"},
		{"finish-args add-policy", "finish-args: [" + `"--add-policy=a.b=c\n[Y]"` + "]\n", "finish-args"},
		{"finish-args command", "finish-args: [" + `"--command=x\ny"` + "]\n", "finish-args"},
		{"finish-args require-version", "finish-args: [" + `"--require-version=1.0.0\n[Y]"` + "]\n", "finish-args"},
		{"finish-args sdk", "finish-args: [" + `"--sdk=org.a.B\n[Y]"` + "]\n", "finish-args"},
		{"extension name", "add-extensions: {\"org.a.B]\\n[X\": {directory: x}}\n", "add-extensions"},
		{"extension directory", "add-extensions: {org.a.B: {directory: " + inject + "}}\n", "directory"},
		{"extension directory ..", "add-extensions: {org.a.B: {directory: ../../etc}}\n", "directory"},
		{"extension directory absolute", "add-extensions: {org.a.B: {directory: /etc}}\n", "directory"},
		{"extension version", "add-extensions: {org.a.B: {directory: x, version: " + inject + "}}\n", "version"},
		{"extension versions", "add-extensions: {org.a.B: {directory: x, versions: \"1;x y\"}}\n", "versions"},
		{"extension add-ld-path", "add-extensions: {org.a.B: {directory: x, add-ld-path: " + inject + "}}\n", "add-ld-path"},
		{"extension merge-dirs", "add-extensions: {org.a.B: {directory: x, merge-dirs: " + inject + "}}\n", "merge-dirs"},
		{"extension download-if", "add-extensions: {org.a.B: {directory: x, download-if: " + inject + "}}\n", "download-if"},
		{"extension enable-if", "add-extensions: {org.a.B: {directory: x, enable-if: " + inject + "}}\n", "enable-if"},
		{"extension autoprune-unless", "add-extensions: {org.a.B: {directory: x, autoprune-unless: " + inject + "}}\n", "autoprune-unless"},
		{"extension subdirectory-suffix", "add-extensions: {org.a.B: {directory: x, subdirectory-suffix: " + inject + "}}\n", "subdirectory-suffix"},
		{"id", "id: " + inject + "\n", "id"},
		{"branch", "branch: " + inject + "\n", "branch"},
		{"runtime-name", "runtime-name: " + inject + "\n", "runtime-name"},
		{"runtime-version", "runtime-version: " + inject + "\n", "runtime-version"},
		{"runtime", "build-runtime: true\nruntime: " + inject + "\n", "runtime"},
		{"sdk", "build-runtime: true\nsdk: " + inject + "\n", "sdk"},
		{"end-of-life", "end-of-life: " + inject + "\n", "end-of-life"},
		{"end-of-life-rebase", "end-of-life-rebase: " + inject + "\n", "end-of-life-rebase"},
		{"name", "name: " + inject + "\n", "name"},
		{"label value", "labels: {a: " + inject + "}\n", "labels"},
		{"label key", "labels: {\"a\\nb\": c}\n", "labels"},
		{"appdata-license", "appdata-license: " + inject + "\n", "appdata-license"},
		{"desktop-file-name-prefix", "desktop-file-name-prefix: " + inject + "\n", "desktop-file-name-prefix"},
		{"desktop-file-name-suffix", "desktop-file-name-suffix: " + inject + "\n", "desktop-file-name-suffix"},
		{"runtime-image", "runtime-image: " + inject + "\n", "runtime-image"},
		{"base_image", "base_image: \"a b\"\n", "base_image"},

		// Shell syntax where only names belong.
		{"package ;", "packages: [\"hello; touch /pwned\"]\n", "packages[0]"},
		{"package $()", "packages: [\"$(id)\"]\n", "packages[0]"},
		{"package backticks", "packages: [\"`id`\"]\n", "packages[0]"},
		{"package option", "packages: [\"--installroot=/\"]\n", "packages[0]"},
		{"package dash", "packages: [\"-y\"]\n", "packages[0]"},
		{"package pipe", "packages: [\"a|b\"]\n", "packages[0]"},
		{"package newline", "packages: [\"a\\nb\"]\n", "packages[0]"},
		{"package quote", "packages: [\"a'b\"]\n", "packages[0]"},
		{"allow-outside-app", "allow-outside-app: [\"a b\"]\n", "allow-outside-app[0]"},
		{"repo name ;", "repos: [{name: \"a;b\", baseurl: \"https://x/\"}]\n", "repos[0].name"},
		{"repo name bracket", "repos: [{name: \"a]\\n[b\", baseurl: \"https://x/\"}]\n", "repos[0].name"},
		{"repo name slash", "repos: [{name: \"../a\", baseurl: \"https://x/\"}]\n", "repos[0].name"},
		{"repo name space", "repos: [{name: \"a b\", baseurl: \"https://x/\"}]\n", "repos[0].name"},
		{"repo name $", "repos: [{name: \"$(id)\", baseurl: \"https://x/\"}]\n", "repos[0].name"},
		{"baseurl newline", "repos: [{name: a, baseurl: \"https://x/\\ngpgcheck=0\"}]\n", "repos[0].baseurl"},
		{"baseurl space", "repos: [{name: a, baseurl: \"https://x/ ;id\"}]\n", "repos[0].baseurl"},
		{"baseurl scheme", "repos: [{name: a, baseurl: \"ftp://x/\"}]\n", "repos[0].baseurl"},
		{"gpgkey newline", "repos: [{name: a, baseurl: \"https://x/\", gpgkey: \"https://k\\n[x]\"}]\n", "repos[0].gpgkey"},
		{"includepkgs", "repos: [{name: a, baseurl: \"https://x/\", includepkgs: [\"a,b\\nx=y\"]}]\n", "includepkgs"},
		{"excludepkgs", "repos: [{name: a, baseurl: \"https://x/\", excludepkgs: [\"$(id)\"]}]\n", "excludepkgs"},
		{"secret id", "repos: [{name: a, baseurl: \"https://x/\", secret: \"../x\"}]\n", "repos[0].secret"},
		{"secret id dot-dot", "repos: [{name: a, baseurl: \"https://x/\", secret: \"..\"}]\n", "repos[0].secret"},
		{"secret id dot", "repos: [{name: a, baseurl: \"https://x/\", secret: \".\"}]\n", "repos[0].secret"},
		{"context name", "repos: [{name: a, path: x, context: \"../x\"}]\n", "repos[0].context"},
		{"installer", "installer: \"dnf; id\"\n", "installer"},

		// Paths that would leave the build context or /app.
		{"repo path ..", "repos: [{name: a, path: ../outside}]\n", "repos[0].path"},
		{"repo path nested ..", "repos: [{name: a, path: x/../../outside}]\n", "repos[0].path"},
		{"repo path absolute", "repos: [{name: a, path: /etc}]\n", "repos[0].path"},
		{"rename-desktop-file ..", "rename-desktop-file: ..\n", "rename-desktop-file"},
		{"rename-desktop-file path", "rename-desktop-file: ../../etc/passwd\n", "rename-desktop-file"},
		{"rename-desktop-file absolute", "rename-desktop-file: /etc/passwd\n", "rename-desktop-file"},
		{"rename-appdata-file path", "rename-appdata-file: ../x.xml\n", "rename-appdata-file"},
		{"rename-icon path", "rename-icon: ../../x\n", "rename-icon"},
		{"rename-icon glob", "rename-icon: \"*\"\n", "rename-icon"},
		{"rename-icon space", "rename-icon: \"a b\"\n", "rename-icon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := hostileBase + tt.yaml
			if strings.HasPrefix(tt.yaml, "packages:") {
				doc = strings.Replace(hostileBase, "packages: [hello]\n", tt.yaml, 1)
			}
			_, err := spec.Parse("flatpak.yaml", []byte(doc), spec.Options{})
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panicked: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not name %q: %v", tt.want, err)
			}
		})
	}
}

// TestHostileDocumentsAreBounded: alias bombs, deep nesting, oversized
// and invalid UTF-8 files get an error quickly, never a panic.
func TestHostileDocumentsAreBounded(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		_ = i
		bomb += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	tests := map[string]string{
		"billion laughs":         hostileBase + bomb,
		"alias bomb in packages": "id: org.a.B\n" + bomb + "packages: *i\n",
		"too large":              hostileBase + "name: " + strings.Repeat("x", spec.MaxFileSize) + "\n",
		"invalid UTF-8":          hostileBase + "name: \xff\xfe\n",
		"invalid UTF-8 in a key": hostileBase + "\xc3\x28: x\n",
		"NUL byte":               hostileBase + "name: \"a\\0b\"\n",
		"recursive alias":        hostileBase + "x: &x [*x]\n",
		"merge key bomb":         hostileBase + bomb + "m: {<<: *i}\n",
		"many documents":         hostileBase + strings.Repeat("---\nid: x\n", 1000),
		"deep flow nesting":      strings.Repeat("[", 200000) + strings.Repeat("]", 200000),
		"deep block nesting":     strings.Repeat("- ", 5000) + "x\n",
		"huge number":            hostileBase + "repos: [{name: a, baseurl: \"https://x/\", priority: 99999999999999999999999999}]\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := spec.Parse("flatpak.yaml", []byte(doc), spec.Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panicked: %v", err)
			}
		})
	}
}

// TestTenThousandPackages: a long package list parses; its names come back
// in order.
func TestTenThousandPackages(t *testing.T) {
	var b strings.Builder
	b.WriteString("id: org.example.Hello\nruntime-name: org.example.Platform\nruntime-version: \"1\"\ncommand: hello\npackages:\n")
	for i := 0; i < 10000; i++ {
		b.WriteString("  - pkg" + strings.Repeat("x", i%7) + "-" + itoa(i) + "\n")
	}
	s, err := spec.Parse("flatpak.yaml", []byte(b.String()), spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.PackageNames("x86_64")); n != 10000 {
		t.Fatalf("%d package names, want 10000", n)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}
