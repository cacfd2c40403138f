package keyfile

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// File is a key file: ordered groups of ordered key=value pairs. Values are
// stored as written in the file (escaped). The zero value is an empty file.
type File struct {
	groups []*group
}

type group struct {
	name string
	keys []pair
}

type pair struct {
	key, value string
}

// New returns an empty key file.
func New() *File { return &File{} }

func (f *File) lookup(name string) (int, *group) {
	for i, g := range f.groups {
		if g.name == name {
			return i, g
		}
	}
	return -1, nil
}

// ValidGroupName reports why name cannot be a group name, or nil. GLib
// refuses empty names and names containing '[', ']' or control characters;
// this also refuses invalid UTF-8.
func ValidGroupName(name string) error {
	if name == "" {
		return fmt.Errorf("group name is empty")
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("group name %q is not valid UTF-8", name)
	}
	for _, r := range name {
		switch {
		case r == '[' || r == ']':
			return fmt.Errorf("group name %q contains %q", name, r)
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("group name %q contains control character %q", name, r)
		}
	}
	return nil
}

// ValidKeyName reports why name cannot be a key name, or nil. Like GLib it
// refuses empty names, '=', '[' and ']' (GLib allows a trailing "[locale]";
// this package does not write localized keys), and leading or trailing
// spaces; unlike GLib it also refuses control characters (GLib would write a
// key with a newline, breaking the file), a leading '#' (GLib reads the line
// back as a comment) and invalid UTF-8.
func ValidKeyName(name string) error {
	if name == "" {
		return fmt.Errorf("key name is empty")
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("key name %q is not valid UTF-8", name)
	}
	if name[0] == ' ' || name[len(name)-1] == ' ' {
		return fmt.Errorf("key name %q starts or ends with a space", name)
	}
	if name[0] == '#' {
		return fmt.Errorf("key name %q starts with '#', which reads back as a comment", name)
	}
	for _, r := range name {
		switch {
		case r == '=' || r == '[' || r == ']':
			return fmt.Errorf("key name %q contains %q", name, r)
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("key name %q contains control character %q", name, r)
		}
	}
	return nil
}

func validValue(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("value %q is not valid UTF-8", s)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("value %q contains a NUL byte", s)
	}
	return nil
}

// SetValue sets the raw (already escaped) value of key in group, like
// g_key_file_set_value. The value must not contain a line break.
func (f *File) SetValue(groupName, key, value string) error {
	if err := ValidGroupName(groupName); err != nil {
		return err
	}
	if err := ValidKeyName(key); err != nil {
		return err
	}
	if err := validValue(value); err != nil {
		return err
	}
	if strings.ContainsAny(value, "\n\r") {
		return fmt.Errorf("raw value %q contains a line break", value)
	}
	_, g := f.lookup(groupName)
	if g == nil {
		g = &group{name: groupName}
		f.groups = append(f.groups, g)
	}
	for i := range g.keys {
		if g.keys[i].key == key {
			g.keys[i].value = value
			return nil
		}
	}
	g.keys = append(g.keys, pair{key, value})
	return nil
}

// SetString sets key to s escaped like g_key_file_set_string.
func (f *File) SetString(groupName, key, s string) error {
	if err := validValue(s); err != nil {
		return err
	}
	return f.SetValue(groupName, key, EscapeString(s))
}

// SetStringList sets key to list like g_key_file_set_string_list: each
// element escaped (';' as "\;") and followed by ';'.
func (f *File) SetStringList(groupName, key string, list []string) error {
	var b strings.Builder
	for _, s := range list {
		if err := validValue(s); err != nil {
			return err
		}
		b.WriteString(escape(s, true))
		b.WriteByte(';')
	}
	return f.SetValue(groupName, key, b.String())
}

// SetInteger sets key to n like g_key_file_set_integer.
func (f *File) SetInteger(groupName, key string, n int32) error {
	return f.SetValue(groupName, key, strconv.FormatInt(int64(n), 10))
}

// SetBoolean sets key to "true" or "false" like g_key_file_set_boolean.
func (f *File) SetBoolean(groupName, key string, v bool) error {
	return f.SetValue(groupName, key, strconv.FormatBool(v))
}

// RemoveKey removes key from group, if present.
func (f *File) RemoveKey(groupName, key string) {
	_, g := f.lookup(groupName)
	if g == nil {
		return
	}
	for i := range g.keys {
		if g.keys[i].key == key {
			g.keys = append(g.keys[:i], g.keys[i+1:]...)
			return
		}
	}
}

// RemoveGroup removes a group and its keys, if present.
func (f *File) RemoveGroup(groupName string) {
	if i, _ := f.lookup(groupName); i >= 0 {
		f.groups = append(f.groups[:i], f.groups[i+1:]...)
	}
}

// HasGroup reports whether the file has the group.
func (f *File) HasGroup(groupName string) bool {
	_, g := f.lookup(groupName)
	return g != nil
}

// Groups returns the group names in file order.
func (f *File) Groups() []string {
	var names []string
	for _, g := range f.groups {
		names = append(names, g.name)
	}
	return names
}

// Keys returns the keys of a group in file order.
func (f *File) Keys(groupName string) []string {
	_, g := f.lookup(groupName)
	if g == nil {
		return nil
	}
	var keys []string
	for _, p := range g.keys {
		keys = append(keys, p.key)
	}
	return keys
}

