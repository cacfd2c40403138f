package install

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

// rpm runs rpm queries against a root ("" for the step's own).
type rpm struct {
	root string
}

func (r rpm) command(ctx context.Context, args ...string) *exec.Cmd {
	if r.root != "" {
		args = append([]string{"--root=" + r.root}, args...)
	}
	return exec.CommandContext(ctx, "rpm", args...)
}

// query runs rpm and returns its output, failing on any complaint: rpm can
// print an error and still exit 0.
//
// The database's headers are read without checking their digests and
// signatures (--nodigest --nosignature): the check costs more than the
// rest of the read (rpm -qa over a 1,000-package database: 0.04-0.05 s
// with it, 0.02 s without, rpm 4.18 and 6.1) and is run by every query of
// every build, while what is read is the image's own database, which rpm
// wrote and which the queries only read.
func (r rpm) query(ctx context.Context, args ...string) ([]byte, error) {
	cmd := r.command(ctx, append([]string{"--nodigest", "--nosignature"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if msg := strings.TrimSpace(stderr.String()); err != nil || msg != "" {
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("rpm %s: %s", strings.Join(args[:1], " "), msg)
	}
	return stdout.Bytes(), nil
}

// The query formats: every string field shell-quoted by rpm's shescape, so
// that any byte a name holds reads back as it was.
const (
	packageFields = `%{NAME:shescape} %{EPOCHNUM} %{VERSION:shescape} %{RELEASE:shescape} %{ARCH:shescape} %{SOURCERPM:shescape}`
	packageFormat = packageFields + `\n`
	// digestFormat is packageFormat with the header's digests: two builds
	// of one version tell apart by them.
	digestFormat = packageFields + ` %{SHA256HEADER} %{SHA1HEADER}\n`
	fileFormat   = `[%{=NAME:shescape} %{=SOURCERPM:shescape} %{FILENAMES:shescape} %{FILEMODES} %{LONGFILESIZES} %{=FILEDIGESTALGO} %{FILEDIGESTS:shescape} %{FILEFLAGS} %{FILESTATES} %{FILELINKTOS:shescape}\n]`
)

// packages lists every installed package.
func (r rpm) packages(ctx context.Context) ([]buildstep.Package, error) {
	out, err := r.query(ctx, "-qa", "--qf", packageFormat)
	if err != nil {
		return nil, err
	}
	return parsePackages(out)
}

// maxDBCopy is the largest rpm database packagesBeside copies.
const maxDBCopy = 64 << 20

// packagesBeside starts reading the installed packages while the installer
// runs: the rpm database in dbpath (rpm's %{_dbpath}, inside the root) is
// copied to dir, a folder on the step's tmpfs, before the installer can
// change it, and the copy is queried. wait returns what the database held
// when it was copied, and removes the copy; id is the digest of the
// copied files (dbDigest), what the kept install's fingerprint takes for
// the runtime's packages. It returns nil, with nothing started, when the
// database cannot be copied whole (missing or unreadable, a folder or link
// in it, more than maxDBCopy bytes, a failed copy): the caller then reads
// it before the installer starts, and rpm says what is wrong with it, if
// anything is.
//
// What the database holds before the install is needed only after it, or
// before an update of a kept install; rpm takes 0.03-0.1 s to read it, a
// copy of a few megabytes and its digest a few milliseconds.
func (r rpm) packagesBeside(ctx context.Context, dbpath, dir string) (wait func() ([]buildstep.Package, error), id string) {
	src, err := filepath.EvalSymlinks(filepath.Join("/", r.root, dbpath))
	if err != nil {
		return nil, ""
	}
	if rel, err := filepath.Rel(filepath.Join("/", r.root), src); err != nil || !filepath.IsLocal(rel) && rel != "." {
		// A link out of the root, which rpm follows inside it.
		return nil, ""
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, ""
	}
	var size int64
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			return nil, ""
		}
		if size += fi.Size(); size > maxDBCopy {
			return nil, ""
		}
	}
	if err := copyTree(ctx, src, dir); err != nil {
		os.RemoveAll(dir)
		return nil, ""
	}
	if id, err = dbDigest(dir); err != nil {
		os.RemoveAll(dir)
		return nil, ""
	}
	type result struct {
		pkgs []buildstep.Package
		err  error
	}
	done := make(chan result, 1)
	go func() {
		out, err := rpm{}.query(ctx, "--dbpath", dir, "-qa", "--qf", packageFormat)
		os.RemoveAll(dir)
		if err != nil {
			done <- result{err: err}
			return
		}
		pkgs, err := parsePackages(out)
		done <- result{pkgs, err}
	}()
	return func() ([]buildstep.Package, error) {
		r := <-done
		return r.pkgs, r.err
	}, id
}

// dbDigest is the digest of the files of an rpm database folder (their
// names, sizes and bytes, in name order): the same digest, the same
// packages. A database that holds the same packages in other bytes (one
// rebuilt) has another digest, which costs a kept install, never a wrong
// reuse.
func dbDigest(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", err
		}
		fi, err := f.Stat()
		if err == nil {
			fmt.Fprintf(h, "%q %d\n", e.Name(), fi.Size())
			_, err = io.Copy(h, f)
		}
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return "rpmdb:" + hex.EncodeToString(h.Sum(nil)), nil
}

