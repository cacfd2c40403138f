package metadata

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/finishargs"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/keyfile"
)

// Group and key names of the metadata file.
const (
	GroupApplication     = "Application"
	GroupRuntime         = "Runtime"
	GroupExtraData       = "Extra Data"
	GroupExtensionOf     = "ExtensionOf"
	GroupPrefixExtension = "Extension "

	KeyName            = "name"
	KeyRuntime         = "runtime"
	KeySDK             = "sdk"
	KeyCommand         = "command"
	KeyTags            = "tags"
	KeyRequiredFlatpak = "required-flatpak"
	KeyPriority        = "priority"
)

// AppInput is what an application's metadata is made of.
type AppInput struct {
	// ID is the application ID.
	ID string
	// Runtime and SDK are partial refs ID/ARCH/BRANCH, such as
	// "org.example.Platform/x86_64/1". SDK may be empty (no sdk key).
	Runtime, SDK string
	// Command is the manifest's command; a --command in the finish-args
	// replaces it (flatpak-builder passes it before the finish-args).
	Command string
	// Context is the parsed finish-args (nil: none).
	Context *finishargs.Context
	// Tags are written as build-init writes --tag values.
	Tags []string
	// Extensions are the add-extensions, written as [Extension NAME]
	// groups after any --extension of the finish-args.
	Extensions map[string]Extension
}

// RuntimeInput is what a runtime's metadata is made of.
type RuntimeInput struct {
	// ID is the runtime ID.
	ID string
	// Runtime and SDK are ID/ARCH/BRANCH: for a platform usually itself, for
	// an SDK the platform; SDK the matching SDK. Both are required.
	Runtime, SDK string
	// Context is the parsed finish-args (nil: none). --command is refused:
	// build-finish ignores it for runtimes.
	Context    *finishargs.Context
	Tags       []string
	Extensions map[string]Extension
}

// App returns the metadata file of an application.
func App(in AppInput) ([]byte, error) {
	ctx := in.Context
	if ctx == nil {
		ctx = &finishargs.Context{}
	}
	kf, err := buildInit(GroupApplication, in.ID, in.Runtime, in.SDK, in.Tags)
	if err != nil {
		return nil, err
	}
	return buildFinish(kf, GroupApplication, in.Command, ctx, in.Extensions)
}

// Runtime returns the metadata file of a runtime.
func Runtime(in RuntimeInput) ([]byte, error) {
	ctx := in.Context
	if ctx == nil {
		ctx = &finishargs.Context{}
	}
	if in.Runtime == "" || in.SDK == "" {
		return nil, fmt.Errorf("metadata: runtime %s: runtime and sdk are required", in.ID)
	}
	if ctx.Command != "" {
		return nil, fmt.Errorf("metadata: runtime %s: --command has no effect on a runtime", in.ID)
	}
	kf, err := buildInit(GroupRuntime, in.ID, in.Runtime, in.SDK, in.Tags)
	if err != nil {
		return nil, err
	}
	return buildFinish(kf, GroupRuntime, "", ctx, in.Extensions)
}

// ExtensionOf returns the metadata file of an extension of the runtime (or
// app) ref extensionOf (runtime/ID/ARCH/BRANCH): what flatpak build-init
// --type=extension writes ([Runtime] with in's runtime and SDK, and
// [ExtensionOf] with the ref and the runtime), as build-finish updates it.
func ExtensionOf(in RuntimeInput, extensionOf string) ([]byte, error) {
	ctx := in.Context
	if ctx == nil {
		ctx = &finishargs.Context{}
	}
	if ctx.Command != "" {
		return nil, fmt.Errorf("metadata: extension %s: --command has no effect on an extension", in.ID)
	}
	kf, err := buildInit(GroupRuntime, in.ID, in.Runtime, in.SDK, in.Tags)
	if err != nil {
		return nil, err
	}
	if err := kf.SetString("ExtensionOf", "ref", extensionOf); err != nil {
		return nil, err
	}
	if err := kf.SetString("ExtensionOf", "runtime", in.Runtime); err != nil {
		return nil, err
	}
	return buildFinish(kf, GroupRuntime, "", ctx, in.Extensions)
}

// checkRef checks an ID/ARCH/BRANCH partial ref.
func checkRef(what, ref string) error {
	if _, err := flatpakref.ParsePartial(flatpakref.Runtime, ref); err != nil {
		return fmt.Errorf("%s %q: %v", what, ref, err)
	}
	return nil
}

// buildInit is the keyfile `flatpak build-init` writes.
func buildInit(group, id, runtime, sdk string, tags []string) (*keyfile.File, error) {
	if err := flatpakref.CheckID(id); err != nil {
		return nil, fmt.Errorf("metadata: invalid ID: %v", err)
	}
	if err := checkRef("runtime", runtime); err != nil {
		return nil, fmt.Errorf("metadata: %v", err)
	}
	kf := keyfile.New()
	var errs []error
	try := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	try(kf.SetString(group, KeyName, id))
	try(kf.SetString(group, KeyRuntime, runtime))
	if sdk != "" {
		if err := checkRef("sdk", sdk); err != nil {
			return nil, fmt.Errorf("metadata: %v", err)
		}
		try(kf.SetString(group, KeySDK, sdk))
	}
	if len(tags) > 0 {
		// build-init writes "tags=" and each tag followed by ';' unescaped.
		var b strings.Builder
		for _, t := range tags {
			if err := checkTag(t); err != nil {
				return nil, fmt.Errorf("metadata: %v", err)
			}
			b.WriteString(t + ";")
		}
		try(kf.SetValue(group, KeyTags, b.String()))
	}
	return kf, errors.Join(errs...)
}