// Value returns the raw (escaped) value of key in group.
func (f *File) Value(groupName, key string) (string, bool) {
	_, g := f.lookup(groupName)
	if g == nil {
		return "", false
	}
	for _, p := range g.keys {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// String returns the value of key unescaped like g_key_file_get_string.
func (f *File) String(groupName, key string) (string, error) {
	v, ok := f.Value(groupName, key)
	if !ok {
		return "", fmt.Errorf("key file has no key %q in group %q", key, groupName)
	}
	s, _, err := unescape(v, false)
	return s, err
}

// StringList returns the value of key split and unescaped like
// g_key_file_get_string_list.
func (f *File) StringList(groupName, key string) ([]string, error) {
	v, ok := f.Value(groupName, key)
	if !ok {
		return nil, fmt.Errorf("key file has no key %q in group %q", key, groupName)
	}
	_, list, err := unescape(v, true)
	return list, err
}

// Bytes renders the file like g_key_file_to_data.
func (f *File) Bytes() []byte {
	var b bytes.Buffer
	for _, g := range f.groups {
		// GLib separates groups by at least an empty line.
		if n := b.Len(); n >= 2 && b.Bytes()[n-2] != '\n' {
			b.WriteByte('\n')
		}
		b.WriteString("[" + g.name + "]\n")
		for _, p := range g.keys {
			b.WriteString(p.key + "=" + p.value + "\n")
		}
	}
	return b.Bytes()
}

// EscapeString escapes s like g_key_file_set_string.
func EscapeString(s string) string { return escape(s, false) }

// EscapeListElement escapes one list element like
// g_key_file_set_string_list (without the trailing ';').
func EscapeListElement(s string) string { return escape(s, true) }

func escape(s string, list bool) string {
	var b strings.Builder
	leading := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ':
			if leading {
				b.WriteString(`\s`)
			} else {
				b.WriteByte(c)
			}
		case '\t':
			if leading {
				b.WriteString(`\t`)
			} else {
				b.WriteByte(c)
			}
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\\':
			b.WriteString(`\\`)
			leading = false
		default:
			if list && c == ';' {
				b.WriteString(`\;`)
				leading = true
			} else {
				b.WriteByte(c)
				leading = false
			}
		}
	}
	return b.String()
}

// unescape undoes escape like g_key_file_parse_value_as_string; with list it
// also splits at unescaped ';' (a trailing piece without ';' counts too).
func unescape(v string, list bool) (string, []string, error) {
	var b strings.Builder
	var pieces []string
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' {
			i++
			if i == len(v) {
				return "", nil, fmt.Errorf("value %q ends with an escape character", v)
			}
			switch v[i] {
			case 's':
				b.WriteByte(' ')
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\':
				b.WriteByte('\\')
			case ';':
				if !list {
					return "", nil, fmt.Errorf("value %q contains invalid escape sequence \\;", v)
				}
				b.WriteByte(';')
			default:
				return "", nil, fmt.Errorf("value %q contains invalid escape sequence \\%c", v, v[i])
			}
			continue
		}
		if list && c == ';' {
			pieces = append(pieces, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	if list && b.Len() > 0 {
		pieces = append(pieces, b.String())
	}
	s := b.String()
	if !utf8.ValidString(s) {
		return "", nil, fmt.Errorf("value %q is not valid UTF-8", v)
	}
	return s, pieces, nil
}

// stripLocale removes a "[locale]" suffix from a key, as GLib accepts on
// reading (Name[de]=...).
func stripLocale(key string) string {
	if i := strings.IndexByte(key, '['); i > 0 && strings.HasSuffix(key, "]") {
		loc := key[i+1 : len(key)-1]
		if loc != "" && strings.Trim(loc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@") == "" {
			return key[:i]
		}
	}
	return key
}

// Parse reads a key file: "[group]" lines, "key=value" lines (spaces
// around the key and before the value are ignored, as GLib does; localized
// keys such as "Name[de]" are kept as separate keys), comments starting with
// '#' and blank lines (both dropped). A repeated group is merged into the
// first, a repeated key keeps the last value, as in GLib.
func Parse(data []byte) (*File, error) {
	f := New()
	var cur *group
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		trimmed := strings.TrimLeft(line, " \t")
		switch {
		case trimmed == "" || trimmed[0] == '#':
			continue
		case trimmed[0] == '[':
			end := strings.IndexByte(trimmed, ']')
			if end < 0 || strings.TrimRight(trimmed[end+1:], " \t") != "" {
				return nil, fmt.Errorf("line %d: invalid group line %q", n+1, line)
			}
			name := trimmed[1:end]
			if err := ValidGroupName(name); err != nil {
				return nil, fmt.Errorf("line %d: %v", n+1, err)
			}
			// GLib merges a repeated group into the first one.
			if _, g := f.lookup(name); g != nil {
				cur = g
			} else {
				cur = &group{name: name}
				f.groups = append(f.groups, cur)
			}
		default:
			eq := strings.IndexByte(trimmed, '=')
			if eq < 0 {
				return nil, fmt.Errorf("line %d: %q is not a group, key=value or comment", n+1, line)
			}
			if cur == nil {
				return nil, fmt.Errorf("line %d: key before the first group", n+1)
			}
			key := strings.TrimRight(trimmed[:eq], " \t")
			value := strings.TrimLeft(trimmed[eq+1:], " \t")
			if err := ValidKeyName(stripLocale(key)); err != nil {
				return nil, fmt.Errorf("line %d: %v", n+1, err)
			}
			if err := validValue(value); err != nil {
				return nil, fmt.Errorf("line %d: %v", n+1, err)
			}
			replaced := false
			for i := range cur.keys {
				if cur.keys[i].key == key {
					cur.keys[i].value = value
					replaced = true
				}
			}
			if !replaced {
				cur.keys = append(cur.keys, pair{key, value})
			}
		}
	}
	return f, nil
}