// packagesDigest is dbDigest for a database that could not be copied:
// the digest of what it lists.
func packagesDigest(pkgs []buildstep.Package) string {
	h := sha256.New()
	for _, p := range pkgs {
		fmt.Fprintf(h, "%q\n", []string{p.NEVRA.String(), p.SourceRPM})
	}
	return "packages:" + hex.EncodeToString(h.Sum(nil))
}

// packagesAndDigests is packages, with each one's header digests (by
// NEVRA), from the same run of rpm.
func (r rpm) packagesAndDigests(ctx context.Context) ([]buildstep.Package, map[rpmver.NEVRA]string, error) {
	out, err := r.query(ctx, "-qa", "--qf", digestFormat)
	if err != nil {
		return nil, nil, err
	}
	digests := map[rpmver.NEVRA]string{}
	pkgs, err := parseRecords(out, 8, func(p buildstep.Package, f []string) { digests[p.NEVRA] = f[6] + " " + f[7] })
	return pkgs, digests, err
}

func parsePackages(out []byte) ([]buildstep.Package, error) {
	return parseRecords(out, 6, nil)
}

// parseRecords parses the output of a query whose format starts as
// packageFormat does and has fields fields in all, calling more (if not
// nil) with each package and its record.
func parseRecords(out []byte, fields int, more func(buildstep.Package, []string)) ([]buildstep.Package, error) {
	recs, err := splitRecords(out)
	if err != nil {
		return nil, fmt.Errorf("rpm -qa: %w", err)
	}
	var pkgs []buildstep.Package
	for _, f := range recs {
		if len(f) != fields {
			return nil, fmt.Errorf("rpm -qa: a line with %d fields: %q", len(f), f)
		}
		epoch, err := strconv.Atoi(f[1])
		if err != nil || epoch < 0 {
			return nil, fmt.Errorf("rpm -qa: package %s has epoch %q", f[0], f[1])
		}
		if f[0] == rpmver.PubkeyName {
			continue
		}
		p := buildstep.Package{NEVRA: rpmver.NEVRA{Name: f[0], Epoch: epoch, Version: f[2], Release: f[3], Arch: f[4]}, SourceRPM: none(f[5])}
		if more != nil {
			more(p, f)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// files lists the files of the named packages (installed ones only).
func (r rpm) files(ctx context.Context, names []string) ([]buildstep.PackagedFile, error) {
	var out []buildstep.PackagedFile
	err := r.queryEach(ctx, names, fileFormat, func(f []string) error {
		pf, err := parseFile(f)
		if err != nil {
			return err
		}
		out = append(out, pf)
		return nil
	})
	return out, err
}

// queryEach runs rpm -q --qf format on the named packages and calls each
// with every record, in batches that keep the argument list short
// whatever the count.
func (r rpm) queryEach(ctx context.Context, names []string, format string, each func([]string) error) error {
	for len(names) > 0 {
		n := min(len(names), 500)
		batch := names[:n]
		names = names[n:]
		dt, err := r.query(ctx, append([]string{"-q", "--qf", format, "--"}, batch...)...)
		if err != nil {
			return err
		}
		recs, err := splitRecords(dt)
		if err != nil {
			return fmt.Errorf("rpm -q: %w", err)
		}
		for _, f := range recs {
			if err := each(f); err != nil {
				return fmt.Errorf("rpm -q: %w", err)
			}
		}
	}
	return nil
}

func parseFile(f []string) (buildstep.PackagedFile, error) {
	if len(f) != 10 {
		return buildstep.PackagedFile{}, fmt.Errorf("a file line with %d fields: %q", len(f), f)
	}
	mode, err1 := strconv.ParseUint(f[3], 10, 32)
	size, err2 := strconv.ParseInt(f[4], 10, 64)
	algo := 1 // MD5, what packages without the tag use
	var err3 error
	if f[5] != "(none)" {
		algo, err3 = strconv.Atoi(f[5])
	}
	flags, err4 := strconv.ParseUint(f[7], 10, 32)
	state, err5 := strconv.Atoi(f[8])
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return buildstep.PackagedFile{}, fmt.Errorf("file %q of %s: %w", f[2], f[0], err)
		}
	}
	return buildstep.PackagedFile{Package: f[0], SourceRPM: none(f[1]), Path: f[2], Mode: uint32(mode), Size: size,
		DigestAlgo: algo, Digest: f[6], Flags: uint32(flags), State: state, LinkTo: f[9]}, nil
}

// none is "" for rpm's "(none)", printed for a tag a package lacks.
func none(s string) string {
	if s == "(none)" {
		return ""
	}
	return s
}

// splitRecords splits rpm's output into lines of words, as a POSIX shell
// would: words are separated by spaces, a line ends at a newline outside
// quotes, '...' quotes anything but a quote, and \' is a quote.
func splitRecords(out []byte) ([][]string, error) {
	var recs [][]string
	var rec []string
	var word []byte
	inWord, quoted := false, false
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case quoted:
			if c == '\'' {
				quoted = false
			} else {
				word = append(word, c)
			}
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(out):
			i++
			word, inWord = append(word, out[i]), true
		case c == ' ' || c == '\n':
			if inWord {
				rec = append(rec, string(word))
				word, inWord = word[:0], false
			}
			if c == '\n' && len(rec) > 0 {
				recs = append(recs, rec)
				rec = nil
			}
		default:
			word, inWord = append(word, c), true
		}
	}
	if quoted {
		return nil, fmt.Errorf("output ends inside a quote")
	}
	if inWord {
		rec = append(rec, string(word))
	}
	if len(rec) > 0 {
		recs = append(recs, rec)
	}
	return recs, nil
}

