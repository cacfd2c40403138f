package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
	"github.com/flatpak-frontend/flatpak-frontend/oci/registryauth"
	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options is one publish.
type Options struct {
	// Registry is the registry to read, HOST[:PORT].
	Registry string
	// Insecure reads it over plain HTTP (a registry on loopback is).
	Insecure bool
	// RegistryURL is what the index names as the registry Flatpak pulls
	// from; default https://REGISTRY/ (http:// with Insecure).
	RegistryURL string
	// Repositories to publish; none: all the registry lists (its catalog).
	Repositories []string
	// Out is the remote's root folder.
	Out string
	// Warn receives what was left out and why.
	Warn func(string)
	// Transport, when set, is the HTTP transport (tests).
	Transport http.RoundTripper
	// Sign, when set, signs every image the index names (simple signing,
	// in the signatures/ lookaside folder beside index/) that has no
	// signature yet; Resign signs them all again (a new key).
	Sign   Signer
	Resign bool
	// Deltas pushes, for each image that replaces one the last publish
	// into Out named (same repository, tag and Flatpak ref), the layer
	// deltas Flatpak applies on update (tar-diff, in the repository's
	// _deltaindex): users then download what changed, not every layer.
	// It needs push access to the registry.
	Deltas bool
	// DeltaDepth is how many earlier versions get deltas to each new
	// image (DefaultDeltaDepth when 0).
	DeltaDepth int
}

// Result says what a publish wrote.
type Result struct {
	// Indexes are the index files written, relative to Out.
	Indexes []string
	// Images is how many images the indexes name.
	Images int
	// Signed is how many signatures were written.
	Signed int
	// Deltas is how many delta manifests were pushed; DeltaBytes the
	// bytes of their deltas, and DeltaLayerBytes of the layers those
	// stand for (what a user would download without them).
	Deltas                      int
	DeltaBytes, DeltaLayerBytes int64
}

