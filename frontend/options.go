package frontend

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/pkg/errors"
)

// The options this frontend reads itself; everything else (platform,
// build-arg:*, label:*, context:*, no-cache, cache imports) is dockerui's.
const (
	// DefaultFilename is read when the client names no file.
	DefaultFilename = "flatpak.yaml"
	// RuntimeContext is the named build context that overrides the runtime
	// image: --build-context runtime=docker-image://REF|oci-layout://...
	RuntimeContext = "runtime"
	// ArgRuntimeImage overrides the runtime-image key.
	ArgRuntimeImage = "RUNTIME_IMAGE"
	// BaseContext is the named build context that overrides the build
	// image (base_image), whose installer installs a runtime's packages or
	// an app's onto a runtime that has none.
	BaseContext = "base"
	// ArgBaseImage overrides the base_image key.
	ArgBaseImage = "BASE_IMAGE"
	// ArgSourceDateEpoch fixes every timestamp of the result.
	ArgSourceDateEpoch = "SOURCE_DATE_EPOCH"

	keyFilename = "filename"
)

// Config is this frontend's view of the build options.
type Config struct {
	// RuntimeImage is the --build-arg RUNTIME_IMAGE value, if any.
	RuntimeImage string
	// Epoch is SOURCE_DATE_EPOCH, if given.
	Epoch *time.Time
	// BuildArgs are all build args, for the spec's ${NAME} expansion.
	BuildArgs map[string]string
	// Labels are the label:* options.
	Labels map[string]string
}

func parseConfig(bc *dockerui.Client) (*Config, error) {
	c := &Config{
		RuntimeImage: bc.BuildArgs[ArgRuntimeImage],
		BuildArgs:    bc.BuildArgs,
		Labels:       bc.Labels,
	}
	for _, k := range slices.Sorted(maps.Keys(bc.Labels)) {
		if labels.Reserved(k) {
			return nil, errors.Errorf("label:%s (--label %s=...): %v", k, k, labels.ErrReserved)
		}
	}
	if v, ok := bc.BuildArgs[ArgSourceDateEpoch]; ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, errors.Errorf("build-arg:%s: %q is not a number of seconds since 1970", ArgSourceDateEpoch, v)
		}
		t := time.Unix(n, 0).UTC()
		c.Epoch = &t
	}
	return c, nil
}

// withDefaults gives dockerui our default filename instead of Dockerfile.
type withDefaults struct {
	client.Client
}

func (c withDefaults) BuildOpts() client.BuildOpts {
	o := c.Client.BuildOpts()
	if _, ok := o.Opts[keyFilename]; !ok {
		o.Opts = maps.Clone(o.Opts)
		if o.Opts == nil {
			o.Opts = map[string]string{}
		}
		o.Opts[keyFilename] = DefaultFilename
	}
	return o
}
