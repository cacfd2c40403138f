package finish

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/appstream"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
)

// app finishes an app's /app as flatpak-builder (1.4) does in its cleanup,
// in its order: the AppStream file moved to share/metainfo/ID.metainfo.xml
// and given the license; the desktop file renamed and the AppStream id
// with it; the MIME file and icons renamed; the desktop file rewritten;
// AppStream composed.
func (f *finisher) app(ctx context.Context) error {
	a := f.cfg.App
	if a == nil {
		return fmt.Errorf("no app settings")
	}
	id := a.ID
	apps := f.path("share/applications")

	appdata := ""
	if src := f.findAppdata(a); src != "" {
		appdata = f.path("share/metainfo/" + id + ".metainfo.xml")
		if src != appdata {
			fmt.Fprintf(f.out, "flatpak-frontend: renaming %s to share/metainfo/%s.metainfo.xml\n", filepath.Base(src), id)
			if err := os.MkdirAll(filepath.Dir(appdata), 0o755); err != nil {
				return err
			}
			if err := os.Rename(src, appdata); err != nil {
				return err
			}
		}
	} else if a.RenameAppdataFile != "" {
		return keyErrorf("rename-appdata-file", "no %s in /app/share/metainfo or /app/share/appdata", a.RenameAppdataFile)
	}
	if a.AppdataLicense != "" && appdata != "" {
		if err := f.editFile(appdata, func(dt []byte) ([]byte, error) { return appstream.SetLicense(dt, a.AppdataLicense) }); err != nil {
			return &KeyError{"appdata-license", err}
		}
	}

	if a.RenameDesktopFile != "" || a.RenameAppdataFile != "" {
		if a.RenameDesktopFile != "" {
			from := filepath.Join(apps, a.RenameDesktopFile)
			if _, err := os.Lstat(from); err != nil {
				return keyErrorf("rename-desktop-file", "no %s in /app/share/applications", a.RenameDesktopFile)
			}
			if err := os.Rename(from, filepath.Join(apps, id+".desktop")); err != nil {
				return err
			}
		}
		if appdata != "" {
			if err := f.editFile(appdata, func(dt []byte) ([]byte, error) {
				return appstream.RenameID(dt, id, a.RenameDesktopFile)
			}); err != nil {
				key := "rename-appdata-file"
				if a.RenameDesktopFile != "" {
					key = "rename-desktop-file"
				}
				return &KeyError{key, err}
			}
		}
	}

	if a.RenameMimeFile != "" {
		from := f.path("share/mime/packages/" + a.RenameMimeFile)
		if _, err := os.Lstat(from); err != nil {
			return keyErrorf("rename-mime-file", "no %s in /app/share/mime/packages", a.RenameMimeFile)
		}
		if err := os.Rename(from, f.path("share/mime/packages/"+id+".xml")); err != nil {
			return err
		}
	}
	if a.RenameIcon != "" {
		if err := f.renameIcons(a.RenameIcon, id, a.CopyIcon, false); err != nil {
			return &KeyError{"rename-icon", err}
		}
	}
	if len(a.RenameMimeIcons) > 0 {
		for _, icon := range a.RenameMimeIcons {
			if err := f.renameIcons(icon, id, a.CopyIcon, true); err != nil {
				return &KeyError{"rename-mime-icons", err}
			}
		}
		mime := f.path("share/mime/packages/" + id + ".xml")
		if err := f.editFile(mime, func(dt []byte) ([]byte, error) { return appstream.RenameMimeIcons(dt, id, a.RenameMimeIcons) }); err != nil {
			return &KeyError{"rename-mime-icons", err}
		}
	}

	desktop := filepath.Join(apps, id+".desktop")
	if a.RenameIcon != "" || a.DesktopFileNamePrefix != "" || a.DesktopFileNameSuffix != "" || a.RenameDesktopFile != "" {
		if err := f.editFile(desktop, func(dt []byte) ([]byte, error) { return rewriteDesktop(dt, a), nil }); err != nil {
			return &KeyError{desktopKey(a), fmt.Errorf("rewriting the desktop file: %w", err)}
		}
	}

	if a.AppstreamCompose && appdata != "" {
		if err := f.compose(ctx, id); err != nil {
			return &KeyError{"appstream-compose", err}
		}
	}
	return f.pycache()
}

// desktopGroup is the desktop file's main group.
const desktopGroup = "Desktop Entry"

