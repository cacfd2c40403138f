package harness

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// A Debian root made into a Fedora-like runtime needs an rpmdb that says
// what the root provides, as a Fedora runtime's does: debianPackagesSpec
// writes one rpm spec with a subpackage per installed Debian package, named
// and versioned like it, listing its files (as %ghost: the files are the
// root's, the packages only record them) and providing what rpm's own
// dependency generator (elfdeps) finds in its shared libraries: sonames
// with their symbol versions (libgtk-4.so.1()(64bit),
// libc.so.6(GLIBC_2.34)(64bit)), the way an app's automatic Requires name
// them. Installed with rpm -i --justdb, they let dnf resolve an app built
// with automatic dependencies exactly as on a Fedora runtime.

// debianPackage is an installed package of a Debian root.
type debianPackage struct {
	name, epoch, version, release, arch string
	files                               []string
	provides                            []string
}

// installedDebianPackages reads the installed packages of root from dpkg's status
// file and file lists, with file paths as they are in a merged-/usr root.
func installedDebianPackages(root string) ([]*debianPackage, error) {
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		return nil, err
	}
	var pkgs []*debianPackage
	for _, stanza := range strings.Split(string(status), "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, " ") {
				fields[k] = v
			}
		}
		if fields["Package"] == "" || fields["Status"] != "install ok installed" {
			continue
		}
		p := &debianPackage{name: fields["Package"]}
		p.epoch, p.version, p.release = rpmVersion(fields["Version"])
		p.arch = map[string]string{"amd64": "x86_64", "all": "noarch"}[fields["Architecture"]]
		if p.arch == "" {
			p.arch = fields["Architecture"]
		}
		list, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/info", p.name+".list"))
		if os.IsNotExist(err) {
			list, err = os.ReadFile(filepath.Join(root, "var/lib/dpkg/info", p.name+":"+fields["Architecture"]+".list"))
		}
		if err != nil {
			return nil, fmt.Errorf("file list of %s: %w", p.name, err)
		}
		for _, f := range strings.Split(strings.TrimSpace(string(list)), "\n") {
			f = merged(root, f)
			if fi, err := os.Lstat(filepath.Join(root, f)); err == nil && !fi.IsDir() {
				p.files = append(p.files, f)
			}
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].name < pkgs[j].name })
	return pkgs, nil
}

// merged is a path of a package's file list as it is in a merged-/usr root,
// where /bin, /sbin and /lib* are links into /usr.
func merged(root, p string) string {
	top, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if target, err := os.Readlink(filepath.Join(root, top)); err == nil && strings.HasPrefix(target, "usr/") && rest != "" {
		return "/" + target + "/" + rest
	}
	return p
}

// rpmVersion splits a Debian version into rpm's epoch, version and
// release, replacing what rpm does not allow with '.'.
func rpmVersion(v string) (epoch, version, release string) {
	if e, rest, ok := strings.Cut(v, ":"); ok {
		epoch, v = e, rest
	}
	version, release = v, "0"
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		version, release = v[:i], v[i+1:]
	}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+~^", r) {
				return r
			}
			return '.'
		}, s)
	}
	return epoch, clean(version), clean(release)
}

// findProvides fills in what each package provides: the sonames of its
// shared libraries, as rpm's elfdeps names them (the host's rpm reads the
// ELF files in place), and the /bin and /sbin paths of its programs, which
// merged /usr also serves; extra adds explicit ones by package.
func findProvides(ctx context.Context, root string, pkgs []*debianPackage, extra map[string][]string) error {
	for _, p := range pkgs {
		var elfs []string
		for _, f := range p.files {
			if fi, err := os.Lstat(filepath.Join(root, f)); err == nil && fi.Mode().IsRegular() && isELF(filepath.Join(root, f)) {
				elfs = append(elfs, filepath.Join(root, f))
			}
			for _, dir := range []string{"/usr/bin/", "/usr/sbin/"} {
				if name, ok := strings.CutPrefix(f, dir); ok && !strings.Contains(name, "/") {
					p.provides = append(p.provides, "/"+strings.TrimPrefix(dir, "/usr/")+name)
				}
			}
		}
		if len(elfs) > 0 {
			cmd := exec.CommandContext(ctx, "/usr/lib/rpm/elfdeps", "--provides")
			cmd.Stdin = strings.NewReader(strings.Join(elfs, "\n") + "\n")
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("elfdeps of %s: %w", p.name, err)
			}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); line != "" {
					p.provides = append(p.provides, line)
				}
			}
		}
		p.provides = append(p.provides, extra[p.name]...)
		sort.Strings(p.provides)
		p.provides = compactStrings(p.provides)
	}
	return nil
}

func compactStrings(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func isELF(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// debianPackagesSpec writes the spec whose subpackages record pkgs.
func debianPackagesSpec(summary string, pkgs []*debianPackage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Name: debian-packages\nVersion: 1\nRelease: 1\nSummary: %s\nLicense: various\nAutoReqProv: no\n%%description\n%s\n", summary, summary)
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\n%%package -n %s\nVersion: %s\nRelease: %s\nSummary: Debian's %s, as this runtime holds it\n", p.name, p.version, p.release, p.name)
		if p.epoch != "" {
			fmt.Fprintf(&b, "Epoch: %s\n", p.epoch)
		}
		if p.arch == "noarch" {
			b.WriteString("BuildArch: noarch\n")
		}
		for _, pr := range p.provides {
			fmt.Fprintf(&b, "Provides: %s\n", pr)
		}
		fmt.Fprintf(&b, "%%description -n %s\nDebian's package %s.\n", p.name, p.name)
	}
	b.WriteString("\n%install\nmkdir -p %{buildroot}\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\n%%files -n %s\n", p.name)
		for _, f := range p.files {
			// Names rpm would read as globs, macros or quotes are left
			// out of the record (none of them is a file others require).
			if strings.ContainsAny(f, "*?[]{}\\\"%'\n\t") {
				continue
			}
			fmt.Fprintf(&b, "%%ghost \"%s\"\n", f)
		}
	}
	return b.String()
}
