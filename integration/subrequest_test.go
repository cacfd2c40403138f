package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flatpak-frontend/flatpak-frontend/frontend"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/tonistiigi/fsutil"
)

// call runs the frontend with a subrequest (buildctl --opt requestid=...,
// buildx --call) and returns its result.json.
func call(t *testing.T, dir, request string) ([]byte, error) {
	t.Helper()
	fsys, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	_, err = harness.Client(t).Build(context.Background(), client.SolveOpt{
		LocalMounts:   map[string]fsutil.FS{"context": fsys, "dockerfile": fsys},
		FrontendAttrs: map[string]string{"requestid": request},
	}, "", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		res, err := frontend.Build(ctx, c)
		if res != nil {
			out = res.Metadata["result.json"]
		}
		return res, err
	}, nil)
	return out, err
}

func TestCallTargetsOutlineAndSchema(t *testing.T) {
	dir := exampleDir(t)
	dt, err := call(t, dir, "frontend.targets")
	if err != nil {
		t.Fatal(err)
	}
	var list targets.List
	if err := json.Unmarshal(dt, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Targets) != 1 || list.Targets[0].Name != "org.example.Hello" || !list.Targets[0].Default {
		t.Errorf("targets = %+v", list.Targets)
	}

	secretSpec := appSpec("hello") + `    secret: repocreds
`
	dt, err = call(t, writeSpec(t, strings.Replace(secretSpec, "command: hello\n", "command: hello\nargs:\n  GREETING: hi\n", 1)), "frontend.outline")
	if err != nil {
		t.Fatal(err)
	}
	var o outline.Outline
	if err := json.Unmarshal(dt, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Secrets) != 1 || o.Secrets[0].Name != "repocreds" || !o.Secrets[0].Required {
		t.Errorf("outline secrets = %+v", o.Secrets)
	}
	if len(o.Args) == 0 || o.Args[0].Name != "GREETING" || o.Args[0].Value != "hi" {
		t.Errorf("outline args = %+v", o.Args)
	}

	dt, err = call(t, dir, "flatpak.schema")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dt), `"finish-args"`) {
		t.Errorf("schema subrequest returned %.200s", dt)
	}
}

func TestBrokenSpecErrorCarriesYAMLLocation(t *testing.T) {
	dir := writeSpec(t, "id: org.example.Hello\ncommand: hello\npackages: [hello]\nfinish-args:\n  - --socket=x12\n")
	_, err := build(t, buildOpts{dir: dir, file: "flatpak.yaml", noRuntimeContext: true})
	if err == nil {
		t.Fatal("a spec with an unknown socket built")
	}
	if !strings.Contains(err.Error(), "x12") {
		t.Errorf("error does not name the bad value: %v", err)
	}
	if lines := sourceLines(err); len(lines) != 1 || lines[0] != 5 {
		t.Errorf("error points at lines %v, want [5]", lines)
	}
}
