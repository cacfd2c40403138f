package buildstep

import (
	"encoding/json"
	"fmt"
	"os"
)

// Where a step finds its inputs. Everything the frontend mounts into a step
// lives below Root, a folder no package owns.
const (
	// Root is the frontend's folder inside a step.
	Root = "/run/flatpak-frontend"
	// HelperDir holds the frontend's own binary (read-only).
	HelperDir = Root + "/helper"
	// ConfigDir holds ConfigFile (read-only).
	ConfigDir = Root + "/config"
	// ConfigFile is the step's [InstallConfig] or [FinishConfig], as JSON.
	ConfigFile = ConfigDir + "/step.json"
	// TmpDir is a tmpfs for the step's scratch files (never in a layer).
	TmpDir = Root + "/tmp"
	// ReposDir holds the .repo files written from the spec's repos.
	ReposDir = Root + "/repos.d"
	// ContextDir holds the build contexts of local repos, one folder each.
	ContextDir = Root + "/context"
	// SecretsDir holds the repos' credentials (BuildKit secrets, tmpfs).
	SecretsDir = Root + "/secrets"
	// OutDir is where an install step writes an app's /app.
	OutDir = Root + "/out"
	// ContentIDDir is where the finishing step writes ContentIDFile.
	ContentIDDir = Root + "/content-id"
	// StateDir is the cache mount that keeps an app's last install.
	StateDir = Root + "/state"
	// DownloadDir receives the packages a download step fetched.
	DownloadDir = Root + "/download"
)

// ReportDir is the folder of a step's output (an app's /app, a runtime's new
// root) that holds the reports. The image never contains it.
const ReportDir = "/.flatpak-frontend"

// The report files in ReportDir.
const (
	// InstallReport is what the install step found: [InstallReport].
	InstallReportFile = "install"
	// InstallerLog is the package manager's output, as it printed it.
	InstallerLogFile = "installer.log"
	// FinishReport is what the finish step found: [FinishReport].
	FinishReportFile = "finish"
)

// The steps, as `flatpak-frontend step NAME` names them.
const (
	StepInstall = "install"
	StepFinish  = "finish"
)

// DiagnosisLine starts the line a step prints when it runs again to
// explain a failure (InstallConfig.Diagnose, FinishConfig.ReportFailure),
// followed by what it does again.
const DiagnosisLine = "flatpak-frontend: explaining the build's failure: "

// ContentIDFile is the file the finishing step writes into
// FinishConfig.ContentIDOut: the result's digest (package contentid) and a
// newline.
const ContentIDFile = "content-id"

// ContentIDFileSize is ContentIDFile's size: "sha256:", 64 hex digits and
// the newline.
const ContentIDFileSize = 72

// Kind is what a build makes.
type Kind string

const (
	KindApp       Kind = "app"
	KindRuntime   Kind = "runtime"
	KindExtension Kind = "extension"
)

// Mode is what an install step does.
type Mode string

const (
	// ModeInstall resolves, downloads and installs.
	ModeInstall Mode = ""
	// ModeDownload only resolves and downloads into DownloadDir: the part
	// that needs the repos' credentials, where no package code runs.
	ModeDownload Mode = "download"
	// ModeInstallDownloaded installs what a download step fetched, with no
	// repo (and so no credential) at all.
	ModeInstallDownloaded Mode = "install-downloaded"
)

