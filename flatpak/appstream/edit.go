// Package appstream holds what this project knows of AppStream metadata
// (metainfo/appdata files): the edits flatpak-builder makes to an app's
// file when it renames the desktop file or sets its license, done on the
// text so that everything else stays byte for byte the packager's.
package appstream

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Element names an element by its name and, optionally, attribute values
// it must have.
type Element struct {
	Name  string
	Attrs map[string]string
}

// SetText replaces the text of every el whose text is old (any text when
// old is "") with new, and returns the edited document and how many
// elements changed. Elements holding other elements are left alone.
func SetText(doc []byte, el Element, old, new string) ([]byte, int, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	type span struct{ start, end int64 }
	var spans []span
	var (
		inside    bool
		depth     int
		textStart int64
		text      strings.Builder
		mixed     bool
	)
	var stack []xml.Name
	level := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			level++
			stack = append(stack, t.Name)
			if inside {
				mixed = true
				continue
			}
			if matches(t, el) {
				inside, depth, mixed = true, level, false
				textStart = d.InputOffset()
				text.Reset()
			}
		case xml.CharData:
			if inside {
				text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != t.Name {
				return nil, 0, fmt.Errorf("not well-formed XML: unexpected </%s>", t.Name.Local)
			}
			stack = stack[:len(stack)-1]
			if inside && level == depth {
				end := d.InputOffset() - int64(len(t.Name.Local)) - 3
				if t.Name.Space != "" {
					end -= int64(len(t.Name.Space)) + 1
				}
				if !mixed && (old == "" || strings.TrimSpace(text.String()) == old) && end >= textStart {
					spans = append(spans, span{textStart, end})
				}
				inside = false
			}
			level--
		}
	}
	if len(stack) != 0 {
		return nil, 0, fmt.Errorf("not well-formed XML: <%s> is not closed", stack[len(stack)-1].Local)
	}
	if len(spans) == 0 {
		return doc, 0, nil
	}
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(new))
	var out bytes.Buffer
	last := int64(0)
	for _, s := range spans {
		out.Write(doc[last:s.start])
		out.Write(esc.Bytes())
		last = s.end
	}
	out.Write(doc[last:])
	return out.Bytes(), len(spans), nil
}

func matches(t xml.StartElement, el Element) bool {
	if t.Name.Local != el.Name || t.Name.Space != "" {
		return false
	}
	for k, v := range el.Attrs {
		found := false
		for _, a := range t.Attr {
			if a.Name.Local == k && a.Name.Space == "" && a.Value == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// RenameDesktopFile points an app's metainfo at its renamed desktop file,
// as flatpak-builder's rename-desktop-file does: the desktop-id launchable
// and the component id, with or without ".desktop".
func RenameDesktopFile(doc []byte, oldFile, id string) ([]byte, error) {
	edits := []struct {
		el       Element
		old, new string
	}{
		{Element{Name: "launchable", Attrs: map[string]string{"type": "desktop-id"}}, oldFile, id + ".desktop"},
		{Element{Name: "id"}, oldFile, id + ".desktop"},
		{Element{Name: "id"}, strings.TrimSuffix(oldFile, ".desktop"), id},
	}
	for _, e := range edits {
		var err error
		if doc, _, err = SetText(doc, e.el, e.old, e.new); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// SetLicense sets the project_license, as flatpak-builder's appdata-license
// does.
func SetLicense(doc []byte, license string) ([]byte, error) {
	doc, _, err := SetText(doc, Element{Name: "project_license"}, "", license)
	return doc, err
}
