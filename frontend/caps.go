package frontend

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
)

// daemonCap is a capability of the BuildKit daemon this frontend uses,
// what for, and the oldest BuildKit release that has it, so that an older
// daemon fails at once with one line instead of a solver error halfway.
type daemonCap struct {
	id    apicaps.CapID
	llb   bool // an LLB capability (else the gateway's)
	use   string
	since string
}

var daemonCaps = []daemonCap{
	{pb.CapMergeOp, true, "MergeOp, which stacks the image's layers", "v0.10.0"},
	{pb.CapFileBase, true, "file operations", "v0.5.0"},
	{pb.CapExecMountCacheSharing, true, "cache mounts with a sharing mode (the installer's caches)", "v0.5.0"},
	{pb.CapExecMountSecret, true, "secret mounts (repository credentials)", "v0.5.0"},
	{pb.CapExecMountSelector, true, "mounts of one folder of a result", "v0.5.0"},
	{gwpb.CapReadFile, false, "reading the build steps' reports", "v0.5.0"},
	{gwpb.CapReadDir, false, "reading the build steps' reports", "v0.6.0"},
	{gwpb.CapStatFile, false, "reading the build steps' reports", "v0.6.0"},
	{gwpb.CapReturnMap, false, "multi-platform results", "v0.6.0"},
}

// checkDaemonCaps fails when the daemon lacks a capability the build
// needs, naming the first missing one and the release that added it.
// sbom: the build attaches an SBOM attestation.
func checkDaemonCaps(opts client.BuildOpts, sbom bool) error {
	needs := daemonCaps
	if sbom {
		needs = append(needs[:len(needs):len(needs)], daemonCap{gwpb.CapAttestations, false, "attestations (the SBOM)", "v0.11.0"})
	}
	var missing []string
	for _, c := range needs {
		set := opts.Caps
		if c.llb {
			set = opts.LLBCaps
		}
		if set.Supports(c.id) != nil {
			missing = append(missing, fmt.Sprintf("%s (BuildKit %s and later)", c.use, c.since))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("this BuildKit daemon is too old for flatpak-frontend: it lacks %s; BuildKit v0.11 and later run all of it (docs/usage.md lists the releases tested)", strings.Join(missing, ", "))
}

// supports reports whether the daemon has an LLB capability.
func (b *builder) supports(id apicaps.CapID) bool {
	caps := b.c.BuildOpts().LLBCaps
	return caps.Supports(id) == nil
}
