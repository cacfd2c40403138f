package finishargs

// The values of the other options: share, socket, device and feature
// names, environment variables, D-Bus names, generic policies and the
// build settings (command, extensions, extra data, metadata).

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
	"github.com/flatpak-frontend/flatpak-frontend/internal/suggest"
)

// setFlag is --share, --socket, --device, --allow (on) and their negations
// (flatpak 1.18's flatpak_permissions_set_allowed and _set_not_allowed).
func (c *Context) setFlag(m *map[string]Permission, kind string, names []string, v string, on bool) error {
	if err := checkName(kind, names, v); err != nil {
		return err
	}
	set := func(name string) {
		if *m == nil {
			*m = map[string]Permission{}
		}
		(*m)[name] = Permission{Allowed: on, Reset: true}
	}
	if kind == "socket" && v == "fallback-x11" {
		if len((*m)["x11"].Conditions) > 0 {
			return errFallbackX11Conditional
		}
		set("x11")
	}
	set(v)
	return nil
}

// setFlagIf is flatpak 1.18's --share-if, --socket-if, --device-if and
// --allow-if: NAME:CONDITION (flatpak_permissions_set_allowed_if).
func (c *Context) setFlagIf(m *map[string]Permission, kind string, names []string, v string) error {
	name, cond, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("expected %s:CONDITION", strings.ToUpper(kind))
	}
	if err := checkName(kind, names, name); err != nil {
		return err
	}
	if err := checkName("condition", ConditionNames, strings.TrimPrefix(cond, "!")); err != nil {
		return fmt.Errorf("%w (a condition may start with '!')", err)
	}
	if kind == "socket" {
		switch {
		case name == "fallback-x11":
			return fmt.Errorf("fallback-x11 cannot be conditional (it is x11 when there is no Wayland: --socket-if=x11:!has-wayland for flatpak 1.18)")
		case name == "x11":
			if _, ok := (*m)["fallback-x11"]; ok {
				return errFallbackX11Conditional
			}
		}
	}
	if *m == nil {
		*m = map[string]Permission{}
	}
	p := (*m)[name]
	if p.Allowed || slices.Contains(p.Conditions, cond) {
		return nil
	}
	p.Conditions = append(slices.Clone(p.Conditions), cond)
	slices.Sort(p.Conditions)
	(*m)[name] = p
	return nil
}

// errFallbackX11Conditional: flatpak 1.16 and older set or clear x11 with
// fallback-x11, dropping x11's conditions; 1.18 keeps the two apart.
var errFallbackX11Conditional = errors.New("--socket-if=x11:... cannot be used with --socket=fallback-x11 or --nosocket=fallback-x11: flatpak 1.16 and older set x11 with fallback-x11, dropping the conditions, while 1.18 keeps both; use one of them")

// checkName says whether v is one of names, suggesting the closest.
func checkName(kind string, names []string, v string) error {
	if slices.Contains(names, v) {
		return nil
	}
	msg := fmt.Sprintf("unknown %s %q", kind, v)
	if best := suggest.Closest(v, names); best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	return fmt.Errorf("%s; known: %s", msg, strings.Join(names, ", "))
}

func validEnvName(name string) error {
	if name == "" {
		return fmt.Errorf("the variable name is empty")
	}
	for _, r := range name {
		if r == '=' || r == '[' || r == ']' || r == ';' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("variable name %q contains %q", name, r)
		}
	}
	return keyfile.ValidKeyName(name)
}

func (c *Context) setEnv(e EnvVar) {
	for i := range c.Environment {
		if c.Environment[i].Name == e.Name {
			c.Environment[i] = e
			return
		}
	}
	c.Environment = append(c.Environment, e)
}

func (c *Context) env(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("expected VAR=VALUE")
	}
	if err := validEnvName(name); err != nil {
		return err
	}
	c.setEnv(EnvVar{Name: name, Value: value})
	return nil
}

