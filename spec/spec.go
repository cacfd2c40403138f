package spec

import "github.com/flatpak-frontend/flatpak-frontend/flatpak/metadata"

// Spec is one flatpak.yaml: the keys of the flatpak: section of a Fedora
// container.yaml (flatpak-module-tools' FlatpakSpec) plus the keys this
// frontend adds for what Koji used to decide. Each field's comment is the
// key's documentation: the JSON Schema and docs/keys.md are generated from it.
type Spec struct {
	// The application or runtime ID, such as org.gnome.eog: three or more
	// dot-separated elements; only the last may contain '-'.
	ID string `yaml:"id" json:"id"`
	// The Flatpak branch of the result.
	Branch string `yaml:"branch,omitempty" json:"branch,omitempty" default:"stable"`
	// The module or package name the Flatpak is built from (informational;
	// used in the image title).
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// The Fedora component (dist-git repository) name (informational).
	Component string `yaml:"component,omitempty" json:"component,omitempty"`
	// Build a runtime instead of an application.
	BuildRuntime bool `yaml:"build-runtime,omitempty" json:"build-runtime,omitempty"`
	// Build an extension of the runtime runtime-name and runtime-version
	// name (flatpak-builder's key): the packages are installed onto the
	// runtime, and what they put in the folder the runtime's [Extension
	// ID] group names (its directory=, below /usr) becomes the image.
	BuildExtension bool `yaml:"build-extension,omitempty" json:"build-extension,omitempty"`
	// The architectures the image is built for; in a container.yaml, its
	// top-level platforms: section. Building for another is an error; a
	// multi-platform build leaves it out.
	Platforms *Platforms `yaml:"platforms,omitempty" json:"platforms,omitempty"`
	// Runtimes only: the ID of the runtime this runtime's metadata names as its
	// runtime (for an SDK, the matching platform).
	Runtime string `yaml:"runtime,omitempty" json:"runtime,omitempty"`
	// Runtimes only: the ID of the SDK that goes with this runtime.
	SDK string `yaml:"sdk,omitempty" json:"sdk,omitempty"`
	// Applications: the runtime the app runs on, as its ID
	// (org.fedoraproject.Platform) or, as Fedora's container.yaml writes it,
	// its container name (flatpak-runtime); with runtime-version it names the
	// default runtime image.
	RuntimeName string `yaml:"runtime-name,omitempty" json:"runtime-name,omitempty"`
	// Applications: the branch of the runtime the app runs on.
	RuntimeVersion string `yaml:"runtime-version,omitempty" json:"runtime-version,omitempty"`
	// RPM packages to install: names, or objects limiting a package to some
	// architectures.
	Packages []Package `yaml:"packages,omitempty" json:"packages,omitempty" shape:"packages"`
	// Applications: the command flatpak run starts, relative to /app/bin or
	// absolute. One that neither the app's packages nor the runtime's
	// /usr/bin have gets a warning.
	Command string `yaml:"command,omitempty" json:"command,omitempty"`
	// Sandbox permissions, as flatpak build-finish options: a list, or one
	// string split like a shell command line, with # comments.
	FinishArgs []string `yaml:"finish-args,omitempty" json:"finish-args,omitempty" shape:"finish-args"`
	// A shell script run in the build root after the packages are installed.
	// Also spelled cleanup_commands.
	CleanupCommands string `yaml:"cleanup-commands,omitempty" json:"cleanup-commands,omitempty" shape:"script"`
	// Tags written to the metadata.
	Tags []string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// Marks the result end-of-life with this message.
	EndOfLife string `yaml:"end-of-life,omitempty" json:"end-of-life,omitempty"`
	// Marks the result end-of-life in favour of this ID.
	EndOfLifeRebase string `yaml:"end-of-life-rebase,omitempty" json:"end-of-life-rebase,omitempty"`
	// Compose AppStream data when the runtime has the tools for it.
	AppstreamCompose bool `yaml:"appstream-compose" json:"appstream-compose" default:"true"`
	// Replaces the project_license of the AppStream file. Also spelled
	// appstream-license.
	AppdataLicense string `yaml:"appdata-license,omitempty" json:"appdata-license,omitempty"`
	// With rename-icon: keep the icon under its old name too.
	CopyIcon bool `yaml:"copy-icon,omitempty" json:"copy-icon,omitempty"`
	// Prepended to the Name of the desktop file.
	DesktopFileNamePrefix string `yaml:"desktop-file-name-prefix,omitempty" json:"desktop-file-name-prefix,omitempty"`
	// Appended to the Name of the desktop file.
	DesktopFileNameSuffix string `yaml:"desktop-file-name-suffix,omitempty" json:"desktop-file-name-suffix,omitempty"`
	// Renames this file in /app/share/metainfo (or appdata) to ID.metainfo.xml.
	RenameAppdataFile string `yaml:"rename-appdata-file,omitempty" json:"rename-appdata-file,omitempty"`
	// Renames this file in /app/share/applications to ID.desktop.
	RenameDesktopFile string `yaml:"rename-desktop-file,omitempty" json:"rename-desktop-file,omitempty"`
	// Renames icons of this name to ID and updates the desktop file.
	RenameIcon string `yaml:"rename-icon,omitempty" json:"rename-icon,omitempty"`
	// Renames this file in /app/share/mime/packages to ID.xml.
	RenameMimeFile string `yaml:"rename-mime-file,omitempty" json:"rename-mime-file,omitempty"`
	// Renames these MIME type icons to ID.NAME, in /app/share/icons and in
	// the MIME file (with rename-mime-file, the renamed one).
	RenameMimeIcons []string `yaml:"rename-mime-icons,omitempty" json:"rename-mime-icons,omitempty"`
	// Applications: files Flatpak downloads when it installs the app
	// instead of shipping them in the image, such as a vendor's package; the
	// app must ship /app/bin/apply_extra, which Flatpak runs to unpack them
	// into /app/extra.
	ExtraData []ExtraData `yaml:"extra-data,omitempty" json:"extra-data,omitempty"`
	// Extra labels for the image config. They win over the build system's (name, com.redhat.component, version, release); org.flatpak.*, org.freedesktop.appstream.* and org.flatpak-frontend.* are written from what is built and cannot be set.
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	// The image whose package manager installs a runtime's packages (and an
	// app's, when the runtime has none).
	BaseImage string `yaml:"base_image,omitempty" json:"base_image,omitempty"`

	// Build arguments this file uses as ${NAME}, with their defaults. Values
	// come from --build-arg NAME=VALUE.
	Args map[string]string `yaml:"args,omitempty" json:"args,omitempty" shape:"args"`
	// The runtime image to build the app FROM. Default: derived from
	// runtime-name and runtime-version. Overridden by the RUNTIME_IMAGE build
	// arg and by a build context named "runtime".
	RuntimeImage string `yaml:"runtime-image,omitempty" json:"runtime-image,omitempty"`
	// Package repositories to install from. When none are given the runtime's
	// own repository configuration is used.
	Repos []Repo `yaml:"repos,omitempty" json:"repos,omitempty"`
	// The package manager to install with.
	Installer Installer `yaml:"installer,omitempty" json:"installer,omitempty" default:"auto"`
	// The release version the installer puts in repo URLs as $releasever
	// (41, rawhide, 10.1), as dnf --releasever gives it. Default: what the
	// installer detects from the system-release package of the root it
	// installs into, which a runtime without one lacks.
	ReleaseVer string `yaml:"releasever,omitempty" json:"releasever,omitempty"`
	// Packages allowed to install files outside /app (they are then not part
	// of the result). Any other package that does is an error, except for
	// rpm's build-id links under /usr/lib/.build-id, which are left out.
	AllowOutsideApp []string `yaml:"allow-outside-app,omitempty" json:"allow-outside-app,omitempty"`
	// Extension points written to the metadata as [Extension NAME] groups.
	AddExtensions map[string]Extension `yaml:"add-extensions,omitempty" json:"add-extensions,omitempty"`

	// Source is where the spec came from; positions of every key.
	Source *Source `yaml:"-" json:"-"`
}

