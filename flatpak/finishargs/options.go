package finishargs

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/flatpak-frontend/flatpak-frontend/internal/suggest"
)

// The command line: the option table and Parse.

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
	{"share-if", true, func(c *Context, v string) error { return c.setFlagIf(&c.Shared, "share", ShareNames, v) }},
	{"socket-if", true, func(c *Context, v string) error { return c.setFlagIf(&c.Sockets, "socket", SocketNames, v) }},
	{"device-if", true, func(c *Context, v string) error { return c.setFlagIf(&c.Devices, "device", DeviceNames, v) }},
	{"allow-if", true, func(c *Context, v string) error { return c.setFlagIf(&c.Features, "feature", FeatureNames, v) }},
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
	{"a11y-own-name", true, func(c *Context, v string) error { return setBus(&c.A11yBus, v, PolicyOwn) }},
	{"add-policy", true, func(c *Context, v string) error { return c.policy("add-policy", v, false) }},
	{"remove-policy", true, func(c *Context, v string) error { return c.policy("remove-policy", v, true) }},
	{"usb", true, func(c *Context, v string) error { return c.usb(v, false) }},
	{"nousb", true, func(c *Context, v string) error { return c.usb(v, true) }},
	{"usb-list", true, (*Context).usbList},
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
	"usb-list-file":     "--usb-list-file reads a file when build-finish runs; give the devices with --usb, --nousb or --usb-list",
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