func (c *Context) unsetEnv(v string) error {
	if strings.Contains(v, "=") {
		return fmt.Errorf("the variable name must not contain '='")
	}
	if err := validEnvName(v); err != nil {
		return err
	}
	c.setEnv(EnvVar{Name: v, Unset: true})
	return nil
}

// IsDBusName reports whether name is a well-known D-Bus name
// (g_dbus_is_name and not g_dbus_is_unique_name), optionally followed by
// ".*", as flatpak requires for bus policies.
func IsDBusName(name string) bool {
	part := strings.TrimSuffix(name, ".*")
	if len(part) == 0 || len(part) > 255 || part[0] == ':' || part[0] == '.' {
		return false
	}
	initial := func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-'
	}
	char := func(c byte) bool { return initial(c) || c >= '0' && c <= '9' }
	if !initial(part[0]) {
		return false
	}
	hasDot := false
	for i := 1; i < len(part); i++ {
		if part[i] == '.' {
			i++
			if i >= len(part) || !initial(part[i]) {
				return false
			}
			hasDot = true
		} else if !char(part[i]) {
			return false
		}
	}
	return hasDot
}

func setBus(list *[]BusName, v string, p Policy) error {
	if !IsDBusName(v) {
		return fmt.Errorf("invalid D-Bus name %q: expected a well-known name like org.example.Service, optionally ending in .*", v)
	}
	for i := range *list {
		if (*list)[i].Name == v {
			(*list)[i].Policy = p
			return nil
		}
	}
	*list = append(*list, BusName{v, p})
	return nil
}

func (c *Context) policy(opt, v string, remove bool) error {
	key, value, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("expected SUBSYSTEM.KEY=VALUE")
	}
	subsystem, k, ok := strings.Cut(key, ".")
	if !ok {
		return fmt.Errorf("expected SUBSYSTEM.KEY=VALUE")
	}
	if strings.HasPrefix(value, "!") {
		return fmt.Errorf("--%s values can't start with \"!\"", opt)
	}
	if subsystem == "" {
		return fmt.Errorf("SUBSYSTEM is empty; expected SUBSYSTEM.KEY=VALUE")
	}
	if err := keyfile.ValidGroupName("Policy " + subsystem); err != nil {
		return fmt.Errorf("bad SUBSYSTEM %q: %v", subsystem, err)
	}
	if err := keyfile.ValidKeyName(k); err != nil {
		return fmt.Errorf("bad KEY: %v", err)
	}
	if strings.Contains(value, ";") {
		return fmt.Errorf("';' in a policy value cannot be written to the metadata list")
	}
	if remove {
		value = "!" + value
	}
	c.applyPolicy(key, value)
	return nil
}

// applyPolicy is flatpak_context_apply_generic_policy.
func (c *Context) applyPolicy(key, value string) {
	bare := strings.TrimPrefix(value, "!")
	for i := range c.Policies {
		if c.Policies[i].Key != key {
			continue
		}
		var vals []string
		for _, old := range c.Policies[i].Values {
			if strings.TrimPrefix(old, "!") != bare {
				vals = append(vals, old)
			}
		}
		c.Policies[i].Values = append(vals, value)
		return
	}
	c.Policies = append(c.Policies, GenericPolicy{Key: key, Values: []string{value}})
}

func (c *Context) persist(v string) error {
	if err := validatePathCharacters(v); err != nil {
		return err
	}
	if strings.Contains(v, ";") {
		return fmt.Errorf("';' in a path cannot be written to the metadata list")
	}
	for _, p := range c.Persistent {
		if p == v {
			return nil
		}
	}
	c.Persistent = append(c.Persistent, v)
	return nil
}

func (c *Context) command(v string) error {
	if v == "" {
		return fmt.Errorf("the command is empty")
	}
	c.Command = v
	return nil
}

