package llb

import (
	"os"
	"slices"
	"strings"
	"time"

	bkllb "github.com/moby/buildkit/client/llb"
)

// hybridDirs and hybridLinks make a Flatpak runtime image (files/ and
// metadata at the top) usable as a container root: the layout of the
// "container way" hybrid runtime (seeds/01).
var hybridDirs = []struct {
	path string
	mode uint32
}{
	{"/root", 0o700},
	{"/run", 0o755},
	{"/var", 0o755},
	{"/var/db", 0o755},
	{"/app", 0o755},
}

var hybridLinks = []struct{ target, path string }{
	{"/files", "/usr"},
	{"/files/etc", "/etc"},
	{"/usr/bin", "/bin"},
	{"/usr/sbin", "/sbin"},
	{"/usr/lib", "/lib"},
	{"/usr/lib64", "/lib64"},
	{"../run", "/var/run"},
	{"/etc/localtime", "/var/db/zoneinfo"},
}

// Hybrid adds the container entries to a plain Flatpak runtime image. An
// entry whose top-level name the image has already (have: names at the
// image's top, e.g. an etc link of its own, or a var folder) is left as the
// image has it: a symlink made over an existing path fails, or would be
// made where that path's own link points.
func Hybrid(runtime bkllb.State, epoch *time.Time, have []string, opts ...bkllb.ConstraintsOpt) bkllb.State {
	kept := func(p string) bool {
		top, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
		return slices.Contains(have, top)
	}
	// A nil FileAction's methods start a chain.
	var fa *bkllb.FileAction
	for _, d := range hybridDirs {
		if kept(d.path) {
			continue
		}
		mo := []bkllb.MkdirOption{bkllb.WithParents(true)}
		if epoch != nil {
			mo = append(mo, bkllb.WithCreatedTime(*epoch))
		}
		fa = fa.Mkdir(d.path, os.FileMode(d.mode), mo...)
	}
	// Mkdir cannot set the sticky bit; a copy of an empty folder can.
	empty := bkllb.Scratch().File(bkllb.Mkdir("/tmp", 0o755), bkllb.WithCustomName("[internal] empty folder"))
	for _, tmp := range []string{"/tmp", "/var/tmp"} {
		if kept(tmp) {
			continue
		}
		fa = fa.Copy(empty, "/tmp", tmp, &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o1777}, CreatedTime: epoch})
	}
	for _, l := range hybridLinks {
		if kept(l.path) {
			continue
		}
		var so []bkllb.SymlinkOption
		if epoch != nil {
			so = append(so, bkllb.WithCreatedTime(*epoch))
		}
		fa = fa.Symlink(l.target, l.path, so...)
	}
	if fa == nil {
		return runtime
	}
	opts = append(opts, bkllb.WithCustomName("make the runtime a hybrid image"))
	return runtime.File(fa, opts...)
}

// rootLinks is the skeleton of a root whose /usr and /etc are mounted in:
// the links of merged /usr (relative, so they hold inside a chroot) and the
// folders scriptlets expect. An app installed with a build image's
// installer onto a runtime gets it at /sysroot, so that rpm's scriptlets
// and file triggers, which run chrooted there, find /bin/sh and the loader.
func rootLinks(epoch *time.Time) bkllb.State {
	var fa *bkllb.FileAction // a nil one's methods start a chain
	mo := []bkllb.MkdirOption{bkllb.WithParents(true)}
	so := []bkllb.SymlinkOption{}
	if epoch != nil {
		mo = append(mo, bkllb.WithCreatedTime(*epoch))
		so = append(so, bkllb.WithCreatedTime(*epoch))
	}
	for _, d := range []string{"/usr", "/etc", "/app", "/dev", "/proc", "/run", "/var/tmp"} {
		fa = fa.Mkdir(d, 0o755, mo...)
	}
	fa = fa.Mkdir("/tmp", 0o777, mo...)
	for _, l := range [][2]string{{"usr/bin", "/bin"}, {"usr/sbin", "/sbin"}, {"usr/lib", "/lib"}, {"usr/lib64", "/lib64"}} {
		fa = fa.Symlink(l[0], l[1], so...)
	}
	return bkllb.Scratch().File(fa, bkllb.WithCustomName("[internal] root skeleton for the runtime's tree"))
}
