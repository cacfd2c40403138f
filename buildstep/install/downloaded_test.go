package install

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

// TestSignatureProblemReadsRPMsVerdicts: rpm -Kv with a signature
// required, as rpm 4.18 and rpm 6.1 (six-*) print it for a package signed
// with a key the database holds, one signed with another, one not signed;
// and failed digests and signatures, and a file rpm could not open.
func TestSignatureProblemReadsRPMsVerdicts(t *testing.T) {
	out := []byte(`/d/good-1.0-1.noarch.rpm:
    Header V4 RSA/SHA512 Signature, key ID e1122e3e: OK
    Header SHA256 digest: OK
    Header SHA1 digest: OK
    Payload SHA256 digest: OK
    MD5 digest: OK
/d/other-1.0-1.noarch.rpm:
    Header V4 RSA/SHA512 Signature, key ID 0badc0de: NOKEY
    Header DSA signature: NOTFOUND
    Header SHA256 digest: OK
    Payload SHA256 digest: OK
/d/plain-1.0-1.noarch.rpm:
    Header RSA signature: NOTFOUND
    Header DSA signature: NOTFOUND
    Header SHA256 digest: OK
    Header SHA1 digest: OK
    Payload SHA256 digest: OK
    RSA signature: NOTFOUND
    DSA signature: NOTFOUND
    MD5 digest: OK
/d/broken-1.0-1.noarch.rpm:
    Header V4 RSA/SHA512 Signature, key ID e1122e3e: OK
    Header SHA256 digest: OK
    Payload SHA256 digest: BAD (Expected 00 != 11)
/d/forged-1.0-1.noarch.rpm:
    Header V4 RSA/SHA512 Signature, key ID e1122e3e: BAD
    Header SHA256 digest: OK
/d/six-good-1.0-1.noarch.rpm:
    Header OpenPGP V4 RSA/SHA512 signature, key fingerprint: 50cb0bdc2f0d6b0c37121a04bb4dc52ce1122e3e: OK
    Header SHA256 digest: OK
    Payload SHA256 digest: OK
/d/six-other-1.0-1.noarch.rpm:
    Header OpenPGP DSA signature: NOTFOUND
    Header OpenPGP V4 RSA/SHA512 signature, key ID bb4dc52ce1122e3e: NOKEY
    Header OpenPGP signature: NOTFOUND
    Header SHA256 digest: OK
    Payload SHA256 digest: OK
    Legacy OpenPGP DSA signature: NOTFOUND
    Legacy OpenPGP RSA signature: NOTFOUND
/d/six-plain-1.0-1.noarch.rpm:
    Header OpenPGP DSA signature: NOTFOUND
    Header OpenPGP RSA signature: NOTFOUND
    Header OpenPGP signature: NOTFOUND
    Header SHA256 digest: OK
    Payload SHA256 digest: OK
    Legacy OpenPGP DSA signature: NOTFOUND
    Legacy OpenPGP RSA signature: NOTFOUND
error: /d/gone.rpm: open failed: No such file or directory
`)
	for file, want := range map[string]string{
		"/d/good-1.0-1.noarch.rpm":      "",
		"/d/other-1.0-1.noarch.rpm":     buildstep.UnverifiedNoKey,
		"/d/plain-1.0-1.noarch.rpm":     buildstep.UnverifiedUnsigned,
		"/d/broken-1.0-1.noarch.rpm":    "Payload SHA256 digest: BAD (Expected 00 != 11)",
		"/d/forged-1.0-1.noarch.rpm":    "Header V4 RSA/SHA512 Signature, key ID e1122e3e: BAD",
		"/d/six-good-1.0-1.noarch.rpm":  "",
		"/d/six-other-1.0-1.noarch.rpm": buildstep.UnverifiedNoKey,
		"/d/six-plain-1.0-1.noarch.rpm": buildstep.UnverifiedUnsigned,
		"/d/gone.rpm":                   "rpm -K did not check it: error: /d/gone.rpm: open failed: No such file or directory",
		"/d/unnamed.rpm":                "rpm -K said nothing of it",
	} {
		if got := signatureProblem(out, file); got != want {
			t.Errorf("%s: %q, want %q", filepath.Base(file), got, want)
		}
	}
}