// rewriteDesktop edits the desktop file as flatpak-builder does: the old
// name recorded in X-Flatpak-RenamedFrom, the icon named by the app ID
// (and the localized icons that named the old icon), the names given the
// prefix and suffix.
func rewriteDesktop(dt []byte, a *buildstep.AppFinish) []byte {
	l := keyfile.ParseLines(dt)
	if a.RenameDesktopFile != "" {
		old, _ := l.Value(desktopGroup, "X-Flatpak-RenamedFrom")
		if old != "" && !strings.HasSuffix(old, ";") {
			old += ";"
		}
		l.Set(desktopGroup, "X-Flatpak-RenamedFrom", old+keyfile.EscapeListElement(a.RenameDesktopFile)+";")
	}
	keys := l.Keys(desktopGroup)
	if a.RenameIcon != "" {
		original, _ := l.Value(desktopGroup, "Icon")
		original = keyfile.Unescape(original)
		l.Set(desktopGroup, "Icon", keyfile.EscapeString(a.ID))
		for _, k := range keys {
			if v, _ := l.Value(desktopGroup, k); strings.HasPrefix(k, "Icon[") && keyfile.Unescape(v) == original {
				l.Set(desktopGroup, k, keyfile.EscapeString(a.ID))
			}
		}
	}
	if a.DesktopFileNamePrefix != "" || a.DesktopFileNameSuffix != "" {
		for _, k := range keys {
			if k == "Name" || strings.HasPrefix(k, "Name[") {
				v, _ := l.Value(desktopGroup, k)
				l.Set(desktopGroup, k, keyfile.EscapeString(a.DesktopFileNamePrefix+keyfile.Unescape(v)+a.DesktopFileNameSuffix))
			}
		}
	}
	return l.Bytes()
}

// findAppdata is the app's AppStream file, where flatpak-builder looks for
// it: share/metainfo, then share/appdata; the name rename-appdata-file gives,
// else ID.metainfo.xml, then ID.appdata.xml.
func (f *finisher) findAppdata(a *buildstep.AppFinish) string {
	for _, dir := range []string{"share/metainfo", "share/appdata"} {
		for _, ext := range []string{".metainfo.xml", ".appdata.xml"} {
			name := a.ID + ext
			if a.RenameAppdataFile != "" {
				name = a.RenameAppdataFile
			}
			if p := f.path(dir + "/" + name); exists(p) {
				return p
			}
		}
	}
	return ""
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// path is a path of the tree, given relative to its root.
func (f *finisher) path(rel string) string { return filepath.Join(f.root, filepath.FromSlash(rel)) }

// renameIcons renames (or with copyIcon hard-links) the icons named from,
// and their symbolic variants, to the app's ID, as flatpak-builder does:
// regular files three folders below share/icons (THEME/SIZE/CONTEXT/).
// For MIME icons (mime) the new name is ID.NAME, extension included.
func (f *finisher) renameIcons(from, id string, copyIcon, mime bool) error {
	icons := f.path("share/icons")
	found := false
	err := filepath.WalkDir(icons, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == icons {
				return fs.SkipAll
			}
			return err
		}
		rel, _ := filepath.Rel(icons, p)
		rest, ok := strings.CutPrefix(d.Name(), from)
		if !ok || !d.Type().IsRegular() || strings.Count(rel, "/") != 3 ||
			!(strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "-symbolic.")) {
			return nil
		}
		found = true
		to := id + rest
		if mime {
			to = id + "." + d.Name()
		}
		to = filepath.Join(filepath.Dir(p), to)
		if copyIcon {
			return os.Link(p, to)
		}
		return os.Rename(p, to)
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no icon named %s in /app/share/icons", from)
	}
	return nil
}

// compose runs the runtime's AppStream compose tool on /app, writing the
// catalog and icons where Flatpak reads them.
func (f *finisher) compose(ctx context.Context, id string) error {
	var cmd *exec.Cmd
	switch {
	case has("appstreamcli"):
		// flatpak-builder's arguments (with its default URL policy).
		cmd = exec.CommandContext(ctx, "appstreamcli", "compose", "--prefix=/", "--origin="+id,
			"--result-root="+f.root, "--data-dir="+f.path("share/app-info/xmls"),
			"--icons-dir="+f.path("share/app-info/icons/flatpak"), "--components="+id+","+id+".desktop", f.root)
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

// KeyError is a finishing error caused by the value of the spec key Key
// (its YAML name, such as "rename-icon").
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

func keyErrorf(key, format string, args ...any) error {
	return &KeyError{key, fmt.Errorf(format, args...)}
}

// desktopKey is the first key set of those that have the desktop file
// rewritten.
func desktopKey(a *buildstep.AppFinish) string {
	switch {
	case a.RenameDesktopFile != "":
		return "rename-desktop-file"
	case a.RenameIcon != "":
		return "rename-icon"
	case a.DesktopFileNamePrefix != "":
		return "desktop-file-name-prefix"
	}
	return "desktop-file-name-suffix"
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
// Errors name the file as the app sees it (/app/...).
func (f *finisher) editFile(p string, edit func([]byte) ([]byte, error)) error {
	name := p
	if rel, err := filepath.Rel(f.root, p); err == nil {
		name = filepath.Join(f.cfg.Prefix, rel)
	}
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("there is no %s", name)
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file; refusing to edit it", name)
	}
	dt, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	out, err := edit(dt)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if string(out) == string(dt) {
		return nil
	}
	return os.WriteFile(p, out, fi.Mode().Perm())
}
