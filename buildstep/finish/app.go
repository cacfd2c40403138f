package finish

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/appstream"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
)

// app finishes an app's /app as flatpak-builder does for an RPM-built app.
func (f *finisher) app(ctx context.Context) error {
	a := f.cfg.App
	if a == nil {
		return fmt.Errorf("no app settings")
	}
	id := a.ID
	apps := f.path("share/applications")

	if a.RenameAppdataFile != "" {
		if err := f.renameAppdata(a.RenameAppdataFile, id); err != nil {
			return err
		}
	}
	appdata := ""
	for _, p := range []string{"share/metainfo/" + id + ".metainfo.xml", "share/appdata/" + id + ".appdata.xml"} {
		if _, err := os.Lstat(f.path(p)); err == nil {
			appdata = f.path(p)
			break
		}
	}

	if a.RenameDesktopFile != "" {
		from := filepath.Join(apps, a.RenameDesktopFile)
		if _, err := os.Lstat(from); err != nil {
			return fmt.Errorf("rename-desktop-file: no %s in /app/share/applications", a.RenameDesktopFile)
		}
		if err := os.Rename(from, filepath.Join(apps, id+".desktop")); err != nil {
			return err
		}
		if appdata != "" {
			if err := editFile(appdata, func(dt []byte) ([]byte, error) {
				return appstream.RenameDesktopFile(dt, a.RenameDesktopFile, id)
			}); err != nil {
				return err
			}
		}
	}

	if a.RenameIcon != "" {
		if err := f.renameIcon(a.RenameIcon, id, a.CopyIcon); err != nil {
			return err
		}
	}

	desktop := filepath.Join(apps, id+".desktop")
	if _, err := os.Lstat(desktop); err == nil && (a.DesktopFileNamePrefix != "" || a.DesktopFileNameSuffix != "" || a.RenameIcon != "") {
		prefix, suffix := keyfile.EscapeString(a.DesktopFileNamePrefix), keyfile.EscapeString(a.DesktopFileNameSuffix)
		if err := editFile(desktop, func(dt []byte) ([]byte, error) {
			return keyfile.EditValues(dt, "Desktop Entry", func(key, value string) string {
				switch {
				case key == "Name" || strings.HasPrefix(key, "Name["):
					return prefix + value + suffix
				case key == "Icon" && a.RenameIcon != "" && keyfile.Unescape(value) == a.RenameIcon:
					return keyfile.EscapeString(id)
				}
				return value
			}), nil
		}); err != nil {
			return err
		}
	}

	if a.AppdataLicense != "" && appdata != "" {
		if err := editFile(appdata, func(dt []byte) ([]byte, error) { return appstream.SetLicense(dt, a.AppdataLicense) }); err != nil {
			return err
		}
	}

	if a.AppstreamCompose && appdata != "" {
		if err := f.compose(ctx, id); err != nil {
			return err
		}
	}
	return f.pycache()
}

// path is a path of the tree, given relative to its root.
func (f *finisher) path(rel string) string { return filepath.Join(f.root, filepath.FromSlash(rel)) }

func (f *finisher) renameAppdata(name, id string) error {
	for _, dir := range []struct{ rel, ext string }{{"share/metainfo", "metainfo.xml"}, {"share/appdata", "appdata.xml"}} {
		from := f.path(dir.rel + "/" + name)
		if _, err := os.Lstat(from); err == nil {
			return os.Rename(from, f.path(dir.rel+"/"+id+"."+dir.ext))
		}
	}
	for _, p := range []string{"share/metainfo/" + id + ".metainfo.xml", "share/appdata/" + id + ".appdata.xml"} {
		if _, err := os.Lstat(f.path(p)); err == nil {
			return nil
		}
	}
	return fmt.Errorf("rename-appdata-file: no %s in /app/share/metainfo or /app/share/appdata", name)
}

