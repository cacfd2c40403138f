package install

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
)

// The package managers a step runs, and where each keeps its cache (a
// cache mount of the step; see llb).
const (
	Dnf5     = "dnf5"
	Dnf      = "dnf"
	Microdnf = "microdnf"
)

// CacheDirs are the installers' cache folders, by installer.
var CacheDirs = map[string]string{
	Dnf:      "/var/cache/dnf",
	Dnf5:     "/var/cache/libdnf5",
	Microdnf: "/var/cache/yum",
}

// command is the installer's command line for cfg: args are package names,
// or for ModeInstallDownloaded the downloaded files; extra are options
// added before the command. reposDir is where the .repo files are ("" for
// the image's own).
func command(cfg *buildstep.InstallConfig, reposDir, releaseVer, dnfConf string, extra, args []string) []string {
	inst := cfg.Installer
	argv := []string{inst, "-y"}
	if cfg.Mode != buildstep.ModeInstallDownloaded {
		// --refresh: a repo's cached metadata is checked against its
		// repomd.xml (one small download for a remote repo), not trusted
		// for metadata_expire (two days), which would miss a package or
		// an update published since the last build.
		argv = append(argv, "--refresh")
	}
	if cfg.InstallRoot != "" {
		argv = append(argv, "--installroot="+cfg.InstallRoot)
		// With --installroot the installers would keep their caches in
		// the install root; these keep them in the step's cache mount.
		switch inst {
		case Microdnf:
			// microdnf refuses --installroot without its config,
			// plugins, cache, repo and vars folders named.
			argv = append(argv, "--config="+dnfConf, "--noplugins",
				"--setopt=cachedir="+CacheDirs[Microdnf], "--setopt=varsdir=/etc/dnf/vars")
		case Dnf5:
			// dnf5-installroot(7): paths given on the command line are
			// the host's.
			argv = append(argv, "--setopt=cachedir="+CacheDirs[Dnf5], "--setopt=system_cachedir="+CacheDirs[Dnf5])
		case Dnf:
			argv = append(argv, "--setopt=cachedir="+CacheDirs[Dnf])
		}
	}
	if inst == Microdnf {
		argv = append(argv, "--setopt=install_weak_deps=0", "--setopt=keepcache=1")
	} else {
		// timeout: give up on a repo that stalls for 15 s (the default
		// is 30 s, for each of several attempts).
		argv = append(argv, "--setopt=timeout=15", "--setopt=install_weak_deps=False", "--setopt=keepcache=True")
	}
	switch {
	case cfg.Mode == buildstep.ModeInstallDownloaded:
		// Only the downloaded files: no repo is read. Their signatures
		// were checked before (checkDownloaded), each as its repo says.
		argv = append(argv, "--setopt=reposdir="+emptyDir())
	case reposDir != "":
		argv = append(argv, "--setopt=reposdir="+reposDir)
	}
	if releaseVer != "" {
		argv = append(argv, "--releasever="+releaseVer)
	}
	if cfg.ForceArch != "" {
		// The target's scriptlets and file triggers cannot run on this
		// CPU: rpm would fail on the first one it execs.
		argv = append(argv, "--forcearch="+cfg.ForceArch, "--setopt=tsflags=noscripts,notriggers")
	}
	argv = append(argv, extra...)
	if cfg.Mode == buildstep.ModeDownload {
		switch inst {
		case Microdnf:
			return append(append(argv, "download", "--resolve", "--destdir="+buildstep.DownloadDir), args...)
		case Dnf5:
			argv = append(argv, "--setopt=destdir="+buildstep.DownloadDir)
		case Dnf:
			argv = append(argv, "--downloaddir="+buildstep.DownloadDir)
		}
		return append(append(argv, "install", "--downloadonly"), args...)
	}
	return append(append(argv, "install"), args...)
}

// emptyDir is a folder with no .repo file in it.
func emptyDir() string {
	dir := filepath.Join(buildstep.TmpDir, "no-repos")
	os.MkdirAll(dir, 0o755)
	return dir
}

// releaseVerOfBuildImage is the release version of the image a step runs
// in, as dnf's --releasever=/ would read it: for microdnf, which would look
// for it in the install root.
func releaseVerOfBuildImage(systemRelease string) string {
	if systemRelease != "" {
		return strings.TrimSpace(strings.SplitN(systemRelease, "\n", 2)[0])
	}
	dt, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(dt))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VERSION_ID="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// What dnf, dnf5 and microdnf print for a name no repo has, and for a
