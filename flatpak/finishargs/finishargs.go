package finishargs

import (
	"fmt"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/internal/suggest"

	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The names flatpak 1.14 knows, in the order of its enums: the metadata
// lists are written in this order.
var (
	// ShareNames are the values of --share / --unshare.
	ShareNames = []string{"network", "ipc"}
	// SocketNames are the values of --socket / --nosocket.
	SocketNames = []string{"x11", "wayland", "pulseaudio", "session-bus", "system-bus",
		"fallback-x11", "ssh-auth", "pcsc", "cups", "gpg-agent"}
	// DeviceNames are the values of --device / --nodevice.
	DeviceNames = []string{"dri", "all", "kvm", "shm"}
	// FeatureNames are the values of --allow / --disallow.
	FeatureNames = []string{"devel", "multiarch", "bluetooth", "canbus", "per-app-dev-shm"}
)

// FilesystemMode is how a filesystem location is exposed (Flatpak's
// FlatpakFilesystemMode; the values are flatpak's).
type FilesystemMode int

const (
	// FilesystemNone hides the location: --nofilesystem, written "!LOCATION".
	FilesystemNone FilesystemMode = iota
	// FilesystemReadOnly is LOCATION:ro.
	FilesystemReadOnly
	// FilesystemReadWrite is LOCATION or LOCATION:rw.
	FilesystemReadWrite
	// FilesystemCreate is LOCATION:create.
	FilesystemCreate
)

// Policy is a D-Bus name policy (Flatpak's FlatpakPolicy).
type Policy int

const (
	// PolicyNone is --no-talk-name / --system-no-talk-name.
	PolicyNone Policy = iota
	// PolicySee is only reachable through metadata, never through an option.
	PolicySee
	// PolicyTalk is --talk-name / --system-talk-name.
	PolicyTalk
	// PolicyOwn is --own-name / --system-own-name.
	PolicyOwn
)

func (p Policy) String() string {
	switch p {
	case PolicySee:
		return "see"
	case PolicyTalk:
		return "talk"
	case PolicyOwn:
		return "own"
	}
	return "none"
}

// Filesystem is one --filesystem or --nofilesystem location.
type Filesystem struct {
	// Location as flatpak normalizes it: "host", "home", "xdg-download/dir",
	// "~/dir", "/dir" ("home/dir" becomes "~/dir", "~" becomes "home",
	// "//" and "/./" collapse, trailing "/" and "/." go). --nofilesystem=host:reset
	// is stored as "host" and "host-reset", both FilesystemNone, as flatpak
	// does.
	Location string
	Mode     FilesystemMode
}

// EnvVar is one --env or --unset-env.
type EnvVar struct {
	Name  string
	Value string
	// Unset is --unset-env=NAME.
	Unset bool
}

// BusName is one D-Bus name policy; Name may end in ".*".
type BusName struct {
	Name   string
	Policy Policy
}

// GenericPolicy is the --add-policy / --remove-policy values of one
// SUBSYSTEM.KEY, in flatpak's order: a later value for the same name
// replaces an earlier one and moves to the end; removed values start with
// '!'.
type GenericPolicy struct {
	// Key is SUBSYSTEM.KEY.
	Key    string
	Values []string
}

// ExtraData is one --extra-data=NAME:SHA256:DOWNLOAD-SIZE:INSTALL-SIZE:URL.
type ExtraData struct {
	Name, Checksum, Size, InstalledSize, URI string
}

// ExtensionSetting is one --extension=NAME=KEY[=VALUE] (VALUE defaults to
// "true"): KEY=VALUE in group "Extension NAME".
type ExtensionSetting struct {
	Name, Key, Value string
}

// MetadataSetting is one --metadata=GROUP=KEY[=VALUE] (VALUE defaults to
// "true").
type MetadataSetting struct {
	Group, Key, Value string
}

// Context is what a list of finish-args describes: the sandbox permissions
// (Flatpak's FlatpakContext) and the build-finish-only settings. Entries that
// flatpak keeps in hash tables are kept here in the order of their first
// setting; setting one again replaces its value in place, as a GHashTable
// insert does.
type Context struct {
	// Shared maps a ShareNames entry to true (--share) or false (--unshare).
	Shared map[string]bool
	// Sockets maps a SocketNames entry to true (--socket) or false
	// (--nosocket). fallback-x11 sets x11 too, as flatpak does.
	Sockets map[string]bool
	// Devices maps a DeviceNames entry to true (--device) or false (--nodevice).
	Devices map[string]bool
	// Features maps a FeatureNames entry to true (--allow) or false (--disallow).
	Features    map[string]bool
	Filesystems []Filesystem
	// Persistent holds --persist paths.
	Persistent  []string
	Environment []EnvVar
	SessionBus  []BusName
	SystemBus   []BusName
	Policies    []GenericPolicy

	// Command is --command (the last one wins).
	Command string
	// RequireVersion is --require-version: MAJOR.MINOR.MICRO, or several
	// separated by ';'.
	RequireVersion string
	// Runtime and SDK are --runtime / --sdk: ID[/ARCH[/BRANCH]], optionally
	// prefixed "runtime/"; missing parts come from the metadata's value.
	Runtime, SDK string
	// NoExports is --no-exports: export nothing from files/share.
	NoExports bool
	// NoInheritPermissions is --no-inherit-permissions.
	NoInheritPermissions bool
	ExtraData            []ExtraData
	Extensions           []ExtensionSetting
	RemoveExtensions     []string
	// ExtensionPriority is --extension-priority, nil when not given.
	ExtensionPriority *int32
	Metadata          []MetadataSetting
}

// Error is a problem with one finish-arg.
type Error struct {
	// Index of the argument in the list given to Parse: the option, or for
	// "--opt value" with a bad value, the value.
	Index int
	// Msg says what is wrong and what would be right.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Errors is every problem Parse found.
type Errors []*Error

func (e Errors) Error() string {
	s := ""
	for i, x := range e {
		if i > 0 {
			s += "\n"
		}
		s += x.Msg
	}
	return s
}

type option struct {
	name string
	// value is whether the option takes a value.
	value bool
	apply func(c *Context, v string) error
}

var options = []option{
	{"share", true, func(c *Context, v string) error { return c.setFlag(&c.Shared, "share", ShareNames, v, true) }},
	{"unshare", true, func(c *Context, v string) error { return c.setFlag(&c.Shared, "share", ShareNames, v, false) }},
	{"socket", true, func(c *Context, v string) error { return c.setFlag(&c.Sockets, "socket", SocketNames, v, true) }},
	{"nosocket", true, func(c *Context, v string) error { return c.setFlag(&c.Sockets, "socket", SocketNames, v, false) }},
	{"device", true, func(c *Context, v string) error { return c.setFlag(&c.Devices, "device", DeviceNames, v, true) }},
	{"nodevice", true, func(c *Context, v string) error { return c.setFlag(&c.Devices, "device", DeviceNames, v, false) }},
	{"allow", true, func(c *Context, v string) error { return c.setFlag(&c.Features, "feature", FeatureNames, v, true) }},
	{"disallow", true, func(c *Context, v string) error { return c.setFlag(&c.Features, "feature", FeatureNames, v, false) }},
	{"filesystem", true, func(c *Context, v string) error { return c.filesystem(v, false) }},
	{"nofilesystem", true, func(c *Context, v string) error { return c.filesystem(v, true) }},
	{"env", true, (*Context).env},
	{"unset-env", true, (*Context).unsetEnv},
	{"own-name", true, func(c *Context, v string) error { return setBus(&c.SessionBus, v, PolicyOwn) }},
	{"talk-name", true, func(c *Context, v string) error { return setBus(&c.SessionBus, v, PolicyTalk) }},
	{"no-talk-name", true, func(c *Context, v string) error { return setBus(&c.SessionBus, v, PolicyNone) }},
	{"system-own-name", true, func(c *Context, v string) error { return setBus(&c.SystemBus, v, PolicyOwn) }},
	{"system-talk-name", true, func(c *Context, v string) error { return setBus(&c.SystemBus, v, PolicyTalk) }},
	{"system-no-talk-name", true, func(c *Context, v string) error { return setBus(&c.SystemBus, v, PolicyNone) }},
	{"add-policy", true, func(c *Context, v string) error { return c.policy("add-policy", v, false) }},
	{"remove-policy", true, func(c *Context, v string) error { return c.policy("remove-policy", v, true) }},
	{"persist", true, (*Context).persist},
	{"no-desktop", false, func(c *Context, v string) error { return nil }},

	{"command", true, (*Context).command},
	{"require-version", true, (*Context).requireVersion},
	{"no-exports", false, func(c *Context, v string) error { c.NoExports = true; return nil }},
	{"extra-data", true, (*Context).extraData},
	{"extension", true, (*Context).extension},
	{"remove-extension", true, (*Context).removeExtension},
	{"extension-priority", true, (*Context).extensionPriority},
	{"sdk", true, func(c *Context, v string) error { return partialRef(&c.SDK, "sdk", v) }},
	{"runtime", true, func(c *Context, v string) error { return partialRef(&c.Runtime, "runtime", v) }},
	{"metadata", true, (*Context).metadata},
	{"no-inherit-permissions", false, func(c *Context, v string) error { c.NoInheritPermissions = true; return nil }},
}

// refused are options flatpak build-finish accepts that have no place in a
// declarative file, with the reason.
var refused = map[string]string{
	"env-fd":            "--env-fd reads variables from a file descriptor; use --env=VAR=VALUE",
	"help":              "--help is not a permission",
	"help-all":          "--help-all is not a permission",
	"help-environment":  "--help-environment is not a permission",
	"verbose":           "--verbose is not a permission",
	"ostree-verbose":    "--ostree-verbose is not a permission",
	"version":           "--version is not a permission",
	"default-arch":      "--default-arch is not a permission",
	"supported-arches":  "--supported-arches is not a permission",
	"gl-drivers":        "--gl-drivers is not a permission",
	"installations":     "--installations is not a permission",
	"print-updated-env": "--print-updated-env is not a permission",
	"print-system-only": "--print-system-only is not a permission",
}

// KnownOptions returns the option names Parse accepts, with their "--".
func KnownOptions() []string {
	var names []string
	for _, o := range options {
		if o.name == "no-desktop" {
			continue // accepted for compatibility only
		}
		names = append(names, "--"+o.name)
	}
	return names
}

func lookupOption(name string) *option {
	for i := range options {
		if options[i].name == name {
			return &options[i]
		}
	}
	return nil
}

// Parse reads finish-args. On failure the error is Errors, one per bad
// argument, and the returned Context holds what the good arguments set.
func Parse(args []string) (*Context, error) {
	c := &Context{}
	var errs Errors
	fail := func(i int, format string, a ...any) {
		errs = append(errs, &Error{Index: i, Msg: fmt.Sprintf(format, a...)})
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "--") || arg == "--" {
			if strings.HasPrefix(arg, "-") && arg != "-" && arg != "--" {
				fail(i, "finish-args: unknown option %q: flatpak build-finish has no short options (known: %s)", arg, strings.Join(KnownOptions(), ", "))
			} else {
				fail(i, "finish-args: %q is not an option; finish-args are --OPTION=VALUE or --OPTION VALUE", arg)
			}
			continue
		}
		name, value, hasValue := strings.Cut(arg[2:], "=")
		o := lookupOption(name)
		if o == nil {
			if why, ok := refused[name]; ok {
				fail(i, "finish-args: %s", why)
				continue
			}
			msg := fmt.Sprintf("finish-args: unknown option --%s", name)
			if s := suggest.Closest(name, knownOptionNames()); s != "" {
				msg += fmt.Sprintf(" (did you mean --%s?)", s)
			}
			fail(i, "%s; known options: %s", msg, strings.Join(KnownOptions(), ", "))
			continue
		}
		at := i
		if !o.value {
			if hasValue {
				fail(i, "finish-args: --%s takes no value (got %q)", name, value)
			} else {
				_ = o.apply(c, "")
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				fail(i, "finish-args: --%s needs a value: --%s=VALUE or --%s VALUE", name, name, name)
				continue
			}
			i++
			at = i
			value = args[i]
		}
		if err := checkText(value); err != nil {
			fail(at, "finish-args: --%s: %v", name, err)
			continue
		}
		if err := o.apply(c, value); err != nil {
			fail(at, "finish-args: --%s=%s: %v", name, value, err)
		}
	}
	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

// checkText refuses what no value may hold in the metadata file.
func checkText(v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%q is not valid UTF-8", v)
	}
	if i := strings.IndexAny(v, "\x00\n\r"); i >= 0 {
		return fmt.Errorf("%q contains a NUL byte or line break, which the metadata file cannot hold", v)
	}
	return nil
}

// knownOptionNames are the options a typo may be meant as.
func knownOptionNames() []string {
	var names []string
	for _, o := range options {
		if o.name != "no-desktop" {
			names = append(names, o.name)
		}
	}
	return names
}

func (c *Context) setFlag(m *map[string]bool, kind string, names []string, v string, on bool) error {
	found := false
	for _, n := range names {
		if n == v {
			found = true
		}
	}
	if !found {
		msg := fmt.Sprintf("unknown %s %q", kind, v)
		if best := suggest.Closest(v, names); best != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", best)
		}
		return fmt.Errorf("%s; known: %s", msg, strings.Join(names, ", "))
	}
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[v] = on
	if kind == "socket" && v == "fallback-x11" {
		(*m)["x11"] = on
	}
	return nil
}