// renameIcon renames (or copies) every icon named from, and its symbolic
// variant, to the app's ID.
func (f *finisher) renameIcon(from, id string, copyIcon bool) error {
	found := false
	err := filepath.WalkDir(f.path("share/icons"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == f.path("share/icons") {
				return fs.SkipAll
			}
			return err
		}
		base := d.Name()
		rest, ok := strings.CutPrefix(base, from)
		if !ok || !(strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "-symbolic.")) {
			return nil
		}
		found = true
		to := filepath.Join(filepath.Dir(p), id+rest)
		if copyIcon {
			return copyFile(p, to)
		}
		return os.Rename(p, to)
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("rename-icon: no icon named %s in /app/share/icons", from)
	}
	return nil
}

// compose runs the runtime's AppStream compose tool on /app, writing the
// catalog and icons where Flatpak reads them.
func (f *finisher) compose(ctx context.Context, id string) error {
	var cmd *exec.Cmd
	switch {
	case has("appstreamcli"):
		cmd = exec.CommandContext(ctx, "appstreamcli", "compose", "--no-partial-urls", "--prefix=/", "--origin="+id,
			"--result-root="+f.root, "--data-dir="+f.path("share/app-info/xmls"),
			"--icons-dir="+f.path("share/app-info/icons/flatpak"), f.root)
	case has("appstream-compose"):
		cmd = exec.CommandContext(ctx, "appstream-compose", "--prefix="+f.root, "--origin=flatpak", "--basename="+id, id)
	default:
		fmt.Fprintln(f.out, "flatpak-frontend: the runtime has no appstreamcli or appstream-compose; AppStream data not composed")
		return nil
	}
	cmd.Stdout, cmd.Stderr = f.out, f.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(cmd.Args[:2], " "), err)
	}
	return nil
}

func has(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// pycache sets the source mtime of valid Python byte code to 0: it records
// its source's mtime, and a Flatpak install dates every file 1970-01-01
// (ostree keeps no mtimes). flatpak-builder does the same, so Python does
// not compile every module again on every start. Symlinks are left alone.
func (f *finisher) pycache() error {
	return filepath.WalkDir(f.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Base(filepath.Dir(p)) != "__pycache__" || !strings.HasSuffix(d.Name(), ".pyc") || !d.Type().IsRegular() {
			return nil
		}
		src := filepath.Join(filepath.Dir(filepath.Dir(p)), strings.SplitN(d.Name(), ".", 2)[0]+".py")
		st, err := os.Stat(src)
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		return zeroPycMtime(p, st)
	})
}

// zeroPycMtime zeroes the source mtime of a .pyc file (PEP 552 layout:
// magic, flags, mtime, size) that is valid for src.
func zeroPycMtime(pyc string, src fs.FileInfo) error {
	file, err := os.OpenFile(pyc, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer file.Close()
	var head [16]byte
	if n, _ := file.ReadAt(head[:], 0); n < 16 {
		return nil
	}
	// Python 3.7 (magic 3390) and later have the flags word.
	if binary.LittleEndian.Uint16(head[:2]) < 3390 {
		return nil
	}
	flags := binary.LittleEndian.Uint32(head[4:])
	mtime := binary.LittleEndian.Uint32(head[8:])
	size := binary.LittleEndian.Uint32(head[12:])
	if flags != 0 || mtime != uint32(src.ModTime().Unix()) || size != uint32(src.Size()) {
		return nil
	}
	_, err = file.WriteAt(make([]byte, 4), 8)
	return err
}

// editFile rewrites a regular file of the tree with edit. A symlink planted
// by a package or cleanup-commands could point anywhere: it is refused.
func editFile(p string, edit func([]byte) ([]byte, error)) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file; refusing to edit it", p)
	}
	dt, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	out, err := edit(dt)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if string(out) == string(dt) {
		return nil
	}
	return os.WriteFile(p, out, fi.Mode().Perm())
}

// copyFile copies a file, keeping its mode; a symlink is copied as one.
func copyFile(from, to string) error {
	fi, err := os.Lstat(from)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(from)
		if err != nil {
			return err
		}
		return os.Symlink(target, to)
	}
	dt, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.WriteFile(to, dt, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Chtimes(to, fi.ModTime(), fi.ModTime())
}
