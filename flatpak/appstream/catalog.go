package appstream

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Node is an XML document as Flatpak holds AppStream data (its FlatpakXml,
// read with GLib's GMarkup): elements with their attributes in order, and
// text. Comments, processing instructions and declarations are dropped.
type Node struct {
	// Name is an element's name ("" for text).
	Name  string
	Attrs []Attr
	// Text is a text node's text, unescaped.
	Text     string
	Children []*Node
}

// Attr is an attribute, its name as written (with its prefix).
type Attr struct {
	Name, Value string
}

// Parse reads a document into a root node named "root" holding its element,
// as flatpak_xml_parse does.
func Parse(r io.Reader) (*Node, error) {
	d := xml.NewDecoder(r)
	root := &Node{Name: "root"}
	stack := []*Node{root}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("AppStream XML: %w", err)
		}
		cur := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &Node{Name: qname(t.Name)}
			for _, a := range t.Attr {
				n.Attrs = append(n.Attrs, Attr{qname(a.Name), a.Value})
			}
			cur.Children = append(cur.Children, n)
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 1 || cur.Name != qname(t.Name) {
				return nil, fmt.Errorf("AppStream XML: unexpected </%s>", qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			// Text outside the document element is only white space,
			// which GMarkup does not report.
			if len(stack) > 1 {
				cur.Children = append(cur.Children, &Node{Text: string(t)})
			}
		}
	}
	if len(stack) != 1 {
		return nil, fmt.Errorf("AppStream XML: <%s> is not closed", stack[len(stack)-1].Name)
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// Bytes serializes a root node as flatpak_xml_to_string does: an XML
// declaration, then the tree, elements without children as <name/>.
func (n *Node) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	for _, c := range n.Children {
		c.write(&b)
	}
	return b.Bytes()
}

func (n *Node) write(b *bytes.Buffer) {
	if n.Name == "" {
		b.WriteString(escapeMarkup(n.Text))
		return
	}
	b.WriteString("<" + n.Name)
	for _, a := range n.Attrs {
		b.WriteString(" " + a.Name + "=\"" + escapeMarkup(a.Value) + "\"")
	}
	if len(n.Children) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	for _, c := range n.Children {
		c.write(b)
	}
	b.WriteString("</" + n.Name + ">")
}

// escapeMarkup escapes text as g_markup_escape_text does.
func escapeMarkup(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\'':
			b.WriteString("&apos;")
		case r == '"':
			b.WriteString("&quot;")
		case r >= 0x1 && r <= 0x8, r == 0xb, r == 0xc, r >= 0xe && r <= 0x1f, r >= 0x7f && r <= 0x84, r >= 0x86 && r <= 0x9f:
			fmt.Fprintf(&b, "&#x%x;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (n *Node) find(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func text(s string) *Node { return &Node{Text: s} }

// Bundle says what a catalog's components are part of: the Flatpak ref, and
// from the metadata file the runtime, the SDK and the tags.
type Bundle struct {
	Ref          string
	ID           string
	Runtime, SDK string
	Tags         []string
}

// Migrate returns the catalog Flatpak makes from an app's or runtime's
// composed AppStream catalog (files/share/app-info/xmls/ID.xml.gz), as
// flatpak_appstream_xml_migrate does: the components whose id is the ID (a
// .desktop suffix dropped), each with a <bundle type="flatpak"> naming the
// ref, runtime and SDK, and the tags as X-Flatpak-Tags metadata. ok is
// false when no component is the ID's.
func Migrate(source *Node, b Bundle) (out *Node, ok bool) {
	if len(source.Children) != 1 || source.Children[0].Name != "components" {
		return nil, false
	}
	dest := &Node{Name: "components", Attrs: []Attr{{"version", "0.8"}, {"origin", "flatpak"}}, Children: []*Node{text("\n  ")}}
	for _, c := range source.Children[0].Children {
		if validateComponent(c, b) {
			dest.Children = append(dest.Children, c)
			ok = true
		}
	}
	// flatpak_appstream_xml_root_to_data ends the list with a newline.
	dest.Children = append(dest.Children, text("\n"))
	return &Node{Name: "root", Children: []*Node{dest}}, ok
}

func validateComponent(c *Node, b Bundle) bool {
	if c.Name != "component" {
		return false
	}
	idNode := c.find("id")
	if idNode == nil || len(idNode.Children) == 0 || idNode.Children[0].Name != "" {
		return false
	}
	id := strings.TrimSpace(idNode.Children[0].Text)
	if strings.HasSuffix(id, ".desktop") && !strings.HasSuffix(b.ID, ".desktop") {
		id = strings.TrimSuffix(id, ".desktop")
	}
	if !strings.HasPrefix(id, b.ID) {
		return false
	}
	kept := c.Children[:0]
	for _, ch := range c.Children {
		if ch.Name != "bundle" {
			kept = append(kept, ch)
		}
	}
	c.Children = kept
	bundle := &Node{Name: "bundle", Attrs: []Attr{{"type", "flatpak"}}, Children: []*Node{text(b.Ref)}}
	if b.Runtime != "" && !strings.HasPrefix(b.Runtime, "runtime/") {
		bundle.Attrs = append(bundle.Attrs, Attr{"runtime", b.Runtime})
	}
	if b.SDK != "" {
		bundle.Attrs = append(bundle.Attrs, Attr{"sdk", b.SDK})
	}
	c.Children = append(c.Children, text("  "), bundle, text("\n  "))
	if len(b.Tags) > 0 {
		md := c.find("metadata")
		if md == nil {
			md = &Node{Name: "metadata"}
			c.Children = append(c.Children, text("  "), md, text("\n  "))
		}
		value := &Node{Name: "value", Attrs: []Attr{{"key", "X-Flatpak-Tags"}}, Children: []*Node{text(strings.Join(b.Tags, ","))}}
		md.Children = append(md.Children, text("\n       "), value, text("\n    "))
	}
	return true
}

// CatalogOf is the catalog of one metainfo file: its component in a
// <components> list, what a compose tool would start from. It stands in
// for a composed catalog when the runtime has no compose tool.
func CatalogOf(metainfo []byte) (*Node, error) {
	doc, err := Parse(bytes.NewReader(metainfo))
	if err != nil {
		return nil, err
	}
	if len(doc.Children) != 1 || doc.Children[0].Name != "component" {
		return nil, fmt.Errorf("the metainfo file's document element is not <component>")
	}
	comps := &Node{Name: "components", Children: []*Node{doc.Children[0]}}
	return &Node{Name: "root", Children: []*Node{comps}}, nil
}

// MetainfoPaths are where an app's AppStream file may be, relative to /app,
// in the order flatpak-builder looks: share/metainfo/ID.metainfo.xml, then
// the older names.
func MetainfoPaths(id string) []string {
	return []string{
		"share/metainfo/" + id + ".metainfo.xml",
		"share/metainfo/" + id + ".appdata.xml",
		"share/appdata/" + id + ".appdata.xml",
	}
}