// isGraphic is GLib's g_unichar_isgraph: not a control, format, unassigned,
// surrogate or space-separator character.
func isGraphic(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S,
		unicode.Zl, unicode.Zp, unicode.Co)
}

// validatePathCharacters is flatpak_validate_path_characters.
func validatePathCharacters(p string) error {
	for _, r := range p {
		if r == utf8.RuneError {
			return fmt.Errorf("non-UTF-8 byte in path %q", p)
		}
		if r != ' ' && !isGraphic(r) {
			return fmt.Errorf("non-graphical character %U in path %q", r, p)
		}
	}
	return nil
}

var specialFilesystems = []string{"home", "host", "host-etc", "host-os", "host-reset"}

var xdgUserDirs = []string{"xdg-desktop", "xdg-documents", "xdg-download", "xdg-music",
	"xdg-pictures", "xdg-public-share", "xdg-templates", "xdg-videos",
	"xdg-data", "xdg-cache", "xdg-config"}

// isXDGLocation is get_xdg_user_dir_from_string: xdg-* prefixes, xdg-run
// only with a subdirectory.
func isXDGLocation(fs string) bool {
	prefix, rest, _ := strings.Cut(fs, "/")
	rest = strings.TrimLeft(rest, "/")
	for _, x := range xdgUserDirs {
		if prefix == x {
			return true
		}
	}
	return prefix == "xdg-run" && rest != ""
}