// dependency nothing provides.
var (
	missingPatterns = []*regexp.Regexp{
		regexp.MustCompile(`^No match for argument: *(.+?)\s*$`),
		regexp.MustCompile(`^error: No package matches '(.+)'`),
		regexp.MustCompile(`^No package (\S+) available`),
	}
	// A name the repos have only among packages their excludepkgs or
	// includepkgs leave out (dnf, dnf5).
	excludedPatterns = []*regexp.Regexp{
		regexp.MustCompile(`^All matches were filtered out by exclude filtering for argument: *(.+?)\s*$`),
		regexp.MustCompile(`^Argument '(.+)' matches only excluded packages\.`),
	}
	unresolvedPattern = regexp.MustCompile(`nothing provides (.+?) needed by (\S+)`)
	// rpm's transaction problems (rpmProblemString), whatever the
	// installer: two packages of the transaction, or one and an installed
	// one, install a file differently.
	conflictPattern          = regexp.MustCompile(`file (/.*?) conflicts between attempted installs of (\S+) and (\S+)`)
	installedConflictPattern = regexp.MustCompile(`file (/.*?) from install of (\S+) conflicts with file from package (\S+)`)
	// Signatures the installer refused (dnf, then dnf5).
	unsignedPattern = regexp.MustCompile(`^Package (\S+)\.rpm is not signed`)
	noKeyPattern    = regexp.MustCompile(`^Public key for (\S+)\.rpm is not installed`)
	openPGPPattern  = regexp.MustCompile(`^OpenPGP check for package "([^"]+)" \(.*\) from repo "([^"]+)" has failed: (.+?)\.?$`)
	noGnuPGPattern  = regexp.MustCompile(`^Failed to import OpenPGP keys into temporary keyring: gpgme`)
	// A URL the installer fetched with a variable it had no value for
	// (dnf: "Status code: 404 for http://host/$releasever/repodata/...").
	unsetVarPattern = regexp.MustCompile(`[a-z]+://\S*?\$\{?(releasever(?:_major|_minor)?)\b`)
	// A repo whose metadata the installer could not fetch or read: dnf
	// ("Error: Failed to download metadata for repo 'ID': WHY"), microdnf
	// ("error: cannot update repo 'ID': WHY"), and dnf5, which says why
	// after it (5.4: "... for repository \"ID\": WHY") or on the lines
	// before, each after ">>> ", the last one sometimes on the same line.
	unreadPattern     = regexp.MustCompile(`(?:Failed to download metadata for repo|cannot update repo) '([^']+)'(?:: (.+))?$`)
	unreadDnf5Pattern = regexp.MustCompile(`^(?:>>> )?(.*?)Failed to download metadata (?:\(.*?\) )?for repository "([^"]+)"(?:: (.+))?$`)
)

// unreadRepoFolders are the repos in a folder of the step (a build
// context, a file: URL) whose folder holds no repodata/repomd.xml, with
// how many .rpm files it holds: the installer would only say that it
// could not download the repo's metadata.
func unreadRepoFolders(repos []buildstep.Repo) []buildstep.UnreadRepo {
	var out []buildstep.UnreadRepo
	for _, r := range repos {
		if r.Dir == "" || strings.Contains(r.Dir, "$") {
			continue // the installer fills in its variables
		}
		_, err := os.Stat(filepath.Join(r.Dir, "repodata", "repomd.xml"))
		if !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		u := buildstep.UnreadRepo{Repo: r.ID, Why: buildstep.RepoNoMetadata}
		if _, err := os.Stat(r.Dir); errors.Is(err, fs.ErrNotExist) {
			u.Why = buildstep.RepoNoFolder
		} else {
			u.RPMs = countRPMs(r.Dir)
		}
		out = append(out, u)
	}
	return out
}

// countRPMs counts the .rpm files in dir and its folders, looking at no
// more than maxRPMLook entries.
func countRPMs(dir string) int {
	const maxRPMLook = 100_000
	n, seen := 0, 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if seen++; seen > maxRPMLook {
			return filepath.SkipAll
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".rpm") {
			n++
		}
		return nil
	})
	return n
}

