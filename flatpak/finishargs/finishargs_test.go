package finishargs

import (
	"reflect"
	"strings"
	"testing"
)

func i32(n int32) *int32 { return &n }

// perms is what --share (true) and --unshare (false), and the like, set.
func perms(m map[string]bool) map[string]Permission {
	out := map[string]Permission{}
	for k, on := range m {
		out[k] = Permission{Allowed: on, Reset: true}
	}
	return out
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Context
	}{
		{"share", []string{"--share=network", "--share", "ipc"}, Context{Shared: perms(map[string]bool{"network": true, "ipc": true})}},
		{"unshare", []string{"--unshare=network"}, Context{Shared: perms(map[string]bool{"network": false})}},
		{"socket", []string{"--socket=wayland", "--socket=pulseaudio", "--socket=cups", "--socket=pcsc", "--socket=ssh-auth", "--socket=gpg-agent", "--socket=session-bus", "--socket=system-bus"},
			Context{Sockets: perms(map[string]bool{"wayland": true, "pulseaudio": true, "cups": true, "pcsc": true, "ssh-auth": true, "gpg-agent": true, "session-bus": true, "system-bus": true})}},
		{"fallback-x11 sets x11", []string{"--socket=fallback-x11"}, Context{Sockets: perms(map[string]bool{"x11": true, "fallback-x11": true})}},
		{"nosocket", []string{"--socket=x11", "--nosocket=x11"}, Context{Sockets: perms(map[string]bool{"x11": false})}},
		{"nosocket fallback-x11", []string{"--nosocket=fallback-x11"}, Context{Sockets: perms(map[string]bool{"x11": false, "fallback-x11": false})}},
		{"device", []string{"--device=dri", "--device=kvm", "--device=shm", "--device=all"}, Context{Devices: perms(map[string]bool{"dri": true, "kvm": true, "shm": true, "all": true})}},
		{"nodevice", []string{"--nodevice=all"}, Context{Devices: perms(map[string]bool{"all": false})}},
		{"flatpak 1.16's socket and devices", []string{"--socket=inherit-wayland-socket", "--device=input", "--device=usb"},
			Context{Sockets: perms(map[string]bool{"inherit-wayland-socket": true}), Devices: perms(map[string]bool{"input": true, "usb": true})}},
		{"conditional permissions of flatpak 1.18", []string{"--socket-if=x11:!has-wayland", "--socket-if=x11:!has-wayland", "--socket-if=pulseaudio:true",
			"--socket=pulseaudio", "--socket-if=pulseaudio:false", "--nodevice=input", "--device-if=input:has-input-device", "--device-if=usb:has-usb-portal",
			"--device-if=usb:has-usb-device", "--share-if=network:false", "--unshare=network", "--allow-if=bluetooth:true"},
			Context{Sockets: map[string]Permission{"x11": {Conditions: []string{"!has-wayland"}}, "pulseaudio": {Allowed: true, Reset: true}},
				Devices: map[string]Permission{"input": {Reset: true, Conditions: []string{"has-input-device"}}, "usb": {Conditions: []string{"has-usb-device", "has-usb-portal"}}},
				Shared:  map[string]Permission{"network": {Reset: true}}, Features: map[string]Permission{"bluetooth": {Conditions: []string{"true"}}}}},
		{"a11y-own-name", []string{"--a11y-own-name=org.example.App.*"}, Context{A11yBus: []BusName{{"org.example.App.*", PolicyOwn}}}},
		{"usb queries as flatpak prints them", []string{"--usb=vnd:1D6B+dev:0002", "--usb=cls:03:*", "--usb=all", "--nousb=cls:0E:01", "--usb=vnd:1d6b+dev:0002",
			"--usb-list=vnd:046d;!vnd:045e+dev:028e;;cls:08:06", "--usb=vnd: 0x1+dev:-000"},
			Context{USBEnumerable: []string{"vnd:1d6b+dev:0002", "cls:03:*", "all", "vnd:046d", "cls:08:06", "vnd:0001+dev:0000"}, USBHidden: []string{"cls:0e:01", "vnd:045e+dev:028e"}}},
		{"allow", []string{"--allow=devel", "--allow=multiarch", "--allow=bluetooth", "--allow=canbus", "--allow=per-app-dev-shm"},
			Context{Features: perms(map[string]bool{"devel": true, "multiarch": true, "bluetooth": true, "canbus": true, "per-app-dev-shm": true})}},
		{"disallow", []string{"--disallow=devel"}, Context{Features: perms(map[string]bool{"devel": false})}},
		{"filesystems", []string{"--filesystem=home", "--filesystem=host:ro", "--filesystem=host-os", "--filesystem=host-etc:create",
			"--filesystem=xdg-download/Foo:rw", "--filesystem=xdg-run/pipewire-0", "--filesystem=~/.config/foo", "--filesystem=/opt/x//y/./z/", "--filesystem=home/bar", "--filesystem=~",
			"--filesystem=xdg-config", "--filesystem=/a\\:b"},
			Context{Filesystems: []Filesystem{{"home", FilesystemReadWrite}, {"host", FilesystemReadOnly}, {"host-os", FilesystemReadWrite}, {"host-etc", FilesystemCreate},
				{"xdg-download/Foo", FilesystemReadWrite}, {"xdg-run/pipewire-0", FilesystemReadWrite}, {"~/.config/foo", FilesystemReadWrite}, {"/opt/x/y/z", FilesystemReadWrite},
				{"~/bar", FilesystemReadWrite}, {"xdg-config", FilesystemReadWrite}, {"/a:b", FilesystemReadWrite}}}},
		{"nofilesystem", []string{"--filesystem=home", "--nofilesystem=home", "--nofilesystem", "host:reset", "--nofilesystem=host-reset"},
			Context{Filesystems: []Filesystem{{"home", FilesystemNone}, {"host", FilesystemNone}, {"host-reset", FilesystemNone}}}},
		{"env", []string{"--env=FOO=bar=baz", "--env", "EMPTY=", "--unset-env=LD_PRELOAD", "--env=FOO=again"},
			Context{Environment: []EnvVar{{"FOO", "again", false}, {"EMPTY", "", false}, {"LD_PRELOAD", "", true}}}},
		{"bus names", []string{"--talk-name=org.freedesktop.Notifications", "--own-name=org.example.App.*", "--no-talk-name=org.a.b", "--talk-name=org.a.b",
			"--system-talk-name=org.freedesktop.UPower", "--system-own-name=org.x-y.z", "--system-no-talk-name=org._1.x"},
			Context{SessionBus: []BusName{{"org.freedesktop.Notifications", PolicyTalk}, {"org.example.App.*", PolicyOwn}, {"org.a.b", PolicyTalk}},
				SystemBus: []BusName{{"org.freedesktop.UPower", PolicyTalk}, {"org.x-y.z", PolicyOwn}, {"org._1.x", PolicyNone}}}},
		{"policies", []string{"--add-policy=sub.key=a", "--add-policy=sub.key=b", "--remove-policy=sub.key=a", "--add-policy=x.y.z=1"},
			Context{Policies: []GenericPolicy{{"sub.key", []string{"b", "!a"}}, {"x.y.z", []string{"1"}}}}},
		{"persist", []string{"--persist=.mozilla", "--persist", ".mozilla", "--persist=a b"}, Context{Persistent: []string{".mozilla", "a b"}}},
		{"no-desktop is accepted and ignored", []string{"--no-desktop"}, Context{}},
		{"command last wins", []string{"--command=a", "--command", "b c"}, Context{Command: "b c"}},
		{"require-version", []string{"--require-version=1.6.2;1.4.2;"}, Context{RequireVersion: "1.6.2;1.4.2;"}},
		{"no-exports", []string{"--no-exports", "--no-inherit-permissions"}, Context{NoExports: true, NoInheritPermissions: true}},
		{"extra-data", []string{"--extra-data=foo.tar:" + strings.Repeat("ab", 32) + ":100::https://example.org/x:y"},
			Context{ExtraData: []ExtraData{{"foo.tar", strings.Repeat("ab", 32), "100", "", "https://example.org/x:y"}}}},
		{"extension", []string{"--extension=org.example.App.Plugin=directory=lib/plugin", "--extension=org.example.App.Plugin=subdirectories"},
			Context{Extensions: []ExtensionSetting{{"org.example.App.Plugin", "directory", "lib/plugin"}, {"org.example.App.Plugin", "subdirectories", "true"}}}},
		{"remove-extension", []string{"--remove-extension=org.example.Old"}, Context{RemoveExtensions: []string{"org.example.Old"}}},
		{"extension-priority", []string{"--extension-priority=-5"}, Context{ExtensionPriority: i32(-5)}},
		{"extension-priority hex like strtol", []string{"--extension-priority", "0x10"}, Context{ExtensionPriority: i32(16)}},
		{"sdk runtime", []string{"--sdk=org.example.Sdk", "--runtime=runtime/org.example.Platform//2"}, Context{SDK: "org.example.Sdk", Runtime: "runtime/org.example.Platform//2"}},
		{"metadata", []string{"--metadata=X-Foo=bar", "--metadata=X-Foo=baz=a=b"}, Context{Metadata: []MetadataSetting{{"X-Foo", "bar", "true"}, {"X-Foo", "baz", "a=b"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.args, *got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		args  []string
		index int
		msg   string // substring
	}{
		{[]string{"--share=x11"}, 0, `unknown share "x11"`},
		{[]string{"--socket=x12"}, 0, `unknown socket "x12" (did you mean x11?); known: x11, wayland`},
		{[]string{"--socket=wayland-inherit"}, 0, `unknown socket "wayland-inherit"`},
		{[]string{"--device=usbx"}, 0, `unknown device "usbx" (did you mean usb?)`},
		{[]string{"--usb=vnd:12"}, 0, `--usb=vnd:12: USB query rule 'vnd' must have a valid 4-digit hexadecimal vendor id`},
		{[]string{"--usb=dev:1234"}, 0, `USB queries with 'dev' must also specify vendors`},
		{[]string{"--usb=all+vnd:1234"}, 0, `'all' must not contain extra query rules`},
		{[]string{"--usb=vnd:1234+vnd:5678"}, 0, `multiple USB query rules of the same type are not supported`},
		{[]string{"--nousb=cls:0g:*"}, 0, `invalid USB class`},
		{[]string{"--usb=cls:03"}, 0, `USB query rule 'cls' must be in the form CLASS:SUBCLASS or CLASS:*`},
		{[]string{"--usb=usb:1"}, 0, `unknown USB query rule "usb" (known: all, cls, vnd, dev)`},
		{[]string{"--usb="}, 0, `empty USB query`},
		{[]string{"--usb-list=vnd:1234;!bad"}, 0, `--usb-list=vnd:1234;!bad: "!bad": unknown USB query rule "bad"`},
		{[]string{"--usb-list-file=devices"}, 0, `--usb-list-file reads a file when build-finish runs`},
		{[]string{"--socket-if=x11"}, 0, `--socket-if=x11: expected SOCKET:CONDITION`},
		{[]string{"--device-if=foo:true"}, 0, `unknown device "foo"`},
		{[]string{"--socket-if=x11:has-weyland"}, 0, `unknown condition "has-weyland" (did you mean has-wayland?); known: true, false, has-input-device, has-usb-device, has-wayland, has-usb-portal (a condition may start with '!')`},
		{[]string{"--allow-if=devel:"}, 0, `unknown condition ""`},
		{[]string{"--socket-if=fallback-x11:true"}, 0, `fallback-x11 cannot be conditional`},
		{[]string{"--socket=fallback-x11", "--socket-if=x11:has-wayland"}, 1, `cannot be used with --socket=fallback-x11`},
		{[]string{"--socket-if=x11:has-wayland", "--nosocket=fallback-x11"}, 1, `cannot be used with --socket=fallback-x11`},
		{[]string{"--filesystem=xdg-download/.."}, 0, `contains ".."`},
		{[]string{"--filesystem=home/../etc"}, 0, `contains ".."`},
		{[]string{"--a11y-own-name=not a name"}, 0, `invalid D-Bus name "not a name"`},
		{[]string{"--allow=foo"}, 0, `unknown feature "foo"`},
		{[]string{"--filesytem=home"}, 0, `unknown option --filesytem (did you mean --filesystem?); known options: --share`},
		{[]string{"--env-fd=3"}, 0, `--env-fd reads variables from a file descriptor`},
		{[]string{"--help"}, 0, `not a permission`},
		{[]string{"-v"}, 0, `no short options`},
		{[]string{"home"}, 0, `"home" is not an option`},
		{[]string{"--share"}, 0, `--share needs a value`},
		{[]string{"--no-exports=yes"}, 0, `takes no value`},
		{[]string{"--filesystem=foo"}, 0, `unknown filesystem location "foo"`},
		{[]string{"--filesystem=/"}, 0, `--filesystem=/ is not available`},
		{[]string{"--filesystem=//"}, 0, `--filesystem=/ is not available`},
		{[]string{"--filesystem=/a/../b"}, 0, `contains ".."`},
		{[]string{"--filesystem=xdg-run"}, 0, `unknown filesystem location`},
		{[]string{"--filesystem=home:rx"}, 0, `unknown suffix :rx`},
		{[]string{"--filesystem=host:reset"}, 0, `:reset only applies to --nofilesystem`},
		{[]string{"--filesystem=host-reset"}, 0, `only applies to --nofilesystem`},
		{[]string{"--nofilesystem=home:reset"}, 0, `only applies to --nofilesystem=host`},
		{[]string{"--nofilesystem=home:ro"}, 0, `does not apply to --nofilesystem`},
		{[]string{"--nofilesystem=host-reset:ro"}, 0, `cannot have a suffix`},
		{[]string{"--filesystem=/a;b"}, 0, `';' in a filesystem location`},
		{[]string{"--filesystem=/a\tb"}, 0, `non-graphical character`},
		{[]string{"--filesystem", "/a\nb"}, 1, `line break`},
		{[]string{"--env=FOO"}, 0, `expected VAR=VALUE`},
		{[]string{"--env==x"}, 0, `expected VAR=VALUE`},
		{[]string{"--env= X=y"}, 0, `contains ' '`},
		{[]string{"--env=A[x]=y"}, 0, `contains '['`},
		{[]string{"--env=A=b\x00c"}, 0, `NUL`},
		{[]string{"--env=#A=b"}, 0, `reads back as a comment`},
		{[]string{"--env=A=b\nc"}, 0, `line break`},
		{[]string{"--unset-env=A=b"}, 0, `must not contain '='`},
		{[]string{"--talk-name=org"}, 0, `invalid D-Bus name "org"`},
		{[]string{"--talk-name=:1.5"}, 0, `invalid D-Bus name`},
		{[]string{"--talk-name=org.1foo"}, 0, `invalid D-Bus name`},
		{[]string{"--own-name=org.foo.*.bar"}, 0, `invalid D-Bus name`},
		{[]string{"--system-talk-name=.org.foo"}, 0, `invalid D-Bus name`},
		{[]string{"--talk-name=org..foo"}, 0, `invalid D-Bus name`},
		{[]string{"--talk-name=*"}, 0, `invalid D-Bus name`},
		{[]string{"--add-policy=foo=bar"}, 0, `expected SUBSYSTEM.KEY=VALUE`},
		{[]string{"--add-policy=foo.bar"}, 0, `expected SUBSYSTEM.KEY=VALUE`},
		{[]string{"--add-policy=a.b=!c"}, 0, `can't start with "!"`},
		{[]string{"--remove-policy=a.b=!c"}, 0, `can't start with "!"`},
		{[]string{"--add-policy=a.=c"}, 0, `bad KEY`},
		{[]string{"--add-policy=.b=c"}, 0, `SUBSYSTEM is empty`},
		{[]string{"--add-policy=a[.b=c"}, 0, `bad SUBSYSTEM`},
		{[]string{"--add-policy=a.b=c;d"}, 0, `';' in a policy value`},
		{[]string{"--persist=a;b"}, 0, `';' in a path`},
		{[]string{"--command="}, 0, `the command is empty`},
		{[]string{"--require-version=1.4"}, 0, `is not a version`},
		{[]string{"--require-version=1.x.0"}, 0, `is not a version`},
		{[]string{"--require-version="}, 0, `expected MAJOR.MINOR.MICRO`},
		{[]string{"--extra-data=a:b:c"}, 0, `expected NAME:SHA256`},
		{[]string{"--extra-data=a:abc:1:2:http://x"}, 0, `not a lower-case SHA-256`},
		{[]string{"--extra-data=a:" + strings.Repeat("0", 64) + ":x:2:http://x"}, 0, `download size "x"`},
		{[]string{"--extension=org.example.Ext"}, 0, `expected NAME=VARIABLE[=VALUE]`},
		{[]string{"--extension=Ext=directory=x"}, 0, `invalid extension name`},
		{[]string{"--extension=org.example.Ext=dir[x]=y"}, 0, `contains '['`},
		{[]string{"--extension=org.ex-ample.Ext=directory=x"}, 0, `only the last element`},
		{[]string{"--remove-extension=a]b"}, 0, `contains ']'`},
		{[]string{"--extension-priority=ten"}, 0, `not an integer`},
		{[]string{"--extension-priority=4294967296"}, 0, `out of range`},
		{[]string{"--sdk=app/org.example.App"}, 0, `must be a runtime`},
		{[]string{"--runtime=org.example"}, 0, `invalid id`},
		{[]string{"--runtime=org.example.Platform/x86_64/.1"}, 0, `invalid branch`},
		{[]string{"--metadata=Foo"}, 0, `expected GROUP=KEY[=VALUE]`},
		{[]string{"--metadata=Fo[o=bar"}, 0, `contains '['`},
		{[]string{"--metadata=Foo= bar"}, 0, `starts or ends with a space`},
		{[]string{"--metadata=Foo=bar=\xff"}, 0, `not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := Parse(tt.args)
			errs, ok := err.(Errors)
			if !ok || len(errs) != 1 {
				t.Fatalf("Parse(%q) = %v, want one error", tt.args, err)
			}
			if errs[0].Index != tt.index || !strings.Contains(errs[0].Msg, tt.msg) {
				t.Errorf("Parse(%q) error at %d: %q; want at %d containing %q", tt.args, errs[0].Index, errs[0].Msg, tt.index, tt.msg)
			}
		})
	}
}

func TestParseReportsEveryBadArgument(t *testing.T) {
	_, err := Parse([]string{"--share=network", "--socket=x12", "--filesystem", "home", "--devise=dri", "--talk-name"})
	errs := err.(Errors)
	var idx []int
	for _, e := range errs {
		idx = append(idx, e.Index)
	}
	if !reflect.DeepEqual(idx, []int{1, 4, 5}) {
		t.Errorf("error indexes %v, want [1 4 5]: %v", idx, err)
	}
}