// scriptletKinds are the scriptlets rpm runs during an install, by the tag
// that holds the script (or the tag of its interpreter, for a scriptlet
// that is only a program, such as %post -p /sbin/ldconfig), in the order of
// scriptletFormat's fields.
var scriptletKinds = []string{"%pretrans", "%pre", "%post", "%posttrans", "%trigger", "%filetrigger", "%transfiletrigger"}

const scriptletFormat = `%{NAME:shescape}` +
	` %|PRETRANS?{1}:{%|PRETRANSPROG?{1}:{0}|}|` +
	` %|PREIN?{1}:{%|PREINPROG?{1}:{0}|}|` +
	` %|POSTIN?{1}:{%|POSTINPROG?{1}:{0}|}|` +
	` %|POSTTRANS?{1}:{%|POSTTRANSPROG?{1}:{0}|}|` +
	` %|TRIGGERSCRIPTS?{1}:{0}|` +
	` %|FILETRIGGERSCRIPTS?{1}:{0}|` +
	` %|TRANSFILETRIGGERSCRIPTS?{1}:{0}|\n`

// scriptlets returns, for each named package that has any, the kinds of
// scriptlet it carries.
func (r rpm) scriptlets(ctx context.Context, names []string) (map[string][]string, error) {
	out := map[string][]string{}
	err := r.queryEach(ctx, names, scriptletFormat, func(f []string) error {
		if len(f) != 1+len(scriptletKinds) {
			return fmt.Errorf("a scriptlet line with %d fields: %q", len(f), f)
		}
		for i, has := range f[1:] {
			if has == "1" && !slices.Contains(out[f[0]], scriptletKinds[i]) {
				out[f[0]] = append(out[f[0]], scriptletKinds[i])
			}
		}
		return nil
	})
	return out, err
}

// fileTriggers returns the path prefixes of every installed package's file
// triggers (%filetriggerin and %transfiletriggerin), by package.
func (r rpm) fileTriggers(ctx context.Context) (map[string][]string, error) {
	dt, err := r.query(ctx, "-qa", "--qf", `[%{NAME:shescape} %{FILETRIGGERNAME:shescape}\n][%{NAME:shescape} %{TRANSFILETRIGGERNAME:shescape}\n]`)
	if err != nil {
		return nil, err
	}
	recs, err := splitRecords(dt)
	if err != nil {
		return nil, fmt.Errorf("rpm -qa: %w", err)
	}
	out := map[string][]string{}
	for _, f := range recs {
		if len(f) == 2 && f[1] != "(none)" && !slices.Contains(out[f[0]], f[1]) {
			out[f[0]] = append(out[f[0]], f[1])
		}
	}
	return out, nil
}
