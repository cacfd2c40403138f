package integration

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	ocilayout "github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// buildOpts is one in-process build of a flatpak.yaml.
type buildOpts struct {
	// dir is the build context holding the file; file its name in dir.
	dir, file string
	// args are build args; attrs extra frontend options.
	args, attrs map[string]string
	// contexts are extra named contexts.
	contexts map[string]string
	// noRuntimeContext leaves the runtime to the spec or a build arg.
	noRuntimeContext bool
	// out is the OCI layout to write (default: a new folder).
	out string
}

// buildResult is what a build left behind.
type buildResult struct {
	// oci is the exported OCI image layout directory.
	oci string
	// log is the build's plain progress output.
	log string
	// digest is the exported manifest's digest.
	digest string
}

// build runs the frontend in-process (client.Build with frontend.Build, as
// buildctl runs a frontend) against the harness's buildkitd, with the test
// runtime and the test RPM repo as named contexts, and exports an OCI layout.
func build(t *testing.T, o buildOpts) (*buildResult, error) {
	t.Helper()
	contexts := map[string]string{"rpms": harness.RPMRepo(t)}
	if !o.noRuntimeContext {
		rt := harness.Runtime(t)
		contexts["runtime"] = "oci-layout://" + rt.Dir + "@" + rt.Digest
	}
	for k, v := range o.contexts {
		contexts[k] = v
	}
	var log bytes.Buffer
	out := o.out
	if out == "" {
		out = filepath.Join(t.TempDir(), "oci")
	}
	res, err := localbuild.Build(context.Background(), harness.Client(t), localbuild.Options{
		File:        filepath.Join(o.dir, o.file),
		ContextDir:  o.dir,
		BuildArgs:   o.args,
		Contexts:    contexts,
		Attrs:       o.attrs,
		Progress:    "plain",
		ProgressOut: &log,
		OCIDir:      out,
	})
	t.Logf("build log of %s:\n%s", o.file, log.String())
	if err != nil {
		return &buildResult{log: log.String()}, err
	}
	return &buildResult{oci: out, log: log.String(), digest: res.Digest}, nil
}

// readIndex returns the descriptor of the Flatpak image of an OCI layout.
func readIndex(t *testing.T, dir string) ocispecs.Descriptor {
	t.Helper()
	dgst, err := localbuild.LayoutDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := ocilayout.ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range idx.Manifests {
		if m.Digest.String() == dgst {
			return m
		}
	}
	t.Fatalf("%s: no image %s", dir, dgst)
	return ocispecs.Descriptor{}
}