// ParseFilesystem is flatpak_context_parse_filesystem: it splits the mode
// suffix (:ro, :rw, :create; :reset with --nofilesystem=host), unescapes
// "\:" and "\\", normalizes the location and checks it. Unlike flatpak, which
// only warns, an unknown suffix or a suffix on --nofilesystem is an error.
func ParseFilesystem(value string, negated bool) (string, FilesystemMode, error) {
	if err := validatePathCharacters(value); err != nil {
		return "", 0, err
	}
	var s strings.Builder
	p := 0
	for p < len(value) && value[p] != ':' {
		if value[p] == '\\' {
			p++
			if p < len(value) {
				s.WriteByte(value[p])
				p++
			}
		} else {
			s.WriteByte(value[p])
			p++
		}
	}
	fs := s.String()
	mode := FilesystemReadWrite
	if negated {
		mode = FilesystemNone
	}
	reset := false
	if fs == "host-reset" {
		if !negated {
			return "", 0, fmt.Errorf("%q only applies to --nofilesystem", fs)
		}
		if p < len(value) {
			return "", 0, fmt.Errorf("%q cannot have a suffix", fs)
		}
		reset = true
	}
	if p < len(value) {
		suffix := value[p+1:]
		switch suffix {
		case "ro", "rw", "create":
			if negated {
				return "", 0, fmt.Errorf("suffix :%s does not apply to --nofilesystem", suffix)
			}
			mode = map[string]FilesystemMode{"ro": FilesystemReadOnly, "rw": FilesystemReadWrite, "create": FilesystemCreate}[suffix]
		case "reset":
			if !negated {
				return "", 0, fmt.Errorf("suffix :reset only applies to --nofilesystem")
			}
			if fs != "host" {
				return "", 0, fmt.Errorf("suffix :reset only applies to --nofilesystem=host")
			}
			reset = true
			fs = "host-reset"
		default:
			return "", 0, fmt.Errorf("unknown suffix :%s (known: :ro, :rw, :create; :reset with --nofilesystem=host)", suffix)
		}
	}
	_ = reset

	if i := strings.IndexByte(fs, '/'); i >= 0 {
		after := fs[i+1:]
		if strings.HasPrefix(after, "../") || strings.HasSuffix(after, "/..") || strings.Contains(after, "/../") {
			return "", 0, fmt.Errorf("filesystem location %q contains \"..\"", fs)
		}
		fs = fs[:i] + normalizeSlashes(fs[i:])
		// Eliminate trailing "/." or "/".
		for {
			j := strings.LastIndexByte(fs, '/')
			if j >= 0 && ((j != 0 && j == len(fs)-1) || fs[j+1:] == ".") {
				fs = fs[:j]
			} else {
				break
			}
		}
		if fs == "/" {
			return "", 0, fmt.Errorf("--filesystem=/ is not available, use --filesystem=host for a similar result")
		}
	}
	for _, sp := range specialFilesystems {
		if fs == sp {
			return fs, mode, nil
		}
	}
	switch {
	case isXDGLocation(fs), strings.HasPrefix(fs, "~/"), strings.HasPrefix(fs, "/"):
		return fs, mode, nil
	case fs == "~":
		return "home", mode, nil
	case strings.HasPrefix(fs, "home/"):
		return "~/" + fs[5:], mode, nil
	}
	return "", 0, fmt.Errorf("unknown filesystem location %q, valid locations are: host, host-os, host-etc, home, xdg-*[/…], ~/dir, /dir", fs)
}

