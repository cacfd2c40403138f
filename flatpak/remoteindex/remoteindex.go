package remoteindex

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Response is the index of one tag and architecture.
type Response struct {
	// Registry is where the images are pulled from: an absolute URL, or
	// one relative to the index's.
	Registry string
	Results  []Repository
}

// Repository is one repository of the registry.
type Repository struct {
	Name   string
	Images []Image
	Lists  []List `json:",omitempty"`
}

// Image is one image manifest.
type Image struct {
	Digest       string
	MediaType    string
	OS           string
	Architecture string
	Tags         []string
	Labels       map[string]string `json:",omitempty"`
	Annotations  map[string]string `json:",omitempty"`
}

// List is one image index (a multi-architecture image) and its images of
// the index's architecture.
type List struct {
	Digest    string
	MediaType string
	Tags      []string
	Images    []Image
}

// Marshal is the index as JSON, the same bytes for the same content:
// repositories by name, their images and lists by digest.
func (r *Response) Marshal() ([]byte, error) {
	c := *r
	if c.Results == nil {
		c.Results = []Repository{}
	}
	sort.Slice(c.Results, func(i, j int) bool { return c.Results[i].Name < c.Results[j].Name })
	for i := range c.Results {
		repo := &c.Results[i]
		if repo.Images == nil {
			repo.Images = []Image{}
		}
		sortImages(repo.Images)
		sort.Slice(repo.Lists, func(a, b int) bool { return repo.Lists[a].Digest < repo.Lists[b].Digest })
		for j := range repo.Lists {
			if repo.Lists[j].Images == nil {
				repo.Lists[j].Images = []Image{}
			}
			sortImages(repo.Lists[j].Images)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	dt, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(dt, '\n'), nil
}

func sortImages(images []Image) {
	for i := range images {
		sort.Strings(images[i].Tags)
	}
	sort.Slice(images, func(i, j int) bool { return images[i].Digest < images[j].Digest })
}

// Validate reports the first field Flatpak 1.17.1 and later require that
// the index lacks, naming where it is.
func (r *Response) Validate() error {
	if r.Registry == "" {
		return fmt.Errorf("index: no Registry")
	}
	for _, repo := range r.Results {
		if repo.Name == "" {
			return fmt.Errorf("index: a repository without a Name")
		}
		if repo.Images == nil {
			return fmt.Errorf("index: repository %s has no Images (Flatpak 1.17.1 requires an empty list)", repo.Name)
		}
		for _, img := range repo.Images {
			if err := img.validate(repo.Name); err != nil {
				return err
			}
		}
		for _, l := range repo.Lists {
			if l.Digest == "" || l.MediaType == "" || l.Images == nil {
				return fmt.Errorf("index: a list of repository %s lacks Digest, MediaType or Images", repo.Name)
			}
			for _, img := range l.Images {
				if err := img.validate(repo.Name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (img Image) validate(repo string) error {
	if img.Digest == "" || img.MediaType == "" || img.OS == "" || img.Architecture == "" {
		return fmt.Errorf("index: an image of repository %s lacks Digest, MediaType, OS or Architecture", repo)
	}
	if !strings.HasPrefix(img.Digest, "sha256:") {
		return fmt.Errorf("index: image %s of repository %s: Flatpak only pulls sha256 digests", img.Digest, repo)
	}
	return nil
}

// Parse reads an index, refusing what Flatpak 1.17.1 would.
func Parse(data []byte) (*Response, error) {
	var r Response
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// StaticPath is where the index of tag and architecture (OCI's name:
// amd64, arm64) lies below the remote's root. A web server answers
// /index/static?...&architecture=ARCH&...&tag=TAG with it (see
// docs/publishing.md); tag and architecture must be CheckName'd.
func StaticPath(tag, arch string) string {
	return path.Join("index", "static.d", tag, arch+".json")
}

// EmptyPath is the index of a tag or architecture nothing was published
// for: no images, and the registry they would be in.
const EmptyPath = "index/static.d/empty.json"

// IconsDir holds the icons, below the remote's root; the index names them
// relative to /index/static, where Flatpak resolves them.
const IconsDir = "index/icons"

// IconURL is how an index names the icon stored at IconsDir/name.
func IconURL(name string) string { return "icons/" + name }

// CheckName reports whether s may be a tag or an architecture in a path:
// the characters of a registry tag ([A-Za-z0-9_.-], not starting with . or
// -).
func CheckName(s string) error {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return fmt.Errorf("%q is not a tag or architecture name", s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%q is not a tag or architecture name", s)
		}
	}
	return nil
}
