package spec

import (
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
)

// Kind is "runtime" when the spec builds a runtime, else "app".
func (s *Spec) Kind() string {
	switch {
	case s.BuildRuntime:
		return "runtime"
	case s.BuildExtension:
		return "extension"
	}
	return "app"
}

// PackageNames returns the packages to install on arch (a Flatpak
// architecture such as x86_64; i386 also matches i686), in the order given,
// after applying each package's platforms.only and platforms.not.
func (s *Spec) PackageNames(arch string) []string {
	var out []string
	for _, p := range s.Packages {
		if p.Platforms != nil {
			if len(p.Platforms.Only) > 0 && !archIn(arch, p.Platforms.Only) {
				continue
			}
			if archIn(arch, p.Platforms.Not) {
				continue
			}
		}
		out = append(out, p.Name)
	}
	return out
}

func archIn(arch string, list []string) bool {
	for _, a := range list {
		if a == arch || (arch == "i386" && a == "i686") || (arch == "i686" && a == "i386") {
			return true
		}
	}
	return false
}

// FedoraRegistry is where Fedora publishes its Flatpak runtimes.
const FedoraRegistry = "registry.fedoraproject.org"

// fedoraRuntimes maps Fedora's runtime IDs to the container names Fedora
// publishes them under (and container.yaml's runtime-name uses).
var fedoraRuntimes = map[string]string{
	"org.fedoraproject.Platform":     "flatpak-runtime",
	"org.fedoraproject.Sdk":          "flatpak-sdk",
	"org.fedoraproject.KDE5Platform": "flatpak-kde5-runtime",
	"org.fedoraproject.KDE5Sdk":      "flatpak-kde5-sdk",
	"org.fedoraproject.KDE6Platform": "flatpak-kde6-runtime",
	"org.fedoraproject.KDE6Sdk":      "flatpak-kde6-sdk",
}

// RuntimeID is the Flatpak ID runtime-name stands for: runtime-name itself
// when it is an ID; for a container name (Fedora's container.yaml writes
// flatpak-runtime), the ID of the Fedora runtime published under that name;
// "" when it is unset or a container name of a runtime this does not know
// (then only the runtime image says which runtime it is).
func (s *Spec) RuntimeID() string {
	if s.RuntimeName == "" {
		return ""
	}
	if flatpakref.CheckID(s.RuntimeName) == nil {
		return s.RuntimeName
	}
	for id, name := range fedoraRuntimes {
		if name == s.RuntimeName {
			return id
		}
	}
	return ""
}

// DefaultRuntimeImage returns the image to build the app FROM: the
// runtime-image key when set; else, for Fedora runtimes, the image Fedora
// publishes for runtime-name and runtime-version (org.fedoraproject.Platform
// or flatpak-runtime with f40 give registry.fedoraproject.org/flatpak-runtime:f40);
// else "" (the build then needs a runtime image from the user).
func (s *Spec) DefaultRuntimeImage() string {
	if s.RuntimeImage != "" {
		return s.RuntimeImage
	}
	if s.RuntimeVersion == "" {
		return ""
	}
	name, ok := fedoraRuntimes[s.RuntimeName]
	if !ok && isContainerName(s.RuntimeName) && strings.HasPrefix(s.RuntimeName, "flatpak-") && !strings.Contains(s.RuntimeName, "/") {
		name, ok = s.RuntimeName, true
	}
	if !ok {
		return ""
	}
	return FedoraRegistry + "/" + name + ":" + s.RuntimeVersion
}
