package llb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// Which installer runs: the one the spec asks for, or the first of the
// image's that this frontend drives (dnf5, dnf, microdnf).

// appInstaller is the package manager that installs an app's packages, and
// whether it is the runtime's (else the build image's, installing onto the
// runtime's tree): "installer: auto" takes the runtime's preferred one; a
// named installer is the runtime's when it has it.
func (b *builder) appInstaller() (spec.Installer, bool, error) {
	o := b.o
	want := b.wanted()
	if want == "" && len(o.Runtime.Installers) > 0 {
		return o.Runtime.Installers[0], true, nil
	}
	if want != "" && slices.Contains(o.Runtime.Installers, want) {
		return want, true, nil
	}
	if o.BuildImage == nil {
		if want != "" {
			return "", false, fmt.Errorf("installer: the runtime has no %s (it has %s): give a build image that has it (base_image, --build-context base=... or --build-arg BASE_IMAGE=...)", want, names(o.Runtime.Installers))
		}
		return "", false, fmt.Errorf("the runtime has no microdnf, dnf5 or dnf: give a build image with its installer (base_image, --build-context base=... or --build-arg BASE_IMAGE=...)")
	}
	inst, err := b.pick(*o.BuildImage, true)
	return inst, false, err
}

// pick is the installer of img to use: the spec's, which img must have, or
// img's preferred one. forRuntime says img installs an app onto a runtime
// that does not have the installer itself.
func (b *builder) pick(img Image, forRuntime bool) (spec.Installer, error) {
	want := b.wanted()
	who := "the build image has"
	if forRuntime {
		who = "neither the runtime nor the build image has"
	}
	switch {
	case want == "" && len(img.Installers) > 0:
		return img.Installers[0], nil
	case want == "":
		if forRuntime {
			return "", fmt.Errorf("%s microdnf, dnf5 or dnf", who)
		}
		return "", fmt.Errorf("the build image has no microdnf, dnf5 or dnf")
	case slices.Contains(img.Installers, want):
		return want, nil
	case forRuntime:
		return "", fmt.Errorf("installer: %s %s (the build image has %s)", who, want, names(img.Installers))
	}
	return "", fmt.Errorf("installer: the build image has no %s (it has %s)", want, names(img.Installers))
}

// wanted is the installer the spec names, "" for auto.
func (b *builder) wanted() spec.Installer {
	if b.s.Installer == spec.InstallerAuto {
		return ""
	}
	return b.s.Installer
}

func names(is []spec.Installer) string {
	if len(is) == 0 {
		return "none"
	}
	var out []string
	for _, i := range is {
		out = append(out, string(i))
	}
	return strings.Join(out, ", ")
}
