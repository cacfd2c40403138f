package affected

import (
	"context"
	"fmt"
	"io"

	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
)

// Exit statuses of Check, for CI jobs that trigger rebuilds.
const (
	None   = 0 // no image contains an affected package
	Some   = 1 // some do; they are printed
	Failed = 2 // a source could not be read: the answer is unknown
)

// Check looks for the queried packages in every image of sources and prints
// one tab-separated line per affected package to out:
//
//	SOURCE	FLATPAK-REF	NAME-[EPOCH:]VERSION-RELEASE.ARCH	bundled|runtime [RUNTIME-REF]
//
// "bundled" packages are in the image's /app: rebuild the image. "runtime"
// ones came with the runtime named: rebuild that runtime. Problems go to
// errOut; any problem makes the status Failed, as an image that could not
// be read may be affected.
func Check(ctx context.Context, queries []Query, sources []string, out, errOut io.Writer) int {
	status := None
	for _, src := range sources {
		imgs, err := Load(ctx, src)
		if err != nil {
			fmt.Fprintf(errOut, "affected: %v\n", registryhosts.Explain(err, ""))
			status = Failed
			continue
		}
		for _, img := range imgs {
			for _, q := range queries {
				for _, p := range q.Find(img) {
					fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", img.Name(), img.Ref, p.NEVRA, img.Describe(p))
					if status == None {
						status = Some
					}
				}
			}
		}
	}
	return status
}