// InstallConfig is the install step's configuration.
type InstallConfig struct {
	Mode Mode `json:"mode,omitempty"`
	// Installer is dnf5, dnf or microdnf.
	Installer string `json:"installer"`
	// Kind is app or runtime.
	Kind Kind `json:"kind"`
	// Packages are the names (or dnf globs) to install.
	Packages []string `json:"packages"`
	// InstallRoot, when set, is the root to install into (--installroot):
	// a runtime's new root, or a runtime installed with a build image's
	// installer. Empty: the step's own root.
	InstallRoot string `json:"installRoot,omitempty"`
	// Repos are the repositories of the spec, whose .repo files are in
	// ReposDir; none: the image's own repo configuration.
	Repos []Repo `json:"repos,omitempty"`
	// ReleaseVer is the installer's --releasever, when set.
	ReleaseVer string `json:"releaseVer,omitempty"`
	// Prefix is the folder an app's or extension's packages must keep
	// to: /app, or the extension's folder below /usr (a runtime's own
	// every path).
	Prefix string `json:"prefix,omitempty"`
	// AllowOutsideApp names packages allowed to own files outside Prefix.
	AllowOutsideApp []string `json:"allowOutsideApp,omitempty"`
	// Out is the folder the reports go to.
	Out string `json:"out"`
	// AppOut, when set, is the step's output for /app: /app is a link to
	// it, or to the install kept in State, while the installer runs.
	AppOut string `json:"appOut,omitempty"`
	// State is a cache folder that keeps the app's last install.
	State string `json:"state,omitempty"`
	// Fresh never installs on top of a kept install.
	Fresh bool `json:"fresh,omitempty"`
	// Diagnose never fails: a failure is written to the report.
	Diagnose bool `json:"diagnose,omitempty"`
	// ForceArch, when set, is the RPM architecture of InstallRoot, foreign
	// to the step's: the installer runs with --forcearch, and without
	// scriptlets and file triggers, which would run the target's code.
	ForceArch string `json:"forceArch,omitempty"`
	// Finish, when set, is the finishing step, run by this step once the
	// install succeeded, on the install's output (its Root): one container
	// less, where nothing runs between the two and the install has no
	// network (package llb says when).
	Finish *FinishConfig `json:"finish,omitempty"`
}

// Repo is one repository of the spec.
type Repo struct {
	// ID is the repo's id: its .repo file is ReposDir/ID.repo.
	ID string `json:"id"`
	// Dir is where a repo from a build context is mounted; empty for a
	// remote repo.
	Dir string `json:"dir,omitempty"`
	// Secret is the file holding the repo's USER:PASSWORD, if it has one.
	Secret string `json:"secret,omitempty"`
	// GPGCheck: the repo checks its packages' signatures.
	GPGCheck bool `json:"gpgCheck,omitempty"`
	// GPGKeys are the URLs of the repo's signing keys, when it checks
	// signatures: the step imports them before the installer runs.
	GPGKeys []string `json:"gpgKeys,omitempty"`
}

// FinishConfig is the finishing step's configuration.
type FinishConfig struct {
	// Root is the folder to finish: an app's /app, a runtime's new root.
	Root string `json:"root"`
	// Kind is app, runtime or extension.
	Kind Kind `json:"kind"`
	// Prefix is the path packages gave the files Root holds: /app for an
	// app, the extension's folder, / for a runtime's new root.
	Prefix string `json:"prefix"`
	// CleanupCommands is true when cleanup-commands ran after the install:
	// packaged files they removed or changed are reported.
	CleanupCommands bool `json:"cleanupCommands,omitempty"`
	// ExtensionPoints are the folders, relative to Root, that the
	// add-extensions mount extensions at: made when missing, as Flatpak
	// can only mount onto a folder that exists.
	ExtensionPoints []string `json:"extensionPoints,omitempty"`
	// App is what finishing an app takes.
	App *AppFinish `json:"app,omitempty"`
	// ContentIDOut, when set, is the folder that receives ContentIDFile,
	// the digest of Root (without its reports) once finished.
	ContentIDOut string `json:"contentIdOut,omitempty"`
	// ReportFailure makes a failing finishing write why, with the spec
	// key at fault, to FinishReportFile and succeed: what the frontend
	// runs again to explain a build that failed there.
	ReportFailure bool `json:"reportFailure,omitempty"`
}

// AppFinish holds the spec's finishing keys of an app.
type AppFinish struct {
	ID                    string   `json:"id"`
	RenameDesktopFile     string   `json:"renameDesktopFile,omitempty"`
	RenameIcon            string   `json:"renameIcon,omitempty"`
	RenameMimeFile        string   `json:"renameMimeFile,omitempty"`
	RenameMimeIcons       []string `json:"renameMimeIcons,omitempty"`
	CopyIcon              bool     `json:"copyIcon,omitempty"`
	RenameAppdataFile     string   `json:"renameAppdataFile,omitempty"`
	DesktopFileNamePrefix string   `json:"desktopFileNamePrefix,omitempty"`
	DesktopFileNameSuffix string   `json:"desktopFileNameSuffix,omitempty"`
	AppdataLicense        string   `json:"appdataLicense,omitempty"`
	AppstreamCompose      bool     `json:"appstreamCompose,omitempty"`
}

// ReadConfig reads a step's configuration from file.
func ReadConfig(file string, v any) error {
	dt, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(dt, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