// normalizeSlashes converts "//" and "/./" to "/" in s, which starts with '/'.
func normalizeSlashes(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		if b[i] != '/' {
			continue
		}
		for {
			if i+1 < len(b) && b[i+1] == '/' {
				b = append(b[:i+1], b[i+2:]...)
			} else if i+2 < len(b) && b[i+1] == '.' && b[i+2] == '/' {
				b = append(b[:i+1], b[i+3:]...)
			} else {
				break
			}
		}
	}
	return string(b)
}

func (c *Context) filesystem(v string, negated bool) error {
	fs, mode, err := ParseFilesystem(v, negated)
	if err != nil {
		return err
	}
	if strings.Contains(fs, ";") {
		return fmt.Errorf("';' in a filesystem location cannot be written to the metadata list")
	}
	if fs == "host-reset" {
		c.setFilesystem("host", FilesystemNone)
	}
	c.setFilesystem(fs, mode)
	return nil
}

func (c *Context) setFilesystem(fs string, mode FilesystemMode) {
	for i := range c.Filesystems {
		if c.Filesystems[i].Location == fs {
			c.Filesystems[i].Mode = mode
			return
		}
	}
	c.Filesystems = append(c.Filesystems, Filesystem{fs, mode})
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
	return keyfileKeyName(name)
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
	if err := keyfileGroupName("Policy " + subsystem); err != nil {
		return fmt.Errorf("bad SUBSYSTEM %q: %v", subsystem, err)
	}
	if err := keyfileKeyName(k); err != nil {
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
	if err := keyfileKeyName(el[1]); err != nil {
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
	if err := keyfileGroupName("Extension " + v); err != nil {
		return err
	}
	c.RemoveExtensions = append(c.RemoveExtensions, v)
	return nil
}

// extensionPriority parses like GOption's G_OPTION_ARG_INT (strtol base 0).
func (c *Context) extensionPriority(v string) error {
	s := v
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil || s == "" || strings.ContainsAny(s, "+-_") {
		return fmt.Errorf("%q is not an integer", v)
	}
	if neg {
		n = -n
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
	if err := keyfileGroupName(el[0]); err != nil {
		return err
	}
	if err := keyfileKeyName(el[1]); err != nil {
		return err
	}
	value := "true"
	if len(el) == 3 {
		value = el[2]
	}
	c.Metadata = append(c.Metadata, MetadataSetting{el[0], el[1], value})
	return nil
}
