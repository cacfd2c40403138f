package finishargs

import (
	"errors"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
)

// Metadata group and key names flatpak uses for a context.
const (
	GroupContext          = "Context"
	GroupSessionBusPolicy = "Session Bus Policy"
	GroupSystemBusPolicy  = "System Bus Policy"
	GroupA11yBusPolicy    = "Accessibility Bus Policy"
	GroupUSBDevices       = "USB Devices"
	GroupEnvironment      = "Environment"
	GroupPrefixPolicy     = "Policy "

	KeyShared           = "shared"
	KeySockets          = "sockets"
	KeyDevices          = "devices"
	KeyFeatures         = "features"
	KeyFilesystems      = "filesystems"
	KeyPersistent       = "persistent"
	KeyUnsetEnvironment = "unset-environment"
	KeyUSBEnumerable    = "enumerable-devices"
	KeyUSBHidden        = "hidden-devices"
)

// flagList writes shared, sockets, devices or features: the names in
// flatpak 1.16's enum order (flatpak_context_bitmask_to_string), each as
// flatpak 1.18 serializes a permission (flatpak_permission_serialize, not
// flattened): "NAME" when allowed, "!NAME" when not, and for one allowed
// under conditions "!NAME" if reset, then "NAME" (what flatpak 1.16 and
// older read, ignoring what follows) and "if:NAME:CONDITION" for each.
func flagList(m map[string]Permission, names []string) []string {
	var out []string
	for _, n := range names {
		p, ok := m[n]
		switch {
		case !ok:
		case p.Allowed:
			out = append(out, n)
		case len(p.Conditions) > 0:
			if p.Reset {
				out = append(out, "!"+n)
			}
			out = append(out, n)
			for _, c := range p.Conditions {
				out = append(out, "if:"+n+":"+c)
			}
		default:
			out = append(out, "!"+n)
		}
	}
	return out
}

// UnparseFilesystem is flatpak's unparse_filesystem_flags: the location with
// ':' and '\' escaped and the mode as a suffix (or a '!' prefix).
func UnparseFilesystem(location string, mode FilesystemMode) string {
	var b strings.Builder
	for i := 0; i < len(location); i++ {
		switch location[i] {
		case ':':
			b.WriteString(`\:`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(location[i])
		}
	}
	s := b.String()
	switch mode {
	case FilesystemReadOnly:
		s += ":ro"
	case FilesystemCreate:
		s += ":create"
	case FilesystemNone:
		s = "!" + s
		if strings.HasSuffix(s, "-reset") {
			s = strings.TrimSuffix(s, "-reset") + ":reset"
		}
	}
	return s
}

// Save writes the context into kf the way `flatpak build-finish` does
// (flatpak_context_save_metadata, not flattened, for a context merged from
// the parsed arguments into an empty one): [Context] shared, sockets,
// devices, features, filesystems, persistent; [Session Bus Policy];
// [System Bus Policy]; [Accessibility Bus Policy]; [Environment] (unset
// variables as "NAME=" there and in [Context] unset-environment); [Policy
// SUBSYSTEM] groups; [USB Devices] (flatpak 1.16's order; without 1.16's
// options the output is 1.14's). Groups that
// Save rewrites are removed first, so their position moves to the end, as
// in flatpak. Entries flatpak keeps in hash tables are written in GLib's
// iteration order. The build-finish-only settings (Command, Metadata, ...)
// are not written here: see package metadata.
func (c *Context) Save(kf *keyfile.File) error {
	var errs []error
	try := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	setList := func(key string, list []string) {
		if len(list) > 0 {
			try(kf.SetStringList(GroupContext, key, list))
		} else {
			kf.RemoveKey(GroupContext, key)
		}
	}
	setList(KeyShared, flagList(c.Shared, ShareNames))
	setList(KeySockets, flagList(c.Sockets, SocketNames))
	setList(KeyDevices, flagList(c.Devices, DeviceNames))
	setList(KeyFeatures, flagList(c.Features, FeatureNames))

	var fsList []string
	modes := map[string]FilesystemMode{}
	var fsKeys []string
	for _, f := range c.Filesystems {
		modes[f.Location] = f.Mode
		fsKeys = append(fsKeys, f.Location)
	}
	if _, ok := modes["host-reset"]; ok {
		fsList = append(fsList, "!host:reset")
	}
	for _, loc := range buildFinishOrder(fsKeys) {
		if loc == "host-reset" {
			continue
		}
		fsList = append(fsList, UnparseFilesystem(loc, modes[loc]))
	}
	setList(KeyFilesystems, fsList)
	setList(KeyPersistent, buildFinishOrder(c.Persistent))

	saveBus := func(group string, names []BusName) {
		kf.RemoveGroup(group)
		pol := map[string]Policy{}
		var keys []string
		for _, b := range names {
			pol[b.Name] = b.Policy
			keys = append(keys, b.Name)
		}
		for _, n := range buildFinishOrder(keys) {
			try(kf.SetString(group, n, pol[n].String()))
		}
	}
	saveBus(GroupSessionBusPolicy, c.SessionBus)
	saveBus(GroupSystemBusPolicy, c.SystemBus)
	saveBus(GroupA11yBusPolicy, c.A11yBus)

	kf.RemoveGroup(GroupEnvironment)
	env := map[string]EnvVar{}
	var envKeys, unset []string
	for _, e := range c.Environment {
		env[e.Name] = e
		envKeys = append(envKeys, e.Name)
	}
	for _, n := range buildFinishOrder(envKeys) {
		e := env[n]
		if e.Unset {
			try(kf.SetString(GroupEnvironment, n, ""))
			unset = append(unset, n)
		} else {
			try(kf.SetString(GroupEnvironment, n, e.Value))
		}
	}
	if len(unset) > 0 {
		try(kf.SetStringList(GroupContext, KeyUnsetEnvironment, unset))
	} else {
		kf.RemoveKey(GroupContext, KeyUnsetEnvironment)
	}

	for _, g := range kf.Groups() {
		if strings.HasPrefix(g, GroupPrefixPolicy) {
			kf.RemoveGroup(g)
		}
	}
	vals := map[string][]string{}
	var polKeys []string
	for _, p := range c.Policies {
		vals[p.Key] = p.Values
		polKeys = append(polKeys, p.Key)
	}
	for _, k := range buildFinishOrder(polKeys) {
		subsystem, key, ok := strings.Cut(k, ".")
		if !ok {
			errs = append(errs, errors.New("policy "+k+" is not SUBSYSTEM.KEY"))
			continue
		}
		if len(vals[k]) > 0 {
			try(kf.SetStringList(GroupPrefixPolicy+subsystem, key, vals[k]))
		}
	}

	kf.RemoveGroup(GroupUSBDevices)
	if len(c.USBEnumerable) > 0 {
		try(kf.SetStringList(GroupUSBDevices, KeyUSBEnumerable, buildFinishOrder(c.USBEnumerable)))
	}
	if len(c.USBHidden) > 0 {
		try(kf.SetStringList(GroupUSBDevices, KeyUSBHidden, buildFinishOrder(c.USBHidden)))
	}
	return errors.Join(errs...)
}
