package install

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/repodata"
)

// A repo with a secret is read by a download step, and its packages are
// installed by the next step from the files, with no repo configured: the
// installer can no longer tell which file came from a repo that checks
// signatures. The download step records it for each file
// (recordDownloaded) and the install step checks those files' signatures
// with rpm before the installer runs (checkDownloaded).

// downloaded lists the files a download step fetched, sorted.
func downloaded() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(buildstep.DownloadDir, "*.rpm"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("the download step fetched no package")
	}
	slices.Sort(files)
	return files, nil
}

// recordDownloaded writes to the download step's report each file it
// fetched and whether its signature is to be checked. When some repos
// check signatures and others do not, a file is found in the latter's
// primary metadata by its digest (where the installer cached it, or in the
// repo's folder): a file one of them lists is not checked (its repo may
// have given it, and that repo's packages are taken unchecked); any other
// is, including those a repo whose metadata cannot be read may have given
// (which the log and a notice say).
func (s *step) recordDownloaded() error {
	files, err := downloaded()
	if err != nil {
		return err
	}
	var checking, unchecked []buildstep.Repo
	for _, r := range s.cfg.Repos {
		if r.GPGCheck {
			checking = append(checking, r)
		} else {
			unchecked = append(unchecked, r)
		}
	}
	recs := make([]buildstep.Downloaded, len(files))
	for i, f := range files {
		recs[i] = buildstep.Downloaded{File: filepath.Base(f), Check: len(checking) > 0}
		if len(checking) == 1 {
			recs[i].Repo = checking[0].ID
		}
	}
	if len(checking) > 0 && len(unchecked) > 0 {
		caches := []string{CacheDirs[s.cfg.Installer]}
		if s.cfg.InstallRoot != "" {
			// Where an installer that puts its cache in the install
			// root despite being told otherwise would have it.
			caches = append(caches, filepath.Join(s.cfg.InstallRoot, caches[0]))
		}
		listed, complete, err := s.listedBy(caches, unchecked, files)
		if err != nil {
			return err
		}
		for i := range recs {
			switch {
			case listed[i]:
				recs[i] = buildstep.Downloaded{File: recs[i].File}
			case !complete:
				// It may come from the repo whose metadata was not
				// read: its repo is not known.
				recs[i].Repo = ""
			}
		}
	}
	s.report.Downloaded = recs
	return nil
}

// listedBy says, for each file, whether one of repos lists it in its
// primary metadata (see repoMetadata for caches), matched by the file's
// digest, and whether every repo's metadata was read. A repo whose
// metadata cannot be read lists nothing.
func (s *step) listedBy(caches []string, repos []buildstep.Repo, files []string) (listed []bool, complete bool, err error) {
	listed, complete = make([]bool, len(files)), true
	// digests[type][hex] is the index of the file with that digest,
	// computed for a type when a repo first uses it.
	digests := map[string]map[string]int{}
	for _, r := range repos {
		open, err := repoMetadata(caches, r)
		if err == nil {
			err = repodata.Checksums(open, func(kind, sum string) error {
				byDigest, ok := digests[kind]
				if !ok {
					var err error
					if byDigest, err = fileDigests(files, kind); err != nil {
						return err
					}
					digests[kind] = byDigest
				}
				if i, ok := byDigest[sum]; ok {
					listed[i] = true
				}
				return nil
			})
		}
		var unreadable *digestError
		if errors.As(err, &unreadable) {
			return nil, false, err
		}
		if err != nil {
			complete = false
			fmt.Fprintf(s.out, "flatpak-frontend: repo %s: its metadata cannot be read to tell which downloaded packages it gave (%v): their signatures are checked\n", r.ID, err)
			s.report.Notices = append(s.report.Notices, fmt.Sprintf("repos: repo %s has gpgcheck off, but its metadata could not be read after the download (%v): the packages it gave have their signatures checked", r.ID, err))
		}
	}
	return listed, complete, nil
}

// repoMetadata opens the files of repo r's metadata: in its folder for a
// repo from a build context or a file:// URL, else where the installer
// cached them in one of its cache folders (CACHE/ID-HASH/, or
// CACHE/metadata/ID-HASH/ for microdnf's libdnf), the newest when there
// are several (a repo id whose URL changed between builds).
func repoMetadata(caches []string, r buildstep.Repo) (repodata.Opener, error) {
	dir := r.Dir
	if dir == "" {
		var parents []string
		for _, c := range caches {
			parents = append(parents, c, filepath.Join(c, "metadata"))
		}
		var newest os.FileInfo
		for _, parent := range parents {
			matches, _ := filepath.Glob(filepath.Join(parent, globEscape(r.ID)+"-*"))
			for _, m := range matches {
				if !isHex(strings.TrimPrefix(filepath.Base(m), r.ID+"-")) {
					// Another repo's, whose id starts with this one's.
					continue
				}
				fi, err := os.Stat(filepath.Join(m, filepath.FromSlash(repodata.RepomdFile)))
				if err == nil && (newest == nil || fi.ModTime().After(newest.ModTime())) {
					dir, newest = m, fi
				}
			}
		}
		if dir == "" {
			return nil, fmt.Errorf("no %s in %s", repodata.RepomdFile, strings.Join(caches, " or "))
		}
	}
	return func(rel string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	}, nil
}

func isHex(s string) bool { return s != "" && strings.Trim(s, "0123456789abcdef") == "" }

// digestError is a downloaded file that cannot be read: the step fails.
type digestError struct{ err error }

func (e *digestError) Error() string { return e.err.Error() }
func (e *digestError) Unwrap() error { return e.err }

