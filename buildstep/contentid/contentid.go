// Package contentid is a build's content id: a digest of everything its
// result holds (every path, its type, permissions, size, link target and
// content), which the finishing step writes last (buildstep.ContentIDFile)
// and the image's last layer carries. The packaged files the install step
// verified, unchanged since, are not read again: their SHA-256 is rpm's.
//
// Flatpak, updating from an OCI remote, picks a layer delta by the DiffID
// of the last layer of the version it has installed (it records only that
// one, xa.diff-id): for a delta to be applied only to the version it was
// made from, an image's last layer must differ whenever anything in the
// image does. Metadata and export/ alone do not (they stay the same when
// only a package changes); with this file they do.
package contentid

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

// Tree is the digest of the tree below dir, leaving out the folder skip
// (a path below dir, "/...").
//
// known are files whose SHA-256 is known, by path relative to dir: one
// whose stamp is still the one known is not read again. The digest is the
// same with or without them.
func Tree(dir, skip string, known map[string]buildstep.VerifiedFile) (Sum, error) {
	type entry struct {
		rel, kind, link string
		perm            fs.FileMode
		size            int64
		sum             string
	}
	var entries []*entry
	var files []*entry
	skip = strings.Trim(skip, "/")
	taken := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip != "" && rel == skip {
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		e := &entry{rel: rel, perm: fi.Mode().Perm() | fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)}
		switch {
		case fi.Mode().IsRegular():
			e.kind, e.size = "f", fi.Size()
			if k, ok := known[rel]; ok && k.DigestAlgo == buildstep.DigestSHA256 && len(k.Digest) == sha256.Size*2 {
				if stamp, ok := buildstep.StampOf(fi); ok && stamp == k.Stamp {
					e.sum = strings.ToLower(k.Digest)
					taken++
					break
				}
			}
			files = append(files, e)
		case fi.IsDir():
			e.kind = "d"
		case fi.Mode()&fs.ModeSymlink != 0:
			e.kind = "l"
			if e.link, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			e.kind = "o" + fi.Mode().Type().String()
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return Sum{}, err
	}
	// The contents, read in parallel: this is most of the work.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	ch := make(chan *entry)
	for range max(2, runtime.NumCPU()) {
		wg.Go(func() {
			h := sha256.New()
			for e := range ch {
				sum, err := fileSum(h, filepath.Join(dir, filepath.FromSlash(e.rel)))
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					continue
				}
				e.sum = sum
			}
		})
	}
	for _, e := range files {
		ch <- e
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return Sum{}, firstErr
	}
	h := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%s\x00%o\x00%d\x00%s\x00%s\n", e.rel, e.kind, uint32(e.perm), e.size, e.link, e.sum)
	}
	return Sum{ID: "sha256:" + hex.EncodeToString(h.Sum(nil)), Read: len(files), Known: taken}, nil
}

// Sum is a tree's digest and how it was made.
type Sum struct {
	// ID is "sha256:" and hex.
	ID string
	// Read are the files read, Known those whose digest was known.
	Read, Known int
}

func cmpErr(have, err error) error {
	if have != nil {
		return have
	}
	return err
}

func fileSum(h hash.Hash, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h.Reset()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
