package finishargs

// The sandbox model: what the options set, as Flatpak's FlatpakContext
// holds it, and the errors Parse reports.

// The names flatpak 1.16 knows, in the order of its enums: the metadata
// lists are written in this order (flatpak 1.14 knows all but
// inherit-wayland-socket, input and usb, and skips those when it reads
// metadata).
var (
	// ShareNames are the values of --share / --unshare.
	ShareNames = []string{"network", "ipc"}
	// SocketNames are the values of --socket / --nosocket.
	SocketNames = []string{"x11", "wayland", "pulseaudio", "session-bus", "system-bus",
		"fallback-x11", "ssh-auth", "pcsc", "cups", "gpg-agent", "inherit-wayland-socket"}
	// DeviceNames are the values of --device / --nodevice.
	DeviceNames = []string{"dri", "all", "kvm", "shm", "input", "usb"}
	// FeatureNames are the values of --allow / --disallow.
	FeatureNames = []string{"devel", "multiarch", "bluetooth", "canbus", "per-app-dev-shm"}
	// ConditionNames are the conditions of flatpak 1.18's --share-if,
	// --socket-if, --device-if and --allow-if, each optionally negated with
	// '!'.
	ConditionNames = []string{"true", "false", "has-input-device", "has-usb-device", "has-wayland", "has-usb-portal"}
)

// Permission is the state of one share, socket, device or feature, as
// flatpak 1.18 keeps it (FlatpakPermission): allowed, not allowed, or
// allowed when one of its conditions holds.
type Permission struct {
	// Allowed is --share, --socket, --device or --allow: allowed whatever
	// holds.
	Allowed bool
	// Conditions, when not Allowed, are those of flatpak 1.18's
	// --share-if, --socket-if, --device-if and --allow-if ("has-wayland",
	// "!has-wayland", ...), sorted: the permission is granted when one holds.
	// Flatpak 1.16 and older read such a permission as allowed.
	Conditions []string
	// Reset is a --unshare, --nosocket, --nodevice or --disallow before the
	// conditions: "!NAME" is written ahead of them.
	Reset bool
}

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
	// Shared maps a ShareNames entry to its --share, --unshare and
	// --share-if.
	Shared map[string]Permission
	// Sockets maps a SocketNames entry to its --socket, --nosocket and
	// --socket-if. fallback-x11 sets x11 too, as flatpak 1.16 and older do
	// (1.18 keeps them apart, and gives x11 when there is no Wayland for
	// either).
	Sockets map[string]Permission
	// Devices maps a DeviceNames entry to its --device, --nodevice and
	// --device-if.
	Devices map[string]Permission
	// Features maps a FeatureNames entry to its --allow, --disallow and
	// --allow-if.
	Features    map[string]Permission
	Filesystems []Filesystem
	// Persistent holds --persist paths.
	Persistent  []string
	Environment []EnvVar
	SessionBus  []BusName
	SystemBus   []BusName
	// A11yBus is --a11y-own-name (flatpak 1.16): names owned on the
	// accessibility bus.
	A11yBus  []BusName
	Policies []GenericPolicy
	// USBEnumerable and USBHidden are --usb and --nousb queries (flatpak
	// 1.16), as ParseUSBQuery prints them.
	USBEnumerable, USBHidden []string

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
