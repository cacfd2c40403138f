package metadata

// Extension is one extension point, an [Extension NAME] group of the
// metadata. Its YAML keys are flatpak-builder's add-extensions keys; the
// flatpak.yaml model (spec) uses this type as it is, and the schema
// generator reads the field comments below for docs/keys.md.
type Extension struct {
	// Where the extension is mounted, relative to /app or /usr.
	Directory string `yaml:"directory" json:"directory"`
	// The branch of the extension to use.
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	// Several branches, separated by ';'.
	Versions string `yaml:"versions,omitempty" json:"versions,omitempty"`
	// A library directory added to the linker path.
	AddLdPath string `yaml:"add-ld-path,omitempty" json:"add-ld-path,omitempty"`
	// Directories merged from all extensions, separated by ';'.
	MergeDirs string `yaml:"merge-dirs,omitempty" json:"merge-dirs,omitempty"`
	// Several extensions may be mounted below directory.
	Subdirectories bool `yaml:"subdirectories,omitempty" json:"subdirectories,omitempty"`
	// Do not install the extension with the app.
	NoAutodownload bool `yaml:"no-autodownload,omitempty" json:"no-autodownload,omitempty"`
	// Remove the extension with the app.
	Autodelete bool `yaml:"autodelete,omitempty" json:"autodelete,omitempty"`
	// Conditions for downloading, separated by ';'.
	DownloadIf string `yaml:"download-if,omitempty" json:"download-if,omitempty"`
	// Conditions for enabling, separated by ';'.
	EnableIf string `yaml:"enable-if,omitempty" json:"enable-if,omitempty"`
	// Keep the extension unless this condition holds.
	AutopruneUnless string `yaml:"autoprune-unless,omitempty" json:"autoprune-unless,omitempty"`
	// Appended to the subdirectory names.
	SubdirectorySuffix string `yaml:"subdirectory-suffix,omitempty" json:"subdirectory-suffix,omitempty"`
	// Only install the locales the user uses.
	LocaleSubset bool `yaml:"locale-subset,omitempty" json:"locale-subset,omitempty"`
}