func checkTag(t string) error {
	if t == "" {
		return fmt.Errorf("empty tag")
	}
	if t != keyfile.EscapeListElement(t) || strings.TrimSpace(t) != t {
		return fmt.Errorf("tag %q contains ';', '\\', a control character or surrounding space", t)
	}
	for _, r := range t {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("tag %q contains a control character", t)
		}
	}
	return nil
}

// resolveRef is what build-finish does with --sdk / --runtime: missing
// parts of the partial ref come from the old value (branch "master" when
// there is none).
func resolveRef(partial, old string) (string, error) {
	id, arch, branch, err := flatpakref.SplitLoose(partial)
	if err != nil {
		return "", err
	}
	oldParts := strings.Split(old, "/")
	if arch == "" {
		if len(oldParts) < 2 {
			return "", fmt.Errorf("%q has no architecture and there is no runtime to take it from", partial)
		}
		arch = oldParts[1]
	}
	if branch == "" {
		branch = "master"
		if len(oldParts) >= 3 {
			branch = oldParts[2]
		}
	}
	return flatpakref.Ref{Kind: flatpakref.Runtime, ID: id, Arch: arch, Branch: branch}.Partial(), nil
}

func buildFinish(kf *keyfile.File, group, command string, ctx *finishargs.Context, exts map[string]Extension) ([]byte, error) {
	var errs []error
	try := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	// --sdk / --runtime.
	if ctx.SDK != "" || ctx.Runtime != "" {
		oldRuntime, _ := kf.String(group, KeyRuntime)
		oldSDK, _ := kf.String(group, KeySDK)
		if oldSDK == "" {
			oldSDK = oldRuntime
		}
		if ctx.SDK != "" {
			ref, err := resolveRef(ctx.SDK, oldSDK)
			try(err)
			try(kf.SetString(group, KeySDK, ref))
		}
		if ctx.Runtime != "" {
			ref, err := resolveRef(ctx.Runtime, oldRuntime)
			try(err)
			try(kf.SetString(group, KeyRuntime, ref))
		}
	}
	if group == GroupApplication {
		if ctx.Command != "" {
			command = ctx.Command
		}
		if command == "" {
			return nil, fmt.Errorf("metadata: no command: set command (build-finish would guess from files/bin)")
		}
		try(kf.SetString(group, KeyCommand, command))
	}
	if ctx.RequireVersion != "" {
		try(kf.SetString(group, KeyRequiredFlatpak, ctx.RequireVersion))
	}
	try(ctx.Save(kf))

	for i, ed := range ctx.ExtraData {
		suffix := ""
		if i > 0 {
			suffix = fmt.Sprint(i)
		}
		if ed.Name != "" {
			try(kf.SetString(GroupExtraData, "name"+suffix, ed.Name))
		}
		try(kf.SetString(GroupExtraData, "checksum"+suffix, ed.Checksum))
		try(kf.SetString(GroupExtraData, "size"+suffix, ed.Size))
		if ed.InstalledSize != "" {
			try(kf.SetString(GroupExtraData, "installed-size"+suffix, ed.InstalledSize))
		}
		try(kf.SetString(GroupExtraData, "uri"+suffix, ed.URI))
	}
	for _, m := range ctx.Metadata {
		try(kf.SetString(m.Group, m.Key, m.Value))
	}
	for _, name := range ctx.RemoveExtensions {
		kf.RemoveGroup(GroupPrefixExtension + name)
	}
	for _, e := range ctx.Extensions {
		try(kf.SetString(GroupPrefixExtension+e.Name, e.Key, e.Value))
	}
	ea, err := ExtensionArgs(exts)
	try(err)
	for _, e := range ea {
		try(kf.SetString(GroupPrefixExtension+e.Name, e.Key, e.Value))
	}
	if ctx.ExtensionPriority != nil {
		try(kf.SetInteger(GroupExtensionOf, KeyPriority, *ctx.ExtensionPriority))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return kf.Bytes(), nil
}

// ExtensionArgs returns the --extension settings flatpak-builder passes to
// build-finish for add-extensions (builder_extension_add_finish_args):
// extensions sorted by name; for each, directory, autodelete,
// no-autodownload, locale-subset, subdirectories (booleans only when true,
// as "true"), add-ld-path, download-if, enable-if, autoprune-unless,
// merge-dirs, subdirectory-suffix, version, versions (only when set).
func ExtensionArgs(exts map[string]Extension) ([]finishargs.ExtensionSetting, error) {
	var names []string
	for n := range exts {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []finishargs.ExtensionSetting
	var errs []error
	for _, n := range names {
		e := exts[n]
		if err := flatpakref.CheckID(n); err != nil {
			errs = append(errs, fmt.Errorf("add-extensions: invalid extension name: %v", err))
			continue
		}
		if e.Directory == "" {
			errs = append(errs, fmt.Errorf("add-extensions: %s: no directory", n))
			continue
		}
		add := func(k, v string) {
			if v != "" {
				out = append(out, finishargs.ExtensionSetting{Name: n, Key: k, Value: v})
			}
		}
		b := func(v bool) string {
			if v {
				return "true"
			}
			return ""
		}
		add("directory", e.Directory)
		add("autodelete", b(e.Autodelete))
		add("no-autodownload", b(e.NoAutodownload))
		add("locale-subset", b(e.LocaleSubset))
		add("subdirectories", b(e.Subdirectories))
		add("add-ld-path", e.AddLdPath)
		add("download-if", e.DownloadIf)
		add("enable-if", e.EnableIf)
		add("autoprune-unless", e.AutopruneUnless)
		add("merge-dirs", e.MergeDirs)
		add("subdirectory-suffix", e.SubdirectorySuffix)
		add("version", e.Version)
		add("versions", e.Versions)
	}
	return out, errors.Join(errs...)
}