func (c *Context) requireVersion(v string) error {
	if v == "" {
		return fmt.Errorf("expected MAJOR.MINOR.MICRO")
	}
	for _, part := range strings.Split(strings.TrimSuffix(v, ";"), ";") {
		nums := strings.Split(part, ".")
		ok := len(nums) == 3
		for _, n := range nums {
			if _, err := strconv.ParseUint(n, 10, 31); err != nil {
				ok = false
			}
		}
		if !ok {
			return fmt.Errorf("%q is not a version MAJOR.MINOR.MICRO (several may be separated by ';')", part)
		}
	}
	c.RequireVersion = v
	return nil
}

func (c *Context) extraData(v string) error {
	el := strings.SplitN(v, ":", 5)
	if len(el) != 5 {
		return fmt.Errorf("expected NAME:SHA256:DOWNLOAD-SIZE:INSTALL-SIZE:URL")
	}
	ed := ExtraData{Name: el[0], Checksum: el[1], Size: el[2], InstalledSize: el[3], URI: el[4]}
	if len(ed.Checksum) != 64 || strings.Trim(ed.Checksum, "0123456789abcdef") != "" {
		return fmt.Errorf("checksum %q is not a lower-case SHA-256 hex digest", ed.Checksum)
	}
	if _, err := strconv.ParseUint(ed.Size, 10, 64); err != nil {
		return fmt.Errorf("download size %q is not a number", ed.Size)
	}
	if ed.InstalledSize != "" {
		if _, err := strconv.ParseUint(ed.InstalledSize, 10, 64); err != nil {
			return fmt.Errorf("installed size %q is not a number", ed.InstalledSize)
		}
	}
	if ed.URI == "" {
		return fmt.Errorf("the URL is empty")
	}
	c.ExtraData = append(c.ExtraData, ed)
	return nil
}

func (c *Context) extension(v string) error {
	el := strings.SplitN(v, "=", 3)
	if len(el) < 2 {
		return fmt.Errorf("expected NAME=VARIABLE[=VALUE]")
	}
	if err := flatpakref.CheckID(el[0]); err != nil {
		return fmt.Errorf("invalid extension name: %v", err)
	}
	if err := keyfile.ValidKeyName(el[1]); err != nil {
		return err
	}
	value := "true"
	if len(el) == 3 {
		value = el[2]
	}
	c.Extensions = append(c.Extensions, ExtensionSetting{el[0], el[1], value})
	return nil
}

func (c *Context) removeExtension(v string) error {
	if err := keyfile.ValidGroupName("Extension " + v); err != nil {
		return err
	}
	c.RemoveExtensions = append(c.RemoveExtensions, v)
	return nil
}

// extensionPriority parses like GOption's G_OPTION_ARG_INT (strtol base 0).
func (c *Context) extensionPriority(v string) error {
	n, read := strtol(v, 0)
	if v == "" || read != len(v) {
		return fmt.Errorf("%q is not an integer", v)
	}
	if n <= -1<<31 || n > 1<<31-1 {
		return fmt.Errorf("%d is out of range", n)
	}
	p := int32(n)
	c.ExtensionPriority = &p
	return nil
}

func partialRef(dst *string, what, v string) error {
	if _, _, _, err := flatpakref.SplitLoose(v); err != nil {
		return fmt.Errorf("the %s: %v", what, err)
	}
	*dst = v
	return nil
}

func (c *Context) metadata(v string) error {
	el := strings.SplitN(v, "=", 3)
	if len(el) < 2 {
		return fmt.Errorf("expected GROUP=KEY[=VALUE]")
	}
	if err := keyfile.ValidGroupName(el[0]); err != nil {
		return err
	}
	if err := keyfile.ValidKeyName(el[1]); err != nil {
		return err
	}
	value := "true"
	if len(el) == 3 {
		value = el[2]
	}
	c.Metadata = append(c.Metadata, MetadataSetting{el[0], el[1], value})
	return nil
}