// TestListedByFindsDownloadedFilesInRepoMetadata: a downloaded file is
// found in a repo's primary metadata by its digest, in the repo's folder or
// in the installer's cache (the newest copy of the repo's, not another
// repo's whose id starts the same); a repo whose metadata cannot be read
// lists nothing, which a notice says.
func TestListedByFindsDownloadedFilesInRepoMetadata(t *testing.T) {
	dl := t.TempDir()
	var files []string
	sums := map[string]string{}
	for _, name := range []string{"a-1-1.noarch.rpm", "b-1-1.noarch.rpm", "c-1-1.noarch.rpm"} {
		f := filepath.Join(dl, name)
		if err := os.WriteFile(f, []byte("content of "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("content of " + name))
		files, sums[name] = append(files, f), hex.EncodeToString(sum[:])
	}
	// writeRepo writes metadata listing names into dir.
	writeRepo := func(dir string, mtime time.Time, names ...string) {
		var pkgs strings.Builder
		for _, n := range names {
			fmt.Fprintf(&pkgs, "<package type=\"rpm\"><name>%s</name><arch>noarch</arch><version epoch=\"0\" ver=\"1\" rel=\"1\"/><checksum type=\"sha256\" pkgid=\"YES\">%s</checksum><location href=\"%s\"/></package>\n", n[:1], sums[n], n)
		}
		if err := os.MkdirAll(filepath.Join(dir, "repodata"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "repodata", "p-primary.xml"), []byte("<metadata>\n"+pkgs.String()+"</metadata>\n"), 0o644)
		md := filepath.Join(dir, "repodata", "repomd.xml")
		os.WriteFile(md, []byte(`<repomd><data type="primary"><location href="repodata/p-primary.xml"/></data></repomd>`), 0o644)
		if err := os.Chtimes(md, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	folder := t.TempDir()
	writeRepo(folder, now, "a-1-1.noarch.rpm")
	cache := t.TempDir()
	writeRepo(filepath.Join(cache, "extras-0123456789abcdef"), now.Add(-time.Hour), "a-1-1.noarch.rpm")
	writeRepo(filepath.Join(cache, "extras-fedcba9876543210"), now, "b-1-1.noarch.rpm")
	writeRepo(filepath.Join(cache, "extras-more-0123456789abcdef"), now, "c-1-1.noarch.rpm")

	var log strings.Builder
	s := &step{cfg: &buildstep.InstallConfig{Installer: Dnf}, out: &log}
	check := func(name string, repos []buildstep.Repo, wantComplete bool, want ...bool) {
		t.Helper()
		listed, complete, err := s.listedBy([]string{t.TempDir(), cache}, repos, files)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(listed, want) || complete != wantComplete {
			t.Errorf("%s: listed %v (every repo read: %v), want %v (%v)", name, listed, complete, want, wantComplete)
		}
	}
	check("a repo's folder", []buildstep.Repo{{ID: "local", Dir: folder}}, true, true, false, false)
	check("the newest cache of repo extras", []buildstep.Repo{{ID: "extras"}}, true, false, true, false)
	check("two repos", []buildstep.Repo{{ID: "local", Dir: folder}, {ID: "extras-more"}}, true, true, false, true)
	if _, err := repoMetadata([]string{cache}, buildstep.Repo{ID: "extra"}); err == nil {
		t.Error("repo extra found extras' metadata")
	}
	if len(s.report.Notices) != 0 || log.Len() != 0 {
		t.Errorf("notices: %q\n%s", s.report.Notices, log.String())
	}
	check("a repo with no metadata", []buildstep.Repo{{ID: "gone"}}, false, false, false, false)
	if !strings.Contains(log.String(), "repo gone: its metadata cannot be read") || len(s.report.Notices) != 1 {
		t.Errorf("a repo with no metadata: the log\n%s\nnotices %q", log.String(), s.report.Notices)
	}
	// A downloaded file that cannot be read fails the step.
	os.Remove(files[2])
	if _, _, err := s.listedBy([]string{t.TempDir(), cache}, []buildstep.Repo{{ID: "extras"}}, files); err == nil {
		t.Error("a file that cannot be read was taken as not listed")
	}
}
