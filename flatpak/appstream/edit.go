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

// SetLicense sets the project_license of every component, adding one where
// a component has none, as flatpak-builder's appdata-license does. The rest
// of the file is kept as it was.
func SetLicense(doc []byte, license string) ([]byte, error) {
	doc, _, err := SetText(doc, Element{Name: "project_license"}, "", license)
	if err != nil {
		return nil, err
	}
	// Components without one get it before their end tag.
	d := xml.NewDecoder(bytes.NewReader(doc))
	var inserts []int64
	depth, compDepth, has := 0, 0, false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Local == "component" && t.Name.Space == "" && compDepth == 0 {
				compDepth, has = depth, false
			} else if compDepth != 0 && depth == compDepth+1 && t.Name.Local == "project_license" {
				has = true
			}
		case xml.EndElement:
			if compDepth != 0 && depth == compDepth {
				if !has {
					inserts = append(inserts, d.InputOffset()-int64(len("</component>")))
				}
				compDepth = 0
			}
			depth--
		}
	}
	if len(inserts) == 0 {
		return doc, nil
	}
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(license))
	el := "<project_license>" + esc.String() + "</project_license>\n"
	var out bytes.Buffer
	last := int64(0)
	for _, at := range inserts {
		out.Write(doc[last:at])
		out.WriteString(el)
		last = at
	}
	out.Write(doc[last:])
	return out.Bytes(), nil
}

// RenameID makes an app's metainfo name the app by its ID, as
// flatpak-builder does when it renames the desktop file or the metainfo
// file: the component's <id> becomes the ID (the old one is kept as a
// <provides><id>), and a desktop-id launchable naming the renamed desktop
// file names ID.desktop. The file is rewritten as Flatpak's XML code writes
// it (comments are dropped).
func RenameID(doc []byte, id, renamedDesktopFile string) ([]byte, error) {
	root, err := Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	comp := root.find("component")
	if comp == nil {
		comp = root.find("application")
	}
	if comp == nil {
		return nil, fmt.Errorf("no <component> node")
	}
	if n := comp.find("id"); n != nil && len(n.Children) > 0 && n.Children[0].Text != id {
		old := n.Children[0].Text
		n.Children[0] = text(id)
		provides := comp.find("provides")
		if provides == nil {
			provides = &Node{Name: "provides"}
			comp.Children = append(comp.Children, provides)
		}
		provides.Children = append(provides.Children, &Node{Name: "id", Children: []*Node{text(old)}})
	}
	if n := comp.find("launchable"); n != nil && len(n.Children) > 0 && renamedDesktopFile != "" && n.Children[0].Text == renamedDesktopFile {
		n.Children[0] = text(id + ".desktop")
	}
	return root.Bytes(), nil
}
