package frontend

import (
	"context"
	"os"
	"strings"

	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/pkg/errors"
)

// Options are the settings of a frontend run in-process (package
// localbuild); the gateway image runs with none.
type Options struct {
	// Helper is the flatpak-frontend binary the build steps run. Nil: the
	// frontend image's own, which BuildKit gives a frontend run from an
	// image (dalec does the same).
	Helper *fllb.Helper
}

// BuildWith is Build with in-process settings.
func BuildWith(o Options) client.BuildFunc {
	return func(ctx context.Context, c client.Client) (*client.Result, error) {
		return build(ctx, c, o)
	}
}

// currentFrontend is what BuildKit's gateway client offers a frontend that
// runs from an image: that image, as LLB.
type currentFrontend interface {
	CurrentFrontend() (*llb.State, error)
}

// helper is the binary the build steps run: the one in-process settings
// name, or this frontend's image, where this binary is.
func helper(c client.Client, o Options) (*fllb.Helper, error) {
	if o.Helper != nil {
		return o.Helper, nil
	}
	if cf, ok := c.(currentFrontend); ok {
		st, err := cf.CurrentFrontend()
		if err != nil {
			return nil, errors.Wrap(err, "read the frontend's own image")
		}
		if st != nil {
			exe, err := os.Executable()
			if err != nil {
				return nil, err
			}
			return &fllb.Helper{State: *st, Args: []string{strings.TrimPrefix(exe, "/")}}, nil
		}
	}
	// BuildKit tells a frontend run from an image (gateway.v0) that image;
	// in-process, the caller must name the binary.
	return nil, errors.New("the frontend cannot find its own binary, which the build steps run: run it from its image with a BuildKit that tells a frontend its image (v0.11 or later), or, in-process, name the binary in frontend.Options.Helper")
}

// prefetchHelper starts solving the helper named in in-process settings,
// a folder the client sends through the session (tens of megabytes), while
// the frontend loads the runtime image and the contexts: every build step
// mounts it, so the first one would otherwise wait for the transfer. The
// graph solved later holds the same vertex (a local source's definition
// has no platform), which the solver then finds done. A failure here is
// left to that solve, which reports it. The returned function stops the
// prefetch, if it still runs, and waits for it.
func prefetchHelper(ctx context.Context, c client.Client, o Options) func() {
	if o.Helper == nil {
		// The frontend's image: BuildKit already has it.
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		def, err := o.Helper.State.Marshal(ctx)
		if err != nil {
			return
		}
		_, _ = c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	}()
	return func() {
		cancel()
		<-done
	}
}
