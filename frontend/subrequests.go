package frontend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"
)

// SchemaSubrequest returns the JSON Schema of flatpak.yaml:
// buildctl build ... --opt requestid=flatpak.schema.
const SchemaSubrequest = "flatpak.schema"

// callSchemaSubrequest is the schema request as `docker buildx build --call
// flatpak.schema` names it: buildx prefixes the name with "frontend.".
const callSchemaSubrequest = "frontend." + SchemaSubrequest

const keyRequestID = "requestid"

var schemaDefinition = subrequests.Request{
	Name:        SchemaSubrequest,
	Version:     "1.0.0",
	Type:        subrequests.TypeRPC,
	Description: "The JSON Schema of flatpak.yaml",
	Metadata:    []subrequests.Named{{Name: "result.json"}, {Name: "result.txt"}},
}

// subrequest answers --call targets, outline, the schema request and
// describe; ok is false for an ordinary build.
func (b *builder) subrequest(ctx context.Context) (*client.Result, bool, error) {
	switch b.bc.BuildOpts().Opts[keyRequestID] {
	case "":
		return nil, false, nil
	case SchemaSubrequest, callSchemaSubrequest:
		res := client.NewResult()
		res.AddMeta("result.json", spec.Schema())
		res.AddMeta("result.txt", spec.Schema())
		return res, true, nil
	case subrequests.RequestSubrequestsDescribe:
		all := []subrequests.Request{outline.SubrequestsOutlineDefinition, targets.SubrequestsTargetsDefinition, schemaDefinition, subrequests.SubrequestsDescribeDefinition}
		dt, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return nil, false, err
		}
		res := client.NewResult()
		res.AddMeta("result.json", dt)
		var txt bytes.Buffer
		if err := subrequests.PrintDescribe(dt, &txt); err != nil {
			return nil, false, err
		}
		res.AddMeta("result.txt", txt.Bytes())
		return res, true, nil
	}
	return b.bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		ListTargets: func(context.Context) (*targets.List, error) { return listTargets(b.spec), nil },
		Outline:     func(context.Context) (*outline.Outline, error) { return b.outline(), nil },
	})
}

func listTargets(s *spec.Spec) *targets.List {
	return &targets.List{Targets: []targets.Target{{
		Name:        s.ID,
		Default:     true,
		Description: fmt.Sprintf("Flatpak %s %s, branch %s", s.Kind(), s.ID, s.Branch),
	}}}
}

// outline lists what a build of this file can be given: its args (the
// declared ones and the frontend's), and the secrets its repos read.
func (b *builder) outline() *outline.Outline {
	s := b.spec
	at := func(path ...any) *pb.Location {
		r, ok := s.Source.Range(path...)
		if !ok {
			return nil
		}
		return &pb.Location{SourceIndex: 0, Ranges: []*pb.Range{fllb.PBRange(r)}}
	}
	o := &outline.Outline{
		Name:        s.ID,
		Description: fmt.Sprintf("Flatpak %s %s", s.Kind(), s.ID),
		Sources:     [][]byte{s.Source.Data},
	}
	for _, name := range slices.Sorted(maps.Keys(s.Args)) {
		o.Args = append(o.Args, outline.Arg{Name: name, Value: s.Args[name], Location: at("args", name)})
	}
	o.Args = append(o.Args,
		outline.Arg{Name: ArgRuntimeImage, Description: "the runtime image to build on (overrides runtime-image)", Value: s.DefaultRuntimeImage()},
		outline.Arg{Name: ArgBaseImage, Description: "the build image whose installer installs (overrides base_image)", Value: s.BaseImage},
		outline.Arg{Name: ArgSourceDateEpoch, Description: "the timestamp of every file and of the image"},
	)
	for i, r := range s.Repos {
		if r.Secret != "" {
			o.Secrets = append(o.Secrets, outline.Secret{Name: r.Secret, Required: true, Location: at("repos", i, "secret")})
		}
	}
	return o
}
