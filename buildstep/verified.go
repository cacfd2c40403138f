package buildstep

import (
	"fmt"
	"io/fs"
	"strconv"
	"syscall"
)

// VerifiedReportFile, in ReportDir, lists the packaged files of an install
// step's output whose content the step found to have the digest rpm
// recorded, each with its Stamp in the output ([EncodeVerified]). The
// finishing step takes such a file's digest from it while its stamp is
// unchanged, instead of reading it again (the content id, the changes of
// cleanup-commands).
const VerifiedReportFile = "verified"

// Stamp is what a regular file's inode says: a file whose stamp is the same
// as when its content was read has the same content, since its ctime
// changes with any write, chmod, rename or link and only the kernel sets
// it. (Not the device: an overlay mount's changes from one build step to
// the next. A file copied to another snapshot, or unpacked from a cache,
// has a new inode and ctime, so it is read again.)
type Stamp struct {
	Ino          uint64
	Size         int64
	Mtime, Ctime int64 // nanoseconds
}

// StampOf is fi's stamp; false when the system does not say.
func StampOf(fi fs.FileInfo) (Stamp, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() {
		return Stamp{}, false
	}
	return Stamp{Ino: st.Ino, Size: st.Size,
		Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}, true
}

// VerifiedFile is a regular file whose content was found to have the
// digest rpm recorded, with its stamp then.
type VerifiedFile struct {
	// Path is the packaged path, as rpm lists it.
	Path string
	// DigestAlgo is rpm's PGPHASHALGO number of Digest (hex).
	DigestAlgo int
	Digest     string
	Stamp      Stamp
}

// DigestSHA256 is rpm's PGPHASHALGO number of SHA-256, the file digest of
// every current distribution's packages.
const DigestSHA256 = 8

// EncodeVerified writes a VerifiedReportFile.
func EncodeVerified(files []VerifiedFile) []byte {
	var w recordWriter
	for _, f := range files {
		s := f.Stamp
		w.record(tagVerified, f.Path, strconv.Itoa(f.DigestAlgo), f.Digest,
			strconv.FormatUint(s.Ino, 10), strconv.FormatInt(s.Size, 10),
			strconv.FormatInt(s.Mtime, 10), strconv.FormatInt(s.Ctime, 10))
	}
	return w.buf.Bytes()
}

// ParseVerified reads what EncodeVerified wrote.
func ParseVerified(data []byte) ([]VerifiedFile, error) {
	var files []VerifiedFile
	err := readRecords(VerifiedReportFile, data, func(tag string, f []string) error {
		if tag != tagVerified {
			return fmt.Errorf("not part of a verified report")
		}
		algo, err1 := strconv.Atoi(f[1])
		ino, err2 := strconv.ParseUint(f[3], 10, 64)
		size, err3 := strconv.ParseInt(f[4], 10, 64)
		mtime, err4 := strconv.ParseInt(f[5], 10, 64)
		ctime, err5 := strconv.ParseInt(f[6], 10, 64)
		for _, err := range []error{err1, err2, err3, err4, err5} {
			if err != nil {
				return fmt.Errorf("%s: %w", f[0], err)
			}
		}
		files = append(files, VerifiedFile{Path: f[0], DigestAlgo: algo, Digest: f[2],
			Stamp: Stamp{Ino: ino, Size: size, Mtime: mtime, Ctime: ctime}})
		return nil
	})
	return files, err
}
