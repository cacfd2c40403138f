package finishargs

import (
	"errors"
	"fmt"
	"strings"
)

// USB device queries (--usb, --nousb, --usb-list; flatpak 1.16's
// flatpak-usb.c): one or more rules joined by '+', each all, cls:CLASS:SUBCLASS
// (or cls:CLASS:*), vnd:VENDOR or dev:PRODUCT, in hexadecimal. A query is
// kept as flatpak prints it back (lowercase, zero-padded), which is also its
// key in flatpak's tables.

// ParseUSBQuery checks one query and returns it as flatpak prints it.
func ParseUSBQuery(q string) (string, error) {
	if q == "" {
		return "", errors.New("empty USB query")
	}
	seen := map[string]bool{}
	var out []string
	for _, rule := range strings.Split(q, "+") {
		parts := strings.Split(rule, ":")
		if len(parts) > 3 {
			return "", errors.New("USB device queries must be in the form TYPE:DATA")
		}
		var printed string
		switch parts[0] {
		case "all":
			if len(parts) != 1 {
				return "", errors.New("USB device query 'all' must not have data")
			}
			printed = "all"
		case "cls":
			if len(parts) < 3 {
				return "", errors.New("USB query rule 'cls' must be in the form CLASS:SUBCLASS or CLASS:*")
			}
			class, ok := hexUint16(parts[1], 2)
			if !ok {
				return "", errors.New("invalid USB class")
			}
			if parts[2] == "*" {
				printed = fmt.Sprintf("cls:%02x:*", class)
			} else if sub, ok := hexUint16(parts[2], 2); ok {
				printed = fmt.Sprintf("cls:%02x:%02x", class, sub)
			} else {
				return "", errors.New("invalid USB subclass")
			}
		case "dev", "vnd":
			what := map[string]string{"dev": "product", "vnd": "vendor"}[parts[0]]
			id, ok := uint16(0), len(parts) == 2
			if ok {
				id, ok = hexUint16(parts[1], 4)
			}
			if !ok {
				return "", fmt.Errorf("USB query rule '%s' must have a valid 4-digit hexadecimal %s id", parts[0], what)
			}
			printed = fmt.Sprintf("%s:%04x", parts[0], id)
		default:
			return "", fmt.Errorf("unknown USB query rule %q (known: all, cls, vnd, dev)", parts[0])
		}
		if seen[parts[0]] {
			return "", errors.New("multiple USB query rules of the same type are not supported")
		}
		seen[parts[0]] = true
		out = append(out, printed)
	}
	switch {
	case seen["all"] && len(seen) > 1:
		return "", errors.New("'all' must not contain extra query rules")
	case seen["dev"] && !seen["vnd"]:
		return "", errors.New("USB queries with 'dev' must also specify vendors")
	}
	return strings.Join(out, "+"), nil
}

// hexUint16 is flatpak's validate_hex_uint16: s, of exactly n bytes, is all
// strtol reads in base 16, and in 0..0xffff.
func hexUint16(s string, n int) (uint16, bool) {
	v, read := strtol(s, 16)
	if len(s) != n || read != len(s) || v < 0 || v > 0xffff {
		return 0, false
	}
	return uint16(v), true
}

// usb is --usb (hidden false) or --nousb (hidden true).
func (c *Context) usb(v string, hidden bool) error {
	q, err := ParseUSBQuery(v)
	if err != nil {
		return err
	}
	c.addUSB(q, hidden)
	return nil
}

func (c *Context) addUSB(q string, hidden bool) {
	list := &c.USBEnumerable
	if hidden {
		list = &c.USBHidden
	}
	for _, x := range *list {
		if x == q {
			return
		}
	}
	*list = append(*list, q)
}

// usbList is --usb-list: queries separated by ';', a '!' before one hides
// the device. flatpak skips a query it cannot read; here it is an error,
// as a declarative file would otherwise lose it without a word.
func (c *Context) usbList(v string) error {
	if strings.HasPrefix(v, "#") {
		return nil
	}
	for _, item := range strings.Split(v, ";") {
		if item == "" {
			continue
		}
		hidden := strings.HasPrefix(item, "!")
		q, err := ParseUSBQuery(strings.TrimPrefix(item, "!"))
		if err != nil {
			return fmt.Errorf("%q: %w", item, err)
		}
		c.addUSB(q, hidden)
	}
	return nil
}