// digestKinds are the digests primary metadata gives, by createrepo_c's
// names ("sha" is sha1 in old repos).
var digestKinds = map[string]func() hash.Hash{
	"md5": md5.New, "sha": sha1.New, "sha1": sha1.New, "sha224": sha256.New224,
	"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
}

// fileDigests is each file's digest of the kind named, in hex, to its
// index; empty for a kind not known (no file then matches).
func fileDigests(files []string, kind string) (map[string]int, error) {
	newHash, ok := digestKinds[kind]
	out := map[string]int{}
	if !ok {
		return out, nil
	}
	for i, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, &digestError{err}
		}
		h := newHash()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, &digestError{fmt.Errorf("read %s: %w", name, err)}
		}
		out[hex.EncodeToString(h.Sum(nil))] = i
	}
	return out, nil
}

// readDownloadReport reads the report the download step before this one
// wrote. Its failure (reported there only when diagnosing) is returned as
// this step's, with its installer log.
func readDownloadReport(out string) (*buildstep.InstallReport, error) {
	dir := filepath.Join(buildstep.DownloadDir, buildstep.ReportDir)
	dt, err := os.ReadFile(filepath.Join(dir, buildstep.InstallReportFile))
	if err != nil {
		return nil, fmt.Errorf("the download step's report: %w", err)
	}
	rep, err := buildstep.ParseInstallReport(dt)
	if err != nil {
		return nil, fmt.Errorf("the download step's report: %w", err)
	}
	if rep.Failure != nil {
		if log, err := os.ReadFile(filepath.Join(dir, buildstep.InstallerLogFile)); err == nil {
			os.WriteFile(filepath.Join(out, buildstep.InstallerLogFile), log, 0o644)
		}
		return nil, rep.Failure
	}
	return rep, nil
}

// checkDownloaded checks, with rpm and the keys imported into the root's
// database, the signatures of the downloaded files the download step
// marked (and of any it did not list): rpm -K, with a signature required.
// The installer then installs the files with no check of its own.
func (s *step) checkDownloaded(ctx context.Context, files []string, recs []buildstep.Downloaded) error {
	byFile := map[string]buildstep.Downloaded{}
	for _, r := range recs {
		byFile[r.File] = r
	}
	var check []string
	for _, f := range files {
		if r, ok := byFile[filepath.Base(f)]; !ok || r.Check {
			check = append(check, f)
		}
	}
	if len(check) == 0 {
		return nil
	}
	fmt.Fprintf(s.out, "flatpak-frontend: checking the signatures of %d downloaded package%s\n", len(check), map[bool]string{true: "s"}[len(check) > 1])
	args := append([]string{"-Kv", "--define", "_pkgverify_level signature"}, check...)
	out, err := s.rpm.command(ctx, args...).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return fmt.Errorf("cannot run rpm -K: %w", err)
	}
	var bad []buildstep.Unverified
	for _, f := range check {
		reason := signatureProblem(out, f)
		if reason == "" {
			continue
		}
		bad = append(bad, buildstep.Unverified{Package: strings.TrimSuffix(filepath.Base(f), ".rpm"), Repo: byFile[filepath.Base(f)].Repo, Reason: reason})
	}
	if len(bad) == 0 {
		if err != nil {
			return fmt.Errorf("rpm -K failed: %s", strings.TrimSpace(string(out)))
		}
		return nil
	}
	return &buildstep.Failure{Status: -1, Unverified: bad, Keys: s.keyProblems,
		Message: fmt.Sprintf("rpm -K refused the signatures of %d downloaded package%s", len(bad), map[bool]string{true: "s"}[len(bad) > 1])}
}

// checkLine is a line of rpm -Kv: a check and its result, maybe followed
// by more ("Header V4 RSA/SHA256 Signature, key ID 1a2b3c4d: OK", "RSA
// signature: NOTFOUND", "Payload SHA256 digest: BAD (Expected ...)"; rpm
// 4.x and 6 word them alike).
var checkLine = regexp.MustCompile(`^\s+(.+?):\s+([A-Z]+)(?:\s.*)?$`)

// signatureProblem reads rpm -Kv's verdict on file out of its output
// ("FILE:" then its checks, indented): "" when a signature checked OK and
// no check failed, else buildstep.UnverifiedUnsigned (no signature),
// UnverifiedNoKey (signed with a key the database does not hold), or
// rpm's words. A check rpm did not find (NOTFOUND: a signature or digest
// the package does not carry) is no failure; a package must carry one
// signature that checks OK.
func signatureProblem(out []byte, file string) string {
	var lines, about []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == file+":":
			in = true
		case in && strings.HasPrefix(l, " "):
			lines = append(lines, l)
		default:
			in = false
			if strings.Contains(l, file) {
				about = append(about, strings.TrimSpace(l))
			}
		}
	}
	if len(lines) == 0 {
		if len(about) == 0 {
			return "rpm -K said nothing of it"
		}
		return "rpm -K did not check it: " + strings.Join(about, "; ")
	}
	signed, nokey := false, false
	var failed []string
	for _, l := range lines {
		m := checkLine.FindStringSubmatch(l)
		if m == nil {
			failed = append(failed, strings.TrimSpace(l))
			continue
		}
		switch m[2] {
		case "OK":
			signed = signed || strings.Contains(strings.ToLower(m[1]), "signature")
		case "NOTFOUND":
		case "NOKEY":
			nokey = true
		default:
			failed = append(failed, strings.TrimSpace(l))
		}
	}
	switch {
	case len(failed) > 0:
		return strings.Join(failed, "; ")
	case nokey:
		return buildstep.UnverifiedNoKey
	case !signed:
		return buildstep.UnverifiedUnsigned
	}
	return ""
}
