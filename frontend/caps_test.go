package frontend

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	apicapspb "github.com/moby/buildkit/util/apicaps/pb"
)

func without(all []*apicapspb.APICap, id string) []*apicapspb.APICap {
	var out []*apicapspb.APICap
	for _, c := range all {
		if c.ID != id {
			out = append(out, c)
		}
	}
	return out
}

func TestCheckDaemonCapsNamesWhatIsMissingAndSince(t *testing.T) {
	full := client.BuildOpts{LLBCaps: pb.Caps.CapSet(pb.Caps.All()), Caps: gwpb.Caps.CapSet(gwpb.Caps.All())}
	if err := checkDaemonCaps(full, true); err != nil {
		t.Fatalf("a daemon with every capability: %v", err)
	}
	noMerge := full
	noMerge.LLBCaps = pb.Caps.CapSet(without(pb.Caps.All(), string(pb.CapMergeOp)))
	err := checkDaemonCaps(noMerge, false)
	if err == nil || !strings.Contains(err.Error(), "MergeOp, which stacks the image's layers (BuildKit v0.10.0 and later)") {
		t.Errorf("no MergeOp: %v", err)
	}
	noAttest := full
	noAttest.Caps = gwpb.Caps.CapSet(without(gwpb.Caps.All(), string(gwpb.CapAttestations)))
	if err := checkDaemonCaps(noAttest, false); err != nil {
		t.Errorf("no attestations, no SBOM asked: %v", err)
	}
	if err := checkDaemonCaps(noAttest, true); err == nil || !strings.Contains(err.Error(), "attestations (the SBOM) (BuildKit v0.11.0 and later)") {
		t.Errorf("no attestations with an SBOM: %v", err)
	}
}
