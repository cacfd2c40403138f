package buildstep

import (
	"fmt"
	"strconv"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
)

// Package is an installed RPM as the install step reports it.
type Package struct {
	rpmver.NEVRA
	// SourceRPM is the source package's file name, "" for none.
	SourceRPM string
	// Added is true for a package this install added (the others were in
	// the root before: an app's runtime).
	Added bool
}

// PackagedFile is a file that rpm records as installed by an added package.
type PackagedFile struct {
	Package, SourceRPM string
	// Path is absolute, as rpm lists it.
	Path string
	// Mode is rpm's st_mode (file type and permissions).
	Mode uint32
	Size int64
	// DigestAlgo is rpm's PGPHASHALGO number of Digest, the file's hex
	// digest ("" for anything but a regular file).
	DigestAlgo int
	Digest     string
	// Flags are rpm's RPMFILE_* flags (config, doc, ghost...).
	Flags uint32
	// State is rpm's file state: 0 normal, 1 replaced, 2 not installed,
	// 3 net shared, 4 wrong color.
	State int
	// LinkTo is a symlink's target.
	LinkTo string
}

// rpm's file flags and states the steps look at.
const (
	FileFlagConfig  = 1 << 0
	FileFlagGhost   = 1 << 6
	FileStateNormal = 0
)

// Owned is a path and the package that owns it.
type Owned struct {
	Package, Path string
}

// Lost is a packaged file that is not where rpm put it, and why.
type Lost struct {
	Package, Path, Reason string
}

// Conflict is a file that two packages install differently: Package and
// Other, two packages of the install (NEVRAs as rpm prints them), or, when
// Installed, Other is a package already in the root (the runtime's).
type Conflict struct {
	Path, Package, Other string
	Installed            bool
}

// Unverified is a package whose signature the installer refused: Package
// as the installer names it (NVRA), Repo when it says, Reason one of the
// Unverified* values or, for another failed check, the installer's words.
type Unverified struct {
	Package, Repo, Reason string
}

// Why the installer refused a package's signature.
const (
	// UnverifiedUnsigned: the package has no signature.
	UnverifiedUnsigned = "unsigned"
	// UnverifiedNoKey: the package is signed with a key the repo's
	// gpgkey does not hold.
	UnverifiedNoKey = "nokey"
	// UnverifiedNoGnuPG: the installer tried to import a key the package
	// names with GnuPG, which the build image does not have (dnf5 does,
	// through gpgme, for a key the repo's gpgkey does not hold); it names
	// no package.
	UnverifiedNoGnuPG = "nognupg"
)

// Update is a package the install replaced: From and To are NEVRAs.
type Update struct {
	From, To string
}

// Unresolved is a capability no repo and not the runtime provides.
type Unresolved struct {
	Capability, NeededBy string
}

// UnreadRepo is a repo whose metadata could not be read.
type UnreadRepo struct {
	// Repo is its id.
	Repo string
	// Why is RepoNoMetadata, or what the installer said.
	Why string
	// RPMs is how many .rpm files its folder holds (RepoNoMetadata).
	RPMs int
}

// Why a repo in a folder could not be read.
const (
	// RepoNoMetadata: its folder has no repodata/repomd.xml.
	RepoNoMetadata = "no repodata/repomd.xml"
	// RepoNoFolder: its folder does not exist.
	RepoNoFolder = "no such folder"
	// RepoBadPackage starts the Why of a folder without repodata/ one of
	// whose .rpm files could not be read to index it; what follows says
	// which and why.
	RepoBadPackage = "a package file cannot be read"
)

// InstallReport is what an install step writes to ReportDir/InstallReportFile.
type InstallReport struct {
	// Packages are all the root's packages after the install.
	Packages []Package
	// Files are the added packages' files.
	Files []PackagedFile
	// Failure says why the install failed; nil when it did not.
	Failure *Failure
	// Notices are lines the frontend shows the packager (warnings).
	Notices []string
	// Downloaded are the files a download step (ModeDownload) fetched,
	// each with the repo it came from and whether the install of them
	// checks its signature.
	Downloaded []Downloaded
}

// Downloaded is a package file a download step fetched: File is its name
// in DownloadDir; Check that its signature is checked before it is
// installed (no repo with gpgcheck off lists it); Repo, for a checked file,
// the repo it came from when that is known (the one repo that checks
// signatures), else "".
type Downloaded struct {
	File, Repo string
	Check      bool
}