// ExtraData is one file of extra-data (flatpak build-finish --extra-data).
type ExtraData struct {
	// The file's name in /app/extra. Default: the last element of url.
	Filename string `yaml:"filename,omitempty" json:"filename,omitempty"`
	// Where Flatpak downloads it from (http or https).
	URL string `yaml:"url" json:"url"`
	// Its SHA-256, as 64 hex digits.
	SHA256 string `yaml:"sha256" json:"sha256"`
	// Its size in bytes.
	Size uint64 `yaml:"size" json:"size"`
	// How much room it takes once apply_extra has unpacked it.
	InstalledSize uint64 `yaml:"installed-size,omitempty" json:"installed-size,omitempty"`
	// Only on these architectures.
	OnlyArches []string `yaml:"only-arches,omitempty" json:"only-arches,omitempty" shape:"arches"`
}

// Package is one entry of packages.
type Package struct {
	// The RPM name.
	Name string `yaml:"name" json:"name"`
	// Architectures (x86_64, aarch64, ...) the package is installed on.
	Platforms *Platforms `yaml:"platforms,omitempty" json:"platforms,omitempty"`
}

// Platforms limits a package to some architectures.
type Platforms struct {
	// Install only on these architectures.
	Only []string `yaml:"only,omitempty" json:"only,omitempty" shape:"arches"`
	// Never install on these architectures.
	Not []string `yaml:"not,omitempty" json:"not,omitempty" shape:"arches"`
}

