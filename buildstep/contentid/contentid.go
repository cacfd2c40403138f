// Package contentid is the content-id build step: a digest of everything a
// build's result holds (every path, its type, permissions, size, link
// target and content), written to a file the image's last layer carries.
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

// Run writes the digest of cfg.Dir (without its reports) to
// cfg.Out/buildstep.ContentIDFile.
func Run(cfg *buildstep.ContentIDConfig) error {
	id, err := Tree(cfg.Dir, buildstep.ReportDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cfg.Out, buildstep.ContentIDFile), []byte(id+"\n"), 0o644)
}

// Tree is the digest of the tree below dir, leaving out the folder skip
// (a path below dir, "/..."): "sha256:" and hex.
func Tree(dir, skip string) (string, error) {
	type entry struct {
		rel, kind, link string
		perm            fs.FileMode
		size            int64
		sum             string
	}
	var entries []*entry
	var files []*entry
	skip = strings.Trim(skip, "/")
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
		return "", err
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
		return "", firstErr
	}
	h := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%s\x00%o\x00%d\x00%s\x00%s\n", e.rel, e.kind, uint32(e.perm), e.size, e.link, e.sum)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
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
