package filecheck

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

// Tree is where packaged paths are looked up: a packaged path below Prefix
// ("/app", or "/" for a whole root) is at the same place below Dir.
type Tree struct {
	Dir    string
	Prefix string
}

// Problem is a packaged file that is not as rpm recorded it.
type Problem struct {
	File buildstep.PackagedFile
	// What says what differs, e.g. "is missing", "changed content".
	What string
	// Missing is true when the file is not there at all (removed, or
	// behind a folder that is not one).
	Missing bool
}

// Check returns the files of files below t.Prefix that differ from what rpm
// recorded. Files rpm did not install (excluded docs, other colors, ghosts)
// are skipped; config files are only checked for their type, as a
// package's scriptlets may edit them.
func Check(files []buildstep.PackagedFile, t Tree) []Problem {
	problems, _, _ := CheckTrusting(files, t, Trust{})
	return problems
}

// Trust is what a check may take as verified without reading a file.
type Trust struct {
	// Verified are files an earlier check verified: such a file with
	// the digest rpm records now and the same stamp is verified.
	Verified Verified
	// Committed are files, by their path on disk, whose content rpm
	// compared with the digest it records as it wrote them, and that
	// nothing wrote to since (see the install step's watch): such a
	// file of the size rpm records and with one link is verified.
	Committed map[string]bool
	// Unseen are files, by their path on disk, that rpm may have
	// committed before the watch could see it: they are read, and
	// counted apart.
	Unseen map[string]bool
}

// Counts says how a check knew the regular files' contents: Read were
// hashed, Trusted were taken from its Trust; Unseen of those read were in
// its Trust's Unseen.
type Counts struct{ Read, Trusted, Unseen int }

// Verified are regular files whose content was found to have the digest
// rpm recorded, by packaged path, with their stamps then.
type Verified map[string]buildstep.VerifiedFile

// hashed counts the files whose digest was computed (for tests).
var hashed atomic.Int64

