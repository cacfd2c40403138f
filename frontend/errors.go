package frontend

import (
	"errors"
	"fmt"

	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
)

// sourceInfo is the spec file as BuildKit shows it under an error.
func sourceInfo(s *spec.Spec) *pb.SourceInfo {
	if s == nil || s.Source == nil {
		return nil
	}
	return &pb.SourceInfo{Filename: s.Source.Filename, Data: s.Source.Data, Language: "yaml"}
}

// wrapSpec attaches the location of a spec key to err, so clients print the
// YAML lines under the message.
func wrapSpec(s *spec.Spec, err error, path ...any) error {
	info := sourceInfo(s)
	if err == nil || info == nil {
		return err
	}
	r, ok := s.Source.Range(path...)
	if !ok {
		return err
	}
	return errdefs.WithSource(err, &errdefs.Source{Info: info, Ranges: []*pb.Range{fllb.PBRange(r)}})
}

// parseError gives each spec error its own source location.
func parseError(filename string, data []byte, err error) error {
	var list spec.Errors
	if !errors.As(err, &list) || len(list) == 0 {
		return err
	}
	info := &pb.SourceInfo{Filename: filename, Data: data, Language: "yaml"}
	out := error(list)
	// errdefs.Sources lists the innermost first, and clients print them in
	// that order: wrap in file order.
	for _, e := range list {
		out = errdefs.WithSource(out, &errdefs.Source{Info: info, Ranges: []*pb.Range{fllb.PBRange(e.Range)}})
	}
	return out
}

// withContext prefixes err's message with what was being done. The gateway
// sends an error holding a gRPC status (one the daemon returned, such as a
// failed image resolve) as that status alone, dropping whatever wraps it: the
// prefixed message becomes a new error so that it reaches the client.
func withContext(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %s", fmt.Sprintf(format, args...), err.Error())
}
