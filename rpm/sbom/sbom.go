package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
	"github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// PredicateType is the in-toto predicate type of an SPDX document.
const PredicateType = "https://spdx.dev/Document"

// Creator is how the document names its tool.
const Creator = "flatpak-frontend"

const (
	noAssertion = "NOASSERTION"
	flatpakID   = "SPDXRef-Flatpak"
	runtimeID   = "SPDXRef-Runtime"
)

// Input is what the document is made from.
type Input struct {
	// Ref is the image's Flatpak ref, KIND/ID/ARCH/BRANCH.
	Ref string
	// Runtime is the app's runtime, ID/ARCH/BRANCH; "" for a runtime.
	Runtime string
	// Packages are the RPMs of the image, with their origin.
	Packages []manifest.Package
	// Created is the document's creation time.
	Created time.Time
}

// JSON is the SPDX 2.3 JSON document of in.
func JSON(in Input) ([]byte, error) {
	ref, err := flatpakref.Parse(in.Ref)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	pkgs := append([]manifest.Package(nil), in.Packages...)
	manifest.Sort(pkgs)
	label, err := manifest.Encode(pkgs)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(in.Ref + "\n" + in.Runtime + "\n" + label))

	purpose := "APPLICATION"
	if ref.IsRuntime() {
		purpose = "OPERATING-SYSTEM"
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      in.Ref,
		DocumentNamespace: "https://flatpak-frontend.invalid/spdx/" + in.Ref + "-" + hex.EncodeToString(sum[:8]),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: Creator}},
			Created:  in.Created.UTC().Format(time.RFC3339),
		},
		Packages: []*spdx.Package{flatpakPackage(flatpakID, ref, purpose)},
		Relationships: []*spdx.Relationship{{
			RefA:         common.MakeDocElementID("", "DOCUMENT"),
			RefB:         common.MakeDocElementID("", flatpakID),
			Relationship: common.TypeRelationshipDescribe,
		}},
	}
	if !ref.IsRuntime() {
		runtime, err := flatpakref.ParsePartial(flatpakref.Runtime, in.Runtime)
		if err != nil {
			return nil, fmt.Errorf("sbom: app %s: runtime %q: %w", in.Ref, in.Runtime, err)
		}
		doc.Packages = append(doc.Packages, flatpakPackage(runtimeID, runtime, "OPERATING-SYSTEM"))
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", flatpakID),
			RefB:         common.MakeDocElementID("", runtimeID),
			Relationship: common.TypeRelationshipDependsOn,
		})
	}
	for i, p := range pkgs {
		id := common.ElementID(fmt.Sprintf("RPM-%d-%s", i+1, sanitize(p.Name)))
		owner := common.ElementID(flatpakID)
		comment := "bundled into /app"
		if p.Origin == manifest.Runtime {
			comment = "provided by the runtime"
			if !ref.IsRuntime() {
				owner = runtimeID
			}
		}
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName:             p.Name,
			PackageSPDXIdentifier:   id,
			PackageVersion:          p.EVR().String(),
			PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  noAssertion,
			PackageCopyrightText:    noAssertion,
			PackageSourceInfo:       sourceInfo(p),
			PackageComment:          comment,
			PrimaryPackagePurpose:   "LIBRARY",
			PackageExternalReferences: []*spdx.PackageExternalReference{{
				Category: common.CategoryPackageManager,
				RefType:  common.TypePackageManagerPURL,
				Locator:  PURL(p),
			}},
		})
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(owner)),
			RefB:         common.MakeDocElementID("", string(id)),
			Relationship: common.TypeRelationshipContains,
		})
	}
	var b bytes.Buffer
	if err := spdxjson.Write(doc, &b, spdxjson.Indent("  ")); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func flatpakPackage(id string, ref flatpakref.Ref, purpose string) *spdx.Package {
	return &spdx.Package{
		PackageName:             ref.ID,
		PackageSPDXIdentifier:   common.ElementID(id),
		PackageVersion:          ref.Branch,
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PackageComment:          "Flatpak " + ref.String(),
		PrimaryPackagePurpose:   purpose,
	}
}

func sourceInfo(p manifest.Package) string {
	if p.SourceRPM == "" {
		return ""
	}
	return "built from source RPM " + p.SourceRPM
}

// PURL is the package URL of an RPM: pkg:rpm/NAME@VERSION-RELEASE with the
// arch, a non-zero epoch and the source RPM as qualifiers.
func PURL(p manifest.Package) string {
	q := packageurl.Qualifiers{{Key: "arch", Value: p.Arch}}
	if p.Epoch != 0 {
		q = append(q, packageurl.Qualifier{Key: "epoch", Value: strconv.Itoa(p.Epoch)})
	}
	if p.SourceRPM != "" {
		q = append(q, packageurl.Qualifier{Key: "upstream", Value: p.SourceRPM})
	}
	return packageurl.NewPackageURL(packageurl.TypeRPM, "", p.Name, p.Version+"-"+p.Release, q, "").ToString()
}

// sanitize keeps what an SPDX ID may hold: letters, digits, '.' and '-'.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// Packages reads the RPMs back from an SPDX JSON document: every package
// with a pkg:rpm purl. An RPM is of origin Runtime when a Flatpak runtime
// package CONTAINS it, else App: in a document of another tool, every RPM
// counts as part of the image.
func Packages(dt []byte) ([]manifest.Package, error) {
	doc, err := spdxjson.Read(bytes.NewReader(dt))
	if err != nil {
		return nil, fmt.Errorf("read SPDX document: %w", err)
	}
	runtimes := map[common.ElementID]bool{}
	for _, sp := range doc.Packages {
		if sp != nil && strings.HasPrefix(sp.PackageComment, "Flatpak runtime/") {
			runtimes[sp.PackageSPDXIdentifier] = true
		}
	}
	fromRuntime := map[common.ElementID]bool{}
	for _, r := range doc.Relationships {
		if r != nil && r.Relationship == common.TypeRelationshipContains && runtimes[r.RefA.ElementRefID] {
			fromRuntime[r.RefB.ElementRefID] = true
		}
	}
	var out []manifest.Package
	for _, sp := range doc.Packages {
		if sp == nil {
			continue
		}
		for _, ref := range sp.PackageExternalReferences {
			if ref == nil || ref.RefType != common.TypePackageManagerPURL || !strings.HasPrefix(ref.Locator, "pkg:rpm/") {
				continue
			}
			p, err := fromPURL(ref.Locator)
			if err != nil {
				return nil, err
			}
			p.Origin = manifest.App
			if fromRuntime[sp.PackageSPDXIdentifier] {
				p.Origin = manifest.Runtime
			}
			out = append(out, p)
			break
		}
	}
	return out, nil
}

func fromPURL(s string) (manifest.Package, error) {
	u, err := packageurl.FromString(s)
	if err != nil {
		return manifest.Package{}, fmt.Errorf("purl %q: %w", s, err)
	}
	p := manifest.Package{NEVRA: rpmver.NEVRA{Name: u.Name}}
	p.Version, p.Release, _ = strings.Cut(u.Version, "-")
	q := u.Qualifiers.Map()
	p.Arch = q["arch"]
	p.SourceRPM = q["upstream"]
	if e := q["epoch"]; e != "" {
		if p.Epoch, err = strconv.Atoi(e); err != nil {
			return p, fmt.Errorf("purl %q: bad epoch %q", s, e)
		}
	}
	return p, nil
}