// CheckTrusting is Check (its problems in the order of their paths),
// except that the files trust vouches for are not read: a kept install's
// files that nothing touched since the last build checked them, the files
// rpm has just written. It also returns the files it found as rpm
// recorded them, for the next check, and how many it read and trusted.
func CheckTrusting(files []buildstep.PackagedFile, t Tree, trust Trust) ([]Problem, Verified, Counts) {
	c := checker{t: t, dirs: map[string]dirInfo{}}
	var problems []Problem
	verified := Verified{}
	type job struct {
		f     buildstep.PackagedFile
		disk  string
		stamp buildstep.Stamp
		ok    bool // stamp is known
	}
	var hashJobs []job
	var counts Counts
	for _, f := range files {
		rel, ok := c.rel(f.Path)
		if !ok || f.State != buildstep.FileStateNormal || f.Flags&buildstep.FileFlagGhost != 0 {
			continue
		}
		disk, what := c.locate(rel)
		if what != "" {
			problems = append(problems, Problem{File: f, What: what, Missing: true})
			continue
		}
		fi, err := os.Lstat(disk)
		if err != nil {
			problems = append(problems, Problem{File: f, What: "is missing", Missing: true})
			continue
		}
		want := fs.FileMode(f.Mode & 0o170000)
		if got := typeBits(fi.Mode()); got != want {
			problems = append(problems, Problem{File: f, What: fmt.Sprintf("was a %s, is a %s", typeName(want), typeName(got))})
			continue
		}
		if f.Flags&buildstep.FileFlagConfig != 0 {
			continue
		}
		switch want {
		case sIFLNK:
			if target, err := os.Readlink(disk); err != nil || target != f.LinkTo {
				problems = append(problems, Problem{File: f, What: fmt.Sprintf("points to %q, not %q", target, f.LinkTo)})
			}
		case sIFREG:
			if fi.Size() != f.Size {
				problems = append(problems, Problem{File: f, What: fmt.Sprintf("has %d bytes, not %d", fi.Size(), f.Size)})
			} else if _, known := digests[f.DigestAlgo]; known && f.Digest != "" {
				stamp, ok := buildstep.StampOf(fi)
				if v, known := trust.Verified[f.Path]; ok && known && v.Stamp == stamp && v.DigestAlgo == f.DigestAlgo && strings.EqualFold(v.Digest, f.Digest) {
					verified[f.Path] = v
					counts.Trusted++
					continue
				}
				if ok && trust.Committed[disk] && links(fi) == 1 {
					verified[f.Path] = buildstep.VerifiedFile{Path: f.Path, DigestAlgo: f.DigestAlgo, Digest: f.Digest, Stamp: stamp}
					counts.Trusted++
					continue
				}
				if trust.Unseen[disk] {
					counts.Unseen++
				}
				hashJobs = append(hashJobs, job{f, disk, stamp, ok})
			}
		}
	}

	// The digests, read in parallel: this is most of the work.
	var mu sync.Mutex
	var wg sync.WaitGroup
	ch := make(chan job)
	for range max(2, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				what := checkDigest(j.disk, j.f)
				mu.Lock()
				if what != "" {
					problems = append(problems, Problem{File: j.f, What: what})
				} else if j.ok {
					verified[j.f.Path] = buildstep.VerifiedFile{Path: j.f.Path, DigestAlgo: j.f.DigestAlgo, Digest: j.f.Digest, Stamp: j.stamp}
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range hashJobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	slices.SortStableFunc(problems, func(a, b Problem) int { return strings.Compare(a.File.Path, b.File.Path) })
	counts.Read = len(hashJobs)
	return problems, verified, counts
}

// links is fi's number of hard links: a write through one of several
// links is seen by a watch of that link's folder only.
func links(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 0
}

const (
	sIFREG = fs.FileMode(0o100000)
	sIFDIR = fs.FileMode(0o040000)
	sIFLNK = fs.FileMode(0o120000)
)

// typeBits is a Go file mode's type as st_mode's S_IFMT bits.
func typeBits(m fs.FileMode) fs.FileMode {
	switch {
	case m.IsRegular():
		return sIFREG
	case m.IsDir():
		return sIFDIR
	case m&fs.ModeSymlink != 0:
		return sIFLNK
	case m&fs.ModeNamedPipe != 0:
		return 0o010000
	case m&fs.ModeSocket != 0:
		return 0o140000
	case m&fs.ModeCharDevice != 0:
		return 0o020000
	case m&fs.ModeDevice != 0:
		return 0o060000
	}
	return 0
}

func typeName(t fs.FileMode) string {
	switch t {
	case sIFREG:
		return "file"
	case sIFDIR:
		return "folder"
	case sIFLNK:
		return "symlink"
	case 0o010000:
		return "FIFO"
	case 0o140000:
		return "socket"
	case 0o020000:
		return "character device"
	case 0o060000:
		return "block device"
	}
	return "file of unknown type"
}

type checker struct {
	t Tree
	// dirs caches, for a folder relative to t.Dir, where it really is or
	// why it cannot hold files.
	dirs map[string]dirInfo
}

type dirInfo struct {
	real string
	err  error
}

// rel is p relative to the tree's prefix, if it is below it.
func (c *checker) rel(p string) (string, bool) {
	return Rel(c.t.Prefix, p)
}

// Rel is the packaged path p relative to prefix ("/app", "/"), if it is
// below it.
func Rel(prefix, p string) (string, bool) {
	p = path.Clean(p)
	prefix = path.Clean(prefix)
	if prefix == "/" {
		return strings.TrimPrefix(p, "/"), p != "/"
	}
	rel, ok := strings.CutPrefix(p, prefix+"/")
	return rel, ok && rel != ""
}

// locate returns where rel is on disk, or why it cannot be there: a folder
// above it is missing, is not a folder, or is a symlink out of the tree. A
// symlink to a folder inside the tree is followed, as rpm follows it.
func (c *checker) locate(rel string) (string, string) {
	parent, base := path.Split(rel)
	parent = strings.TrimSuffix(parent, "/")
	if parent != "" {
		real, err := c.dir(parent, 0)
		if err != nil {
			return "", err.Error()
		}
		rel = path.Join(real, base)
	}
	return filepath.Join(c.t.Dir, filepath.FromSlash(rel)), ""
}

// maxLinks bounds the symlinks followed for one path, as SYMLOOP_MAX does.
const maxLinks = 40

// dir returns where the folder rel (relative to the tree) really is,
// relative to the tree, following symlinks that stay inside it.
func (c *checker) dir(rel string, links int) (string, error) {
	if r, ok := c.dirs[rel]; ok {
		return r.real, r.err
	}
	real, err := c.resolve(rel, links)
	c.dirs[rel] = dirInfo{real, err}
	return real, err
}

func (c *checker) resolve(rel string, links int) (string, error) {
	shown := path.Join(c.t.Prefix, rel)
	parent, base := path.Split(rel)
	parent = strings.TrimSuffix(parent, "/")
	real := base
	if parent != "" {
		p, err := c.dir(parent, links)
		if err != nil {
			return "", err
		}
		real = path.Join(p, base)
	}
	disk := filepath.Join(c.t.Dir, filepath.FromSlash(real))
	fi, err := os.Lstat(disk)
	switch {
	case err != nil:
		return "", fmt.Errorf("is missing: %s is gone", shown)
	case fi.IsDir():
		return real, nil
	case fi.Mode()&fs.ModeSymlink == 0:
		return "", fmt.Errorf("is missing: %s above it is not a folder", shown)
	}
	target, _ := os.Readlink(disk)
	inside, ok := c.inside(path.Dir(real), target)
	if !ok {
		return "", fmt.Errorf("is not in the tree: the folder %s above it is a symlink to %s, outside %s", shown, target, c.t.Prefix)
	}
	if links >= maxLinks {
		return "", fmt.Errorf("is not reachable: too many symlinks at %s", shown)
	}
	return c.dir(inside, links+1)
}

// inside is where a symlink's target is, relative to the tree, when the
// link sits in folder dir (relative to the tree) and the target stays in it.
func (c *checker) inside(dir, target string) (string, bool) {
	var p string
	if path.IsAbs(target) {
		rel, ok := c.rel(target)
		if !ok {
			return "", false
		}
		p = rel
	} else {
		p = path.Join(dir, target)
		if p == ".." || strings.HasPrefix(p, "../") {
			return "", false
		}
	}
	return p, p != "." && p != ""
}

// digests are rpm's PGPHASHALGO numbers.
var digests = map[int]func() hash.Hash{
	1:  md5.New,
	2:  sha1.New,
	8:  sha256.New,
	9:  sha512.New384,
	10: sha512.New,
	11: sha256.New224,
}

func checkDigest(disk string, f buildstep.PackagedFile) string {
	newHash, ok := digests[f.DigestAlgo]
	if !ok {
		return ""
	}
	hashed.Add(1)
	file, err := os.Open(disk)
	if err != nil {
		return "cannot be read: " + err.Error()
	}
	defer file.Close()
	h := newHash()
	if _, err := io.Copy(h, file); err != nil {
		return "cannot be read: " + err.Error()
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, f.Digest) {
		return "has changed content"
	}
	return ""
}