// Publish writes the index of the registry's Flatpak images.
func Publish(ctx context.Context, o Options) (*Result, error) {
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	reg, ropts, pullURL, err := connectRegistry(ctx, o.Registry, o.Insecure, o.Transport)
	if err != nil {
		return nil, err
	}
	if o.RegistryURL == "" {
		o.RegistryURL = pullURL
	}
	repos := o.Repositories
	if len(repos) == 0 {
		if repos, err = remote.Catalog(ctx, reg, ropts...); err != nil {
			// Docker Hub, quay.io and ghcr.io do not list their
			// repositories (401, 403 or 404 on /v2/_catalog).
			var te *transport.Error
			if errors.As(err, &te) && slices.Contains([]int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed}, te.StatusCode) {
				return nil, fmt.Errorf("%s does not list its repositories to this client: name them with --repo: %w", o.Registry, err)
			}
			return nil, fmt.Errorf("list the repositories of %s: %w", o.Registry, err)
		}
	}
	sort.Strings(repos)

	// tag -> arch -> repository -> its entry
	indexes := map[string]map[string]map[string]*remoteindex.Repository{}
	entry := func(tag, arch, repo string) *remoteindex.Repository {
		if indexes[tag] == nil {
			indexes[tag] = map[string]map[string]*remoteindex.Repository{}
		}
		if indexes[tag][arch] == nil {
			indexes[tag][arch] = map[string]*remoteindex.Repository{}
		}
		r := indexes[tag][arch][repo]
		if r == nil {
			r = &remoteindex.Repository{Name: repo, Images: []remoteindex.Image{}}
			indexes[tag][arch][repo] = r
		}
		return r
	}
	icons := map[string][]byte{}
	var digests []name.Digest
	for _, repoName := range repos {
		repo := reg.Repo(repoName)
		tags, err := remote.List(repo, ropts...)
		if err != nil {
			if !missing(err) {
				return nil, fmt.Errorf("%s: list its tags: %w", repoName, err)
			}
			o.Warn(fmt.Sprintf("%s: cannot list its tags, left out: %v", repoName, err))
			continue
		}
		sort.Strings(tags)
		// The tags of each digest, so that an image lists all its tags.
		byDigest := map[string][]string{}
		descs := map[string]*remote.Descriptor{}
		for _, tag := range tags {
			if remoteindex.CheckName(tag) != nil || tag == deltaIndexTag {
				continue
			}
			desc, err := remote.Get(repo.Tag(tag), ropts...)
			if err != nil {
				if !missing(err) {
					return nil, fmt.Errorf("%s:%s: read its manifest: %w", repoName, tag, err)
				}
				o.Warn(fmt.Sprintf("%s:%s: cannot read its manifest, left out: %v", repoName, tag, err))
				continue
			}
			d := desc.Digest.String()
			byDigest[d] = append(byDigest[d], tag)
			descs[d] = desc
		}
		for _, d := range sortedKeys((descs)) {
			desc, tags := descs[d], byDigest[d]
			switch {
			case desc.MediaType.IsIndex():
				idx, err := desc.ImageIndex()
				if err != nil {
					o.Warn(fmt.Sprintf("%s@%s: %v; left out", repoName, d, err))
					continue
				}
				im, err := idx.IndexManifest()
				if err != nil {
					o.Warn(fmt.Sprintf("%s@%s: %v; left out", repoName, d, err))
					continue
				}
				lists := map[string]*remoteindex.List{}
				for _, m := range im.Manifests {
					if !m.MediaType.IsImage() {
						continue // attestations and the like
					}
					img, err := remote.Image(repo.Digest(m.Digest.String()), ropts...)
					if err != nil {
						if !missing(err) {
							return nil, fmt.Errorf("%s@%s (in %s): %w", repoName, m.Digest, d, err)
						}
						o.Warn(fmt.Sprintf("%s@%s (in %s): cannot read it, left out: %v", repoName, m.Digest, d, err))
						continue
					}
					ie, ok, err := indexImage(img, m.Digest.String(), string(m.MediaType), nil, icons)
					if err != nil {
						if unreachable(err) {
							return nil, fmt.Errorf("%s@%s (in %s): %w", repoName, m.Digest, d, err)
						}
						o.Warn(fmt.Sprintf("%s@%s (in %s): %v; left out", repoName, m.Digest, d, err))
						continue
					}
					if !ok {
						continue
					}
					l := lists[ie.Architecture]
					if l == nil {
						l = &remoteindex.List{Digest: d, MediaType: string(desc.MediaType), Tags: tags}
						lists[ie.Architecture] = l
					}
					l.Images = append(l.Images, *ie)
					digests = append(digests, repo.Digest(m.Digest.String()))
				}
				for arch, l := range lists {
					for _, tag := range tags {
						r := entry(tag, arch, repoName)
						r.Lists = append(r.Lists, *l)
					}
				}
				if len(lists) > 0 {
					digests = append(digests, repo.Digest(d))
				}
			case desc.MediaType.IsImage():
				img, err := desc.Image()
				if err != nil {
					o.Warn(fmt.Sprintf("%s@%s: %v; left out", repoName, d, err))
					continue
				}
				ie, ok, err := indexImage(img, d, string(desc.MediaType), tags, icons)
				if err != nil {
					if unreachable(err) {
						return nil, fmt.Errorf("%s:%s: %w", repoName, strings.Join(tags, ","), err)
					}
					o.Warn(fmt.Sprintf("%s:%s: %v; left out", repoName, strings.Join(tags, ","), err))
					continue
				}
				if !ok {
					continue
				}
				for _, tag := range tags {
					r := entry(tag, ie.Architecture, repoName)
					r.Images = append(r.Images, *ie)
				}
				digests = append(digests, repo.Digest(d))
			}
		}
	}

	// The registry must still hold every manifest the index names.
	gone := map[string]bool{}
	for _, d := range digests {
		if _, err := remote.Head(d, ropts...); err != nil {
			if !missing(err) {
				return nil, fmt.Errorf("%s: %w", d, err)
			}
			o.Warn(fmt.Sprintf("%s: gone from the registry while publishing, left out: %v", d, err))
			gone[d.DigestStr()] = true
		}
	}

	res := &Result{}
	if o.Deltas {
		// Before the index names the new images: an update that finds
		// them finds their deltas.
		pairs, published := deltaPairs(indexes, gone, previousImages(o.Out))
		depth := o.DeltaDepth
		if depth <= 0 {
			depth = DefaultDeltaDepth
		}
		n, err := pushDeltas(ctx, reg, ropts, pairs, published, depth, o.Warn)
		if err != nil {
			return nil, err
		}
		res.Deltas, res.DeltaBytes, res.DeltaLayerBytes = n.manifests, n.deltaBytes, n.layerBytes
	}
	for name, png := range icons {
		if err := writeAtomic(filepath.Join(o.Out, remoteindex.IconsDir, name), png); err != nil {
			return nil, err
		}
	}
	want := map[string]bool{}
	signed := map[string]map[string]bool{} // repository -> manifest digests
	sign := func(repo, digest string) {
		if signed[repo] == nil {
			signed[repo] = map[string]bool{}
		}
		signed[repo][digest] = true
	}
	for _, tag := range sortedKeys((indexes)) {
		for _, arch := range sortedKeys((indexes[tag])) {
			resp := &remoteindex.Response{Registry: o.RegistryURL}
			for _, repo := range sortedKeys((indexes[tag][arch])) {
				r := dropGone(*indexes[tag][arch][repo], gone)
				if len(r.Images) == 0 && len(r.Lists) == 0 {
					continue
				}
				res.Images += len(r.Images)
				for _, im := range r.Images {
					sign(r.Name, im.Digest)
				}
				for _, l := range r.Lists {
					res.Images += len(l.Images)
					for _, im := range l.Images {
						sign(r.Name, im.Digest)
					}
				}
				resp.Results = append(resp.Results, r)
			}
			dt, err := resp.Marshal()
			if err != nil {
				return nil, err
			}
			p := remoteindex.StaticPath(tag, arch)
			if err := writeAtomic(filepath.Join(o.Out, p), dt); err != nil {
				return nil, err
			}
			want[p] = true
			res.Indexes = append(res.Indexes, p)
		}
	}
	if o.Sign != nil {
		if res.Signed, err = signAll(ctx, o, signed); err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
	}
	// The answer for a tag or architecture nothing was published for: no
	// image, and where they would be.
	empty, err := (&remoteindex.Response{Registry: o.RegistryURL}).Marshal()
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(o.Out, remoteindex.EmptyPath), empty); err != nil {
		return nil, err
	}
	// Indexes of tags or architectures that are gone.
	old, _ := filepath.Glob(filepath.Join(o.Out, "index", "static.d", "*", "*.json"))
	for _, f := range old {
		rel, _ := filepath.Rel(o.Out, f)
		if !want[filepath.ToSlash(rel)] {
			os.Remove(f)
		}
	}
	return res, nil
}