// Repo is one package repository.
type Repo struct {
	// The repository id; letters, digits and -_.: only.
	Name string `yaml:"name" json:"name"`
	// An http(s) or file URL of the repository. One of baseurl, metalink,
	// mirrorlist and path.
	BaseURL string `yaml:"baseurl,omitempty" json:"baseurl,omitempty"`
	// An http(s) URL of a metalink listing the repository's mirrors, as
	// Fedora's repo files give it
	// (https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch).
	Metalink string `yaml:"metalink,omitempty" json:"metalink,omitempty"`
	// An http(s) URL of a list of the repository's mirrors.
	Mirrorlist string `yaml:"mirrorlist,omitempty" json:"mirrorlist,omitempty"`
	// A directory inside the build context (or the named context given by
	// context) that holds the repository: the RPMs with the repodata/
	// folder that createrepo_c writes beside them. A folder of RPMs
	// without repodata/ (as rpmbuild, mock or fedpkg leave them, in
	// folders of their own too) is indexed by the build as createrepo_c
	// would; a repodata/ that is there is used as it is, so run
	// createrepo_c again after changing its RPMs.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// With path: the name of the build context that holds it. Default: the
	// main context.
	Context string `yaml:"context,omitempty" json:"context,omitempty"`
	// Check package signatures. Default: true when gpgkey is set.
	GPGCheck *bool `yaml:"gpgcheck,omitempty" json:"gpgcheck,omitempty"`
	// URLs of the signing keys (file:// paths are inside the build image):
	// one, several separated by spaces or commas as in a .repo file (a
	// repo whose key was rotated lists the old and the new), or a list.
	// The install step imports them with rpm before the installer runs
	// (no GnuPG needed in the runtime).
	GPGKeys []string `yaml:"gpgkey,omitempty" json:"gpgkey,omitempty" shape:"urls"`
	// The repository priority (lower wins).
	Priority int `yaml:"priority,omitempty" json:"priority,omitempty"`
	// Only these packages are taken from the repository.
	IncludePkgs []string `yaml:"includepkgs,omitempty" json:"includepkgs,omitempty"`
	// These packages are never taken from the repository.
	ExcludePkgs []string `yaml:"excludepkgs,omitempty" json:"excludepkgs,omitempty"`
	// The id of a BuildKit secret (--secret id=ID,src=FILE) holding
	// USER:PASSWORD for the repository.
	Secret string `yaml:"secret,omitempty" json:"secret,omitempty"`
}

// Installer names a package manager.
type Installer string

const (
	InstallerAuto     Installer = "auto"
	InstallerMicrodnf Installer = "microdnf"
	InstallerDnf5     Installer = "dnf5"
	InstallerDnf      Installer = "dnf"
)

// The type lives with the metadata writer that turns it into the group.

// Extension is one extension point ([Extension NAME] in the metadata).
type Extension = metadata.Extension

// Pos is a 1-based line and column.
type Pos struct {
	Line   int
	Column int
}

// Range is the span of a YAML node.
type Range struct {
	Start Pos
	End   Pos
}

// Source is the file a spec was parsed from.
type Source struct {
	// Filename as given to Parse.
	Filename string
	// Data is the file's bytes (BuildKit source maps show lines from it).
	Data []byte
	// ranges maps a key path (see Range) to the node that set it.
	ranges map[string]Range
}
