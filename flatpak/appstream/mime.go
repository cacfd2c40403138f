package appstream

import (
	"bytes"
	"fmt"
	"strings"
)

// RenameMimeIcons renames, in an app's shared-mime-info file
// (share/mime/packages/ID.xml), the icons of its MIME types named in icons
// to ID.ICON, as flatpak-builder's rename-mime-icons does: an <icon> or
// <generic-icon> naming one gets the new name, and a type without either
// whose name (with '/' as '-') is one of them gets an <icon> (the icon
// shared-mime-info would have used). The file is rewritten as Flatpak's XML
// code writes it.
func RenameMimeIcons(doc []byte, id string, icons []string) ([]byte, error) {
	root, err := Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	info := root.find("mime-info")
	if info == nil {
		return nil, fmt.Errorf("no <mime-info> node")
	}
	for _, icon := range icons {
		for _, typ := range info.Children {
			if typ.Name != "mime-type" {
				continue
			}
			n := typ.find("icon")
			if n == nil {
				n = typ.find("generic-icon")
			}
			if n != nil {
				if n.attr("name") == icon {
					n.setAttr("name", id+"."+icon)
				}
				continue
			}
			if strings.ReplaceAll(typ.attr("type"), "/", "-") == icon {
				typ.Children = append(typ.Children, &Node{Name: "icon", Attrs: []Attr{{"name", id + "." + icon}}})
			}
		}
	}
	return root.Bytes(), nil
}

func (n *Node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func (n *Node) setAttr(name, value string) {
	for i, a := range n.Attrs {
		if a.Name == name {
			n.Attrs[i].Value = value
			return
		}
	}
	n.Attrs = append(n.Attrs, Attr{name, value})
}
