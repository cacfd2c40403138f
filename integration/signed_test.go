package integration

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

// armoredKey is the armored public part of gpgKey's key fpr in home, as
// repos publish their gpgkey.
func armoredKey(t *testing.T, home, fpr string) []byte {
	t.Helper()
	out, err := exec.Command("gpg", "--batch", "--homedir", home, "--armor", "--export", fpr).Output()
	if err != nil || len(out) == 0 {
		t.Fatalf("gpg --armor --export: %v", err)
	}
	return out
}

// signRPMs signs every RPM in dir with home's key fpr, as a distribution's
// build system does.
func signRPMs(t *testing.T, dir, home, fpr string) {
	t.Helper()
	rpms, _ := filepath.Glob(filepath.Join(dir, "*.rpm"))
	args := append([]string{"--define", "__gpg /usr/bin/gpg", "--define", "_gpg_path " + home, "--define", "_gpg_name " + fpr,
		"--define", "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''", "--addsign"}, rpms...)
	if out, err := exec.Command("rpmsign", args...).CombinedOutput(); err != nil {
		t.Fatalf("rpmsign: %v\n%s", err, out)
	}
}

// TestSignedPackagesAreChecked: a distribution's repos are signed
// (gpgcheck and a gpgkey). Packages signed with the repo's key install,
// with dnf, and with dnf5 on a runtime that has no GnuPG (the step imports
// the keys with rpm), and the key is not listed as one of the app's
// packages; a package signed with another key, or not at all, fails the
// build saying so. A repo may list several keys (the old and the new,
// after a rotation). A repo with a secret (whose packages are downloaded,
// then installed from the files) checks them too, also beside a repo
// with gpgcheck off.
func TestSignedPackagesAreChecked(t *testing.T) {
	home, fpr, _ := gpgKey(t, "packager")
	otherHome, otherFpr, _ := gpgKey(t, "someone-else")
	public := armoredKey(t, home, fpr)

	signed, unsigned, wrong, extra := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	for dir, names := range map[string][]string{signed: {"hello", "hello-data"}, unsigned: {"hello", "hello-data"}, wrong: {"hello", "hello-data"}, extra: {"hello-extra"}} {
		for _, name := range names {
			rpm := harness.RPMFile(t, name)
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(rpm)), mustRead(t, rpm), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	signRPMs(t, signed, home, fpr)
	signRPMs(t, wrong, otherHome, otherFpr)
	// The key's URL names the architecture, as repo files' do.
	keys := t.TempDir()
	if err := os.MkdirAll(filepath.Join(keys, "x86_64"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keys, "x86_64", "RPM-GPG-KEY-example"), public, 0o644); err != nil {
		t.Fatal(err)
	}
	// A repo whose key was rotated lists the old and the new.
	if err := os.WriteFile(filepath.Join(keys, "x86_64", "RPM-GPG-KEY-old"), armoredKey(t, otherHome, otherFpr), 0o644); err != nil {
		t.Fatal(err)
	}
	const user, password = "packager", "pw-5d1e"
	mux := http.NewServeMux()
	for name, dir := range map[string]string{"signed": signed, "unsigned": unsigned, "wrong": wrong, "extra": extra, "keys": keys} {
		createRepo(t, dir)
		files := http.FileServer(http.Dir(dir))
		mux.Handle("/"+name+"/", http.StripPrefix("/"+name, files))
		// The same behind a login, for a repo with a secret.
		mux.Handle("/auth/"+name+"/", http.StripPrefix("/auth/"+name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			files.ServeHTTP(w, r)
		})))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	spec := func(installer, repo, extra string) string {
		s := "id: org.example.Hello\nruntime-name: org.example.Platform\nruntime-version: \"1\"\ncommand: hello\npackages: [hello]\n"
		if installer == "dnf5" {
			s += "installer: dnf5\n"
		}
		// A repo id of its own: no other build cached its metadata.
		id := strings.ReplaceAll(repo, "/", "-") + "-" + installer + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		return s + "repos:\n  - name: " + id + "\n    baseurl: http://" + addr + "/" + repo + "/\n    gpgkey: http://" + addr + "/keys/$basearch/RPM-GPG-KEY-example\n" + extra
	}
	refused := map[string]map[string]string{
		"dnf": {
			"unsigned": "-1.0-1.noarch is not signed, and the repos check signatures (gpgcheck: repo unsigned-dnf-",
			"wrong":    "-1.0-1.noarch is signed with a key that no repo's gpgkey holds (repo wrong-dnf-",
		},
		"dnf5": {
			"unsigned": "-1.0-1.noarch from repo unsigned-dnf5-",
			"wrong":    "a package is signed with a key that no repo's gpgkey holds (repo wrong-dnf5-",
		},
	}
	for _, installer := range []string{"dnf", "dnf5"} {
		t.Run(installer, func(t *testing.T) {
			contexts := map[string]string{}
			if installer == "dnf5" {
				// dnf5, rpm and a shell: no GnuPG.
				contexts["base"] = "oci-layout://" + harness.MinimalRuntime(t).Dir
			}
			rotated := strings.Replace(spec(installer, "signed", ""), "gpgkey: ", "gpgkey: http://"+addr+"/keys/$basearch/RPM-GPG-KEY-old, ", 1)
			res, err := build(t, buildOpts{dir: writeSpec(t, rotated), file: "flatpak.yaml", contexts: contexts})
			if err != nil {
				t.Fatalf("signed packages: %v", err)
			}
			if label := imageLabel(t, res.oci, manifest.Label); strings.Contains(label, rpmver.PubkeyName) || !strings.Contains(label, "a hello 1.0-1.noarch") {
				t.Errorf("the image's packages:\n%s", label)
			}
			for repo, want := range refused[installer] {
				_, err := build(t, buildOpts{dir: writeSpec(t, spec(installer, repo, "")), file: "flatpak.yaml", contexts: contexts})
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s packages: %v\nwant %q", repo, err, want)
				}
			}
			// A gpgkey URL that is wrong: the error says the key could
			// not be read.
			typo := strings.Replace(spec(installer, "signed", ""), "RPM-GPG-KEY-example", "RPM-GPG-KEY-exmaple", 1)
			_, err = build(t, buildOpts{dir: writeSpec(t, typo), file: "flatpak.yaml", contexts: contexts})
			if want := "the build could not read gpgkey http://" + addr + "/keys/x86_64/RPM-GPG-KEY-exmaple of repo signed-" + installer + "-"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "404 Not Found") {
				t.Errorf("a gpgkey URL with a typo: %v\nwant %q", err, want)
			}
		})
	}

	// Downloaded with the secret, then installed from the files.
	for _, installer := range []string{"dnf", "dnf5"} {
		contexts := map[string]string{}
		if installer == "dnf5" {
			contexts["base"] = "oci-layout://" + harness.MinimalRuntime(t).Dir
		}
		secret := "    secret: repocreds\n"
		if _, err := buildWithSecretContexts(t, harness.Client(t), spec(installer, "auth/signed", secret), user+":"+password, false, contexts); err != nil {
			t.Errorf("%s: signed packages from a repo with a secret: %v", installer, err)
		}
		_, err = buildWithSecretContexts(t, harness.Client(t), spec(installer, "auth/unsigned", secret), user+":"+password, false, contexts)
		if want := "-1.0-1.noarch"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "is not signed") {
			t.Errorf("%s: unsigned packages from a repo with a secret: %v\nwant %q and is not signed", installer, err, want)
		}
	}
	// One repo with the secret and gpgcheck, one without: each downloaded
	// file is checked as the repo that gave it says. With dnf5, which
	// checks nothing when it only downloads: the signed repo's packages
	// and the unchecked repo's unsigned one install; the unsigned packages
	// of a repo that checks signatures are refused, whatever repo beside
	// it has gpgcheck off.
	mixed := func(checked string) string {
		s := spec("dnf5", checked, "    secret: repocreds\n") + "  - name: unchecked\n    baseurl: http://" + addr + "/extra/\n    gpgcheck: false\n"
		return strings.Replace(s, "packages: [hello]", "packages: [hello, hello-extra]", 1)
	}
	contexts := map[string]string{"base": "oci-layout://" + harness.MinimalRuntime(t).Dir}
	res, err := buildWithSecretContexts(t, harness.Client(t), mixed("auth/signed"), user+":"+password, false, contexts)
	if err != nil {
		t.Fatalf("a signed repo with a secret beside an unchecked one: %v", err)
	}
	if label := imageLabel(t, res.oci, manifest.Label); !strings.Contains(label, "a hello 1.0-1.noarch") || !strings.Contains(label, "a hello-extra 1.0-1.noarch") {
		t.Errorf("the image's packages:\n%s", label)
	}
	if !strings.Contains(res.log, "checking the signatures of 2 downloaded packages") {
		t.Errorf("the build did not check the signed repo's two packages:\n%s", res.log)
	}
	_, err = buildWithSecretContexts(t, harness.Client(t), mixed("auth/unsigned"), user+":"+password, false, contexts)
	if want := "package hello-1.0-1.noarch from repo auth-unsigned-dnf5-"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "is not signed") || strings.Contains(err.Error(), "hello-extra") {
		t.Errorf("an unsigned repo with a secret and gpgcheck beside an unchecked one: %v\nwant %q and is not signed, and not hello-extra", err, want)
	}
}
