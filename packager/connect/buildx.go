package connect

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// buildx keeps its builders in DOCKER_CONFIG/buildx: "current" names the
// one in use, instances/NAME describes it. Only the fields read here.
type buildxCurrent struct {
	Name string
}

type buildxNodeGroup struct {
	Name   string
	Driver string
	Nodes  []buildxNode
}

type buildxNode struct {
	Name       string
	Endpoint   string
	DriverOpts map[string]string
}

// currentBuildxBuilder returns the builder `docker buildx use` chose, or
// nil when there is none (no buildx, or the default docker builder).
func currentBuildxBuilder(dockerConfig string) (*buildxNodeGroup, *buildxNode, error) {
	if dockerConfig == "" {
		dockerConfig = os.Getenv("DOCKER_CONFIG")
	}
	if dockerConfig == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil, nil
		}
		dockerConfig = filepath.Join(home, ".docker")
	}
	dt, err := os.ReadFile(filepath.Join(dockerConfig, "buildx", "current"))
	if err != nil {
		return nil, nil, nil
	}
	var cur buildxCurrent
	if err := json.Unmarshal(dt, &cur); err != nil || cur.Name == "" {
		return nil, nil, nil
	}
	p := filepath.Join(dockerConfig, "buildx", "instances", cur.Name)
	dt, err = os.ReadFile(p)
	if err != nil {
		return nil, nil, nil // a builder buildx itself has forgotten
	}
	var ng buildxNodeGroup
	if err := json.Unmarshal(dt, &ng); err != nil {
		return nil, nil, fmt.Errorf("docker buildx builder %q (%s): %w", cur.Name, p, err)
	}
	if len(ng.Nodes) == 0 || ng.Driver == "docker" {
		// The docker driver's BuildKit lives inside dockerd, which only
		// docker's API reaches.
		return nil, nil, nil
	}
	return &ng, &ng.Nodes[0], nil
}

var containerNameRE = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// buildxEndpoint is the address and TLS of a builder's first node, the way
// buildx's own drivers reach it.
func buildxEndpoint(ng *buildxNodeGroup, n *buildxNode) (string, TLS, error) {
	switch ng.Driver {
	case "remote":
		return n.Endpoint, TLS{
			CACert:     n.DriverOpts["cacert"],
			Cert:       n.DriverOpts["cert"],
			Key:        n.DriverOpts["key"],
			ServerName: n.DriverOpts["servername"],
		}, nil
	case "docker-container":
		// buildx names the container buildx_buildkit_NODE.
		return "docker-container://buildx_buildkit_" + containerNameRE.ReplaceAllString(n.Name, "_"), TLS{}, nil
	default:
		return "", TLS{}, fmt.Errorf("the current docker buildx builder %q uses the %s driver, whose BuildKit this command cannot reach directly: pass --addr (kube-pod://POD for a kubernetes builder), or `docker buildx use` a remote or docker-container builder", ng.Name, ng.Driver)
	}
}