// indexImage is an image's entry, if it is a Flatpak (has a ref label),
// with its icons moved out of the labels into icons.
func indexImage(img v1.Image, digest, mediaType string, tags []string, icons map[string][]byte) (*remoteindex.Image, bool, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, false, fmt.Errorf("cannot read its config: %w", err)
	}
	l := cfg.Config.Labels
	if l[labels.Ref] == "" {
		return nil, false, nil
	}
	out := map[string]string{}
	for k, v := range l {
		out[k] = v
	}
	for _, size := range []string{"64", "128"} {
		k := labels.AppstreamIconPrefix + size
		data, ok := strings.CutPrefix(out[k], "data:image/png;base64,")
		if !ok {
			continue
		}
		png, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, false, fmt.Errorf("label %s is not base64", k)
		}
		sum := sha256.Sum256(png)
		name := size + "/" + hex.EncodeToString(sum[:16]) + ".png"
		icons[name] = png
		out[k] = remoteindex.IconURL(name)
	}
	if mediaType == "" {
		mt, _ := img.MediaType()
		mediaType = string(mt)
	}
	if mediaType == "" {
		mediaType = string(types.OCIManifestSchema1)
	}
	return &remoteindex.Image{Digest: digest, MediaType: mediaType, OS: cfg.OS, Architecture: cfg.Architecture,
		Tags: tags, Labels: out}, true, nil
}

func dropGone(r remoteindex.Repository, gone map[string]bool) remoteindex.Repository {
	out := remoteindex.Repository{Name: r.Name, Images: []remoteindex.Image{}}
	for _, img := range r.Images {
		if !gone[img.Digest] {
			out.Images = append(out.Images, img)
		}
	}
	for _, l := range r.Lists {
		if gone[l.Digest] {
			continue
		}
		var imgs []remoteindex.Image
		for _, img := range l.Images {
			if !gone[img.Digest] {
				imgs = append(imgs, img)
			}
		}
		if len(imgs) > 0 {
			l.Images = imgs
			out.Lists = append(out.Lists, l)
		}
	}
	return out
}

// writeAtomic replaces a file with data: written beside it, then renamed.
// It is not rewritten when it holds data already.
func writeAtomic(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := errors.Join(tmp.Chmod(0o644), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// missing says err is the registry answering that a repository, manifest
// or blob is not there (404): what a push half done or a deletion leaves,
// which publish leaves out with a warning. Any other failure to ask the
// registry (no connection, TLS, a login refused, a server error) fails
// the publish: an index written without what could not be asked about
// would take those apps from every user's remote.
func missing(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// unreachable says err is a failure to ask the registry, not an answer
// about the image (see missing).
func unreachable(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode != http.StatusNotFound
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// connectRegistry is the registry, the options every request to it takes
// (the user's credentials, oci/registryauth, and registry settings,
// oci/registryhosts: TLS certificates, plain HTTP; plain HTTP if insecure)
// and its URL as Flatpak is to pull from it.
func connectRegistry(ctx context.Context, registry string, insecure bool, rt http.RoundTripper) (reg name.Registry, ropts []remote.Option, pullURL string, err error) {
	hosts, err := registryhosts.Load()
	if err != nil {
		return name.Registry{}, nil, "", err
	}
	var nopts []name.Option
	plain, said := hosts.PlainHTTP(registry)
	if insecure || plain {
		nopts = append(nopts, name.Insecure)
	}
	if reg, err = name.NewRegistry(registry, nopts...); err != nil {
		return name.Registry{}, nil, "", fmt.Errorf("registry %q: %w", registry, err)
	}
	if rt == nil {
		rt = remote.DefaultTransport
	}
	if rt, err = hosts.Transport(rt); err != nil {
		return name.Registry{}, nil, "", err
	}
	ropts = []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(registryauth.Keychain), remote.WithTransport(rt)}
	// go-containerregistry takes loopback and private addresses to speak
	// plain HTTP; the settings may say otherwise. Docker Hub's API is at
	// index.docker.io (RegistryStr), not docker.io.
	scheme := reg.Scheme()
	if said && !plain && !insecure {
		scheme = "https"
	}
	return reg, ropts, scheme + "://" + reg.RegistryStr() + "/", nil
}