// readFailure picks out of an installer's output the names no repo has (or
// only excluded), the capabilities nothing provides, the file conflicts,
// the signatures refused and the variables left in URLs, each once, in the
// order printed.
func readFailure(log []byte) *buildstep.Failure {
	var missing, excluded []string
	var unresolved []buildstep.Unresolved
	var conflicts []buildstep.Conflict
	var unverified []buildstep.Unverified
	var unset []string
	var unread []buildstep.UnreadRepo
	// detail is the first of dnf5's last run of ">>> " lines, which say
	// why what follows failed.
	var detail string
	var inDetail bool
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, re := range missingPatterns {
			if m := re.FindStringSubmatch(line); m != nil && !slices.Contains(missing, m[1]) {
				missing = append(missing, m[1])
			}
		}
		for _, re := range excludedPatterns {
			if m := re.FindStringSubmatch(line); m != nil && !slices.Contains(excluded, m[1]) {
				excluded = append(excluded, m[1])
			}
		}
		if m := unresolvedPattern.FindStringSubmatch(line); m != nil {
			u := buildstep.Unresolved{Capability: m[1], NeededBy: m[2]}
			if !slices.Contains(unresolved, u) {
				unresolved = append(unresolved, u)
			}
		}
		var c *buildstep.Conflict
		if m := conflictPattern.FindStringSubmatch(line); m != nil {
			c = &buildstep.Conflict{Path: m[1], Package: m[2], Other: m[3]}
		} else if m := installedConflictPattern.FindStringSubmatch(line); m != nil {
			c = &buildstep.Conflict{Path: m[1], Package: m[2], Other: m[3], Installed: true}
		}
		if c != nil && !slices.Contains(conflicts, *c) {
			conflicts = append(conflicts, *c)
		}
		var u *buildstep.Unverified
		switch m := openPGPPattern.FindStringSubmatch(line); {
		case m != nil:
			reason := m[3]
			switch {
			case strings.Contains(m[3], "not signed"):
				reason = buildstep.UnverifiedUnsigned
			case strings.Contains(m[3], "key is not installed"), strings.Contains(m[3], "NOKEY"):
				reason = buildstep.UnverifiedNoKey
			}
			u = &buildstep.Unverified{Package: m[1], Repo: m[2], Reason: reason}
		case unsignedPattern.MatchString(line):
			u = &buildstep.Unverified{Package: unsignedPattern.FindStringSubmatch(line)[1], Reason: buildstep.UnverifiedUnsigned}
		case noKeyPattern.MatchString(line):
			u = &buildstep.Unverified{Package: noKeyPattern.FindStringSubmatch(line)[1], Reason: buildstep.UnverifiedNoKey}
		case noGnuPGPattern.MatchString(line):
			u = &buildstep.Unverified{Reason: buildstep.UnverifiedNoGnuPG}
		}
		if u != nil && !slices.Contains(unverified, *u) {
			unverified = append(unverified, *u)
		}
		var ur *buildstep.UnreadRepo
		if m := unreadPattern.FindStringSubmatch(line); m != nil {
			ur = &buildstep.UnreadRepo{Repo: m[1], Why: m[2]}
		} else if m := unreadDnf5Pattern.FindStringSubmatch(line); m != nil {
			why := cmp.Or(m[3], strings.TrimSpace(m[1]), detail)
			if detail != "" && detail != why {
				why += " (" + detail + ")"
			}
			ur = &buildstep.UnreadRepo{Repo: m[2], Why: why}
		}
		// The first of a run of ">>> " lines says what went wrong first.
		if d, ok := strings.CutPrefix(line, ">>> "); !ok {
			inDetail = false
		} else if !inDetail {
			detail, inDetail = strings.TrimSpace(d), true
		}
		if ur != nil && !slices.ContainsFunc(unread, func(u buildstep.UnreadRepo) bool { return u.Repo == ur.Repo }) {
			unread = append(unread, *ur)
		}
		for _, m := range unsetVarPattern.FindAllStringSubmatch(line, -1) {
			if !slices.Contains(unset, m[1]) {
				unset = append(unset, m[1])
			}
		}
	}
	return &buildstep.Failure{Missing: missing, Excluded: excluded, Unresolved: unresolved, Conflicts: conflicts, Unverified: unverified, Unset: unset, Unread: unread}
}

// scriptletFailedPattern is rpm's report of a scriptlet that failed
// ("%post(NEVRA) scriptlet failed, exit status N", or "signal N"; dnf5
// prints it after ">>> [RPM] "): rpm goes on after a failed %post,
// %posttrans or trigger, and so does dnf, exiting 0; dnf5 5.4 fails the
// transaction.
var scriptletFailedPattern = regexp.MustCompile(`(%[a-z]+)\(([^()\s]+)\) scriptlet failed, ((?:exit status|signal) \d+)`)

// failedScriptlets picks out of an installer's output the scriptlets rpm
// reports failed, each once, in the order printed: "NEVRA's %post (exit
// status 3)".
func failedScriptlets(log []byte) []string {
	var out []string
	for _, m := range scriptletFailedPattern.FindAllSubmatch(log, -1) {
		if s := string(m[2]) + "'s " + string(m[1]) + " (" + string(m[3]) + ")"; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
