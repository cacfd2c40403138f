package install

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
)

// keysDir is where a download step leaves the signing keys it fetched, for
// the install of the downloaded packages (which reads no repo).
var keysDir = filepath.Join(buildstep.DownloadDir, "keys")

// maxKeySize bounds a fetched key file: a few public keys are a few KB.
const maxKeySize = 1 << 20

// importKeys imports the signing keys of the repos that check signatures
// (their gpgkey URLs) into the rpm database the installer uses, with rpm's
// own OpenPGP code (rpm --import), before the installer runs. The
// installers would import a key themselves on the first package signed
// with it, but dnf5 and microdnf read a key with GnuPG (through gpgme),
// which a runtime need not have; and the install of downloaded packages
// (a repo with a secret) reads no repo configuration, so it has no key URL
// at all: a download step keeps the keys it fetched for it. A key that
// cannot be fetched or imported is left to the installer, with a line in
// the log: the installer then fails on the packages signed with it, or
// imports it its own way.
func (s *step) importKeys(ctx context.Context, releaseVer string) {
	var files []string
	if s.cfg.Mode == buildstep.ModeInstallDownloaded {
		files, _ = filepath.Glob(filepath.Join(keysDir, "*.asc"))
	} else {
		dir := filepath.Join(buildstep.TmpDir, "keys")
		if s.cfg.Mode == buildstep.ModeDownload {
			dir = keysDir
		}
		var vars *strings.Replacer
		for _, r := range s.cfg.Repos {
			for i, u := range r.GPGKeys {
				if vars == nil && strings.Contains(u, "$") {
					vars = s.keyVars(ctx, releaseVer)
				}
				if vars != nil {
					u = vars.Replace(u)
				}
				data, err := fetchKey(ctx, u)
				if err == nil {
					name := filepath.Join(dir, fmt.Sprintf("%s-%d.asc", r.ID, i))
					if err = os.MkdirAll(dir, 0o755); err == nil {
						err = os.WriteFile(name, data, 0o644)
					}
					files = append(files, name)
				}
				if err != nil {
					s.keyProblems = append(s.keyProblems, fmt.Sprintf("gpgkey %s of repo %s: %v", u, r.ID, err))
					fmt.Fprintf(s.out, "flatpak-frontend: repo %s: gpgkey %s: %v; left to %s\n", r.ID, u, err, s.cfg.Installer)
				}
			}
		}
	}
	if s.cfg.Mode == buildstep.ModeDownload {
		// Nothing is installed here: the keys are for the next step.
		return
	}
	for _, f := range files {
		if out, err := s.rpm.command(ctx, "--import", f).CombinedOutput(); err != nil {
			s.keyProblems = append(s.keyProblems, fmt.Sprintf("rpm --import of %s: %s", filepath.Base(f), strings.TrimSpace(string(out))))
			fmt.Fprintf(s.out, "flatpak-frontend: rpm --import %s: %v: %s; left to %s\n", filepath.Base(f), err, strings.TrimSpace(string(out)), s.cfg.Installer)
		}
	}
}

// keyVars replaces the installer variables key URLs have most ($basearch,
// $releasever, as in EPEL's and RPM Fusion's repo files) with the values
// the installer takes: the release version given, else the version of the
// root's system-release package, as dnf detects it.
func (s *step) keyVars(ctx context.Context, releaseVer string) *strings.Replacer {
	if releaseVer == "" || releaseVer == "/" {
		out, _ := s.rpm.command(ctx, "-q", "--qf", "%{VERSION}\n", "--whatprovides", "system-release").Output()
		releaseVer = releaseVerOfBuildImage(string(out))
	}
	basearch := s.cfg.ForceArch
	if basearch == "" {
		basearch, _ = flatpakref.ArchOfOCI(runtime.GOARCH)
	}
	if b, ok := map[string]string{"i686": "i386", "arm": "armhfp", "armv7hl": "armhfp"}[basearch]; ok {
		basearch = b
	}
	var pairs []string
	for name, v := range map[string]string{"basearch": basearch, "releasever": releaseVer} {
		if v != "" {
			pairs = append(pairs, "${"+name+"}", v, "$"+name, v)
		}
	}
	return strings.NewReplacer(pairs...)
}

// fetchKey reads a gpgkey URL: file:// from the step's file system,
// http(s):// through the step's proxy. A URL with installer variables
// ($releasever, $basearch) is the installer's to read.
func fetchKey(ctx context.Context, raw string) ([]byte, error) {
	if strings.Contains(raw, "$") {
		return nil, fmt.Errorf("it has installer variables")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	var r io.ReadCloser
	switch u.Scheme {
	case "file":
		if r, err = os.Open(u.Path); err != nil {
			return nil, err
		}
	case "http", "https":
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return nil, err
		}
		resp, err := (&http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}).Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("%s", resp.Status)
		}
		r = resp.Body
	default:
		return nil, fmt.Errorf("scheme %q", u.Scheme)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxKeySize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeySize {
		return nil, fmt.Errorf("larger than %d bytes", maxKeySize)
	}
	return data, nil
}
