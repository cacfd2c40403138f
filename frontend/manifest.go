package frontend

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/manifest"
	"github.com/flatpak-frontend/flatpak-frontend/rpm/sbom"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// sbomPath is where the SBOM lies in the attestation's ref.
const sbomPath = "/sbom.spdx.json"

// packages are the image's RPMs with their origin: for an app, those the
// install added are bundled into /app, the rest came with the runtime; a
// runtime's are all its own.
func (r *reports) packages(runtime bool) ([]manifest.Package, error) {
	var out []manifest.Package
	for _, p := range r.install.Packages {
		origin := manifest.Runtime
		if p.Added && !runtime {
			origin = manifest.App
		}
		out = append(out, manifest.Package{NEVRA: p.NEVRA, SourceRPM: p.SourceRPM, Origin: origin})
	}
	return out, nil
}

// recordContents puts the rpms label on img and returns the image's SPDX
// document when the client asked for an SBOM (writing it for a runtime's
// thousand packages takes tens of milliseconds, which a rebuild with
// nothing to do would spend for nothing). runtimeRef is the app's runtime
// as ID/ARCH/BRANCH ("" for a runtime).
func (b *builder) recordContents(img *dockerspec.DockerOCIImage, flatpakRef flatpakref.Ref, runtimeRef string, rep *reports) ([]byte, error) {
	pkgs, err := rep.packages(flatpakRef.IsRuntime())
	if err != nil {
		return nil, err
	}
	label, err := manifest.Encode(pkgs)
	if err != nil {
		return nil, err
	}
	if img.Config.Labels == nil {
		img.Config.Labels = map[string]string{}
	}
	img.Config.Labels[manifest.Label] = label
	if b.bc.SBOM == nil {
		return nil, nil
	}
	created := time.Now()
	if b.cfg.Epoch != nil {
		created = *b.cfg.Epoch
	}
	return sbom.JSON(sbom.Input{Ref: flatpakRef.String(), Runtime: runtimeRef, Packages: pkgs, Created: created})
}

// attachSBOMs adds each platform's SPDX document to res as an in-toto
// attestation, made here from the rpmdb so no scanner image runs. Clients
// ask for SBOMs with attest:sbom (buildx --sbom=true); an attestation makes
// the export an image index, which a Flatpak import must look inside.
func (b *builder) attachSBOMs(ctx context.Context, res *client.Result, docs map[string][]byte) error {
	if b.bc.SBOM == nil {
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(docs)) {
		st := llb.Scratch().File(llb.Mkfile(sbomPath, 0o644, docs[id]),
			llb.WithCustomName(fmt.Sprintf("[%s] SBOM of the installed RPMs", id)))
		def, err := st.Marshal(ctx)
		if err != nil {
			return err
		}
		r, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
		if err != nil {
			return err
		}
		ref, err := r.SingleRef()
		if err != nil {
			return err
		}
		res.AddAttestation(id, client.Attestation{
			Kind:     gatewaypb.AttestationKind_InToto,
			Ref:      ref,
			Path:     sbomPath,
			Metadata: map[string][]byte{result.AttestationReasonKey: []byte(result.AttestationReasonSBOM)},
			InToto:   result.InTotoAttestation{PredicateType: sbom.PredicateType},
		})
	}
	return nil
}