// Failure is why an install step failed.
type Failure struct {
	// Status is the installer's exit status; -1 when it did not run or
	// did not finish.
	Status int
	// Missing are requested names no repo has.
	Missing []string
	// Excluded are requested names the repos have only among packages
	// their excludepkgs or includepkgs leave out.
	Excluded []string
	// Unresolved are dependencies nothing provides.
	Unresolved []Unresolved
	// Outside are files of packages that must keep to /app.
	Outside []Owned
	// Conflicts are files two packages install with different contents
	// (rpm's transaction test refuses them).
	Conflicts []Conflict
	// Updated are the packages of the root (the runtime's, for an app)
	// that the install replaced with another version.
	Updated []Update
	// Lost are packaged files missing from the result.
	Lost []Lost
	// Unverified are packages whose signatures the installer refused.
	Unverified []Unverified
	// Keys are the repo keys the step could not read or import before
	// the installer ran, each with why (with Unverified).
	Keys []string
	// Unset are the installer variables it left in a URL it fetched
	// (releasever: it found no release version to detect).
	Unset []string
	// Unread are the repos whose metadata could not be read.
	Unread []UnreadRepo
	// Message says what failed, in one line.
	Message string
}

func (f *Failure) Error() string { return f.Message }

// Encode writes the report.
func (r *InstallReport) Encode() []byte {
	var w recordWriter
	for _, p := range r.Packages {
		w.record(tagPackage, p.Name, strconv.Itoa(p.Epoch), p.Version, p.Release, p.Arch, p.SourceRPM, bit(p.Added))
	}
	for _, f := range r.Files {
		w.record(tagFile, f.Package, f.SourceRPM, f.Path,
			strconv.FormatUint(uint64(f.Mode), 8), strconv.FormatInt(f.Size, 10),
			strconv.Itoa(f.DigestAlgo), f.Digest, strconv.FormatUint(uint64(f.Flags), 10),
			strconv.Itoa(f.State), f.LinkTo)
	}
	for _, n := range r.Notices {
		w.record(tagNotice, n)
	}
	for _, d := range r.Downloaded {
		w.record(tagDownloaded, d.File, d.Repo, bit(d.Check))
	}
	if f := r.Failure; f != nil {
		w.record(tagStatus, strconv.Itoa(f.Status))
		for _, m := range f.Missing {
			w.record(tagMissing, m)
		}
		for _, m := range f.Excluded {
			w.record(tagExcluded, m)
		}
		for _, u := range f.Unresolved {
			w.record(tagUnresolved, u.Capability, u.NeededBy)
		}
		for _, o := range f.Outside {
			w.record(tagOutside, o.Package, o.Path)
		}
		for _, u := range f.Updated {
			w.record(tagUpdated, u.From, u.To)
		}
		for _, c := range f.Conflicts {
			w.record(tagConflict, c.Path, c.Package, c.Other, bit(c.Installed))
		}
		for _, l := range f.Lost {
			w.record(tagLost, l.Package, l.Path, l.Reason)
		}
		for _, u := range f.Unverified {
			w.record(tagUnverified, u.Package, u.Repo, u.Reason)
		}
		for _, k := range f.Keys {
			w.record(tagKey, k)
		}
		for _, v := range f.Unset {
			w.record(tagUnset, v)
		}
		for _, u := range f.Unread {
			w.record(tagUnread, u.Repo, u.Why, strconv.Itoa(u.RPMs))
		}
		w.record(tagError, f.Message)
	}
	return w.buf.Bytes()
}

