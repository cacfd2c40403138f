package publish

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// CheckOptions say which published remote to check against which registry.
type CheckOptions struct {
	// Dir is the remote's root folder (what publish wrote).
	Dir string
	// Registry is where its images are, HOST[:PORT]; Insecure reads it
	// over plain HTTP.
	Registry string
	Insecure bool
	// Transport, when set, is the HTTP transport (tests).
	Transport http.RoundTripper
}

// Check reads every index a published remote holds and checks it as
// Flatpak 1.17.1 and later would, and against the registry: the mandatory
// fields are there, every digest exists, and the labels the index gives an
// image are its config's (icons aside, which the index names by URL). It
// returns one line per problem: FILE: WHAT.
func Check(ctx context.Context, o CheckOptions) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(o.Dir, "index", "static.d", "*", "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no published index (index/static.d/TAG/ARCH.json)", o.Dir)
	}
	sort.Strings(files)
	reg, ropts, _, err := connectRegistry(ctx, o.Registry, o.Insecure, o.Transport)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, f := range files {
		rel, _ := filepath.Rel(o.Dir, f)
		bad := func(format string, args ...any) {
			problems = append(problems, rel+": "+fmt.Sprintf(format, args...))
		}
		dt, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		idx, err := remoteindex.Parse(dt)
		if err != nil {
			bad("%v", err)
			continue
		}
		if err := idx.Validate(); err != nil {
			bad("%v", err)
		}
		for _, r := range idx.Results {
			repo := reg.Repo(r.Name)
			check := func(im remoteindex.Image) {
				ref := r.Name + "@" + im.Digest
				img, err := remote.Image(repo.Digest(im.Digest), ropts...)
				if err != nil {
					bad("%s: not in the registry: %v", ref, err)
					return
				}
				cfg, err := img.ConfigFile()
				if err != nil {
					bad("%s: cannot read its config: %v", ref, err)
					return
				}
				for k, v := range im.Labels {
					if strings.HasPrefix(k, labels.AppstreamIconPrefix) {
						continue // an icon's URL, its data is in the config
					}
					if got, ok := cfg.Config.Labels[k]; !ok || got != v {
						bad("%s: the index's label %s differs from the image's", ref, k)
					}
				}
				if cfg.Config.Labels[labels.Ref] == "" {
					bad("%s: the image has no org.flatpak.ref label", ref)
				}
				if im.Architecture != cfg.Architecture || im.OS != cfg.OS {
					bad("%s: the index says %s/%s, the image %s/%s", ref, im.OS, im.Architecture, cfg.OS, cfg.Architecture)
				}
			}
			for _, im := range r.Images {
				check(im)
			}
			for _, l := range r.Lists {
				if _, err := remote.Index(repo.Digest(l.Digest), ropts...); err != nil {
					bad("%s@%s: the image index is not in the registry: %v", r.Name, l.Digest, err)
				}
				for _, im := range l.Images {
					check(im)
				}
			}
		}
	}
	return problems, nil
}