// ParseInstallReport reads what Encode wrote.
func ParseInstallReport(data []byte) (*InstallReport, error) {
	r := &InstallReport{}
	failure := func() *Failure {
		if r.Failure == nil {
			r.Failure = &Failure{Status: -1}
		}
		return r.Failure
	}
	err := readRecords(InstallReportFile, data, func(tag string, f []string) error {
		switch tag {
		case tagPackage:
			epoch, err := strconv.Atoi(f[1])
			if err != nil || epoch < 0 {
				return fmt.Errorf("package %s: epoch %q", f[0], f[1])
			}
			r.Packages = append(r.Packages, Package{NEVRA: rpmver.NEVRA{Name: f[0], Epoch: epoch, Version: f[2], Release: f[3], Arch: f[4]},
				SourceRPM: f[5], Added: f[6] == "1"})
		case tagFile:
			mode, err1 := strconv.ParseUint(f[3], 8, 32)
			size, err2 := strconv.ParseInt(f[4], 10, 64)
			algo, err3 := strconv.Atoi(f[5])
			flags, err4 := strconv.ParseUint(f[7], 10, 32)
			state, err5 := strconv.Atoi(f[8])
			for _, err := range []error{err1, err2, err3, err4, err5} {
				if err != nil {
					return fmt.Errorf("%s: %w", f[2], err)
				}
			}
			r.Files = append(r.Files, PackagedFile{Package: f[0], SourceRPM: f[1], Path: f[2], Mode: uint32(mode), Size: size,
				DigestAlgo: algo, Digest: f[6], Flags: uint32(flags), State: state, LinkTo: f[9]})
		case tagNotice:
			r.Notices = append(r.Notices, f[0])
		case tagDownloaded:
			r.Downloaded = append(r.Downloaded, Downloaded{File: f[0], Repo: f[1], Check: f[2] == "1"})
		case tagStatus:
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return err
			}
			failure().Status = n
		case tagMissing:
			failure().Missing = append(failure().Missing, f[0])
		case tagExcluded:
			failure().Excluded = append(failure().Excluded, f[0])
		case tagUnresolved:
			failure().Unresolved = append(failure().Unresolved, Unresolved{f[0], f[1]})
		case tagOutside:
			failure().Outside = append(failure().Outside, Owned{f[0], f[1]})
		case tagUpdated:
			failure().Updated = append(failure().Updated, Update{f[0], f[1]})
		case tagConflict:
			failure().Conflicts = append(failure().Conflicts, Conflict{f[0], f[1], f[2], f[3] == "1"})
		case tagLost:
			failure().Lost = append(failure().Lost, Lost{f[0], f[1], f[2]})
		case tagKey:
			failure().Keys = append(failure().Keys, f[0])
		case tagUnset:
			failure().Unset = append(failure().Unset, f[0])
		case tagUnread:
			n, err := strconv.Atoi(f[2])
			if err != nil {
				return fmt.Errorf("repo %s: %w", f[0], err)
			}
			failure().Unread = append(failure().Unread, UnreadRepo{f[0], f[1], n})
		case tagUnverified:
			failure().Unverified = append(failure().Unverified, Unverified{f[0], f[1], f[2]})
		case tagError:
			failure().Message = f[0]
		default:
			return fmt.Errorf("not part of an install report")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Entry is one entry of a finished tree.
type Entry struct {
	// Path is relative to the tree's root.
	Path string
	// Type is 'f' (regular file), 'd' (folder), 'l' (symlink).
	Type byte
	// Size is a regular file's size.
	Size int64
}

// Change is a packaged file that cleanup-commands removed or changed.
type Change struct {
	Package, Path string
	// What is "removed", "changed" (content) or "replaced" (type).
	What string
}

// FinishReport is what a finishing step writes to ReportDir/FinishReportFile.
type FinishReport struct {
	// Entries are every entry of the tree, in walk order.
	Entries []Entry
	// Changes are what cleanup-commands did to packaged files.
	Changes []Change
	// Failure, written only by a finishing that reports its failure
	// (FinishConfig.ReportFailure), is why it failed; the report then
	// holds nothing else.
	Failure *FinishFailure
}

// FinishFailure is why a finishing failed: Key is the spec key whose value
// it could not apply (such as "rename-icon"), empty when the failure is
// no key's.
type FinishFailure struct {
	Key, Message string
}

// Encode writes the report.
func (r *FinishReport) Encode() []byte {
	var w recordWriter
	for _, e := range r.Entries {
		w.record(tagEntry, string(e.Type), strconv.FormatInt(e.Size, 10), e.Path)
	}
	for _, c := range r.Changes {
		w.record(tagChanged, c.Package, c.Path, c.What)
	}
	if f := r.Failure; f != nil {
		w.record(tagFailed, f.Key, f.Message)
	}
	return w.buf.Bytes()
}

// ParseFinishReport reads what Encode wrote.
func ParseFinishReport(data []byte) (*FinishReport, error) {
	r := &FinishReport{}
	err := readRecords(FinishReportFile, data, func(tag string, f []string) error {
		switch tag {
		case tagEntry:
			if len(f[0]) != 1 {
				return fmt.Errorf("%q: bad type %q", f[2], f[0])
			}
			size, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return fmt.Errorf("%q: %w", f[2], err)
			}
			r.Entries = append(r.Entries, Entry{Path: f[2], Type: f[0][0], Size: size})
		case tagChanged:
			r.Changes = append(r.Changes, Change{f[0], f[1], f[2]})
		case tagFailed:
			r.Failure = &FinishFailure{Key: f[0], Message: f[1]}
		default:
			return fmt.Errorf("not part of a finish report")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
