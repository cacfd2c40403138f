package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	contentlocal "github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

// The test runtime's identity.
const (
	RuntimeID     = "org.example.Platform"
	RuntimeBranch = "1"
	RuntimeRef    = "runtime/" + RuntimeID + "/x86_64/" + RuntimeBranch
	// RuntimeStoreID names the runtime's OCI layout in SolveOpt.OCIStores.
	RuntimeStoreID = "test-runtime"
	// RuntimeRepoPath is where [RuntimeImage.Push] puts it in the registry.
	RuntimeRepoPath = "example/platform:" + RuntimeBranch
)

// RuntimeMetadata is the Flatpak metadata keyfile of the test runtime.
const RuntimeMetadata = "[Runtime]\nname=" + RuntimeID +
	"\nruntime=" + RuntimeID + "/x86_64/" + RuntimeBranch +
	"\nsdk=" + RuntimeID + "/x86_64/" + RuntimeBranch + "\n"

// Bump when the recipe below changes, to stop reusing old cache entries.
const (
	rootfsRecipe = "debootstrap v1 --variant=minbase --include=dnf,rpm bookworm"
	// The same root made by a normal user (make fixtures, make demo).
	rootfsRecipeUnshare = "mmdebstrap v1 --mode=unshare --variant=minbase --include=dnf,rpm bookworm"
	runtimeRecipe       = "runtime v2"
)

// RuntimeImage is the hybrid test runtime as an OCI image layout.
type RuntimeImage struct {
	// Dir is the OCI image layout folder (oci-layout, index.json, blobs/).
	Dir string
	// Digest is the image manifest's digest ("sha256:...").
	Digest string
	// Ref is the Flatpak ref, also the index.json annotation
	// org.opencontainers.image.ref.name that flatpak build-import-bundle reads.
	Ref string
}

var (
	runtimeFixture fixture
	pushOnce       sync.Once
	pushedRef      string
	pushErr        error
)

// Runtime returns the hybrid test runtime org.example.Platform//1.
//
// Its layer from `flatpak build-bundle --oci` holds the Flatpak runtime:
// metadata, and files/ = /usr of a Debian bookworm minbase with dnf and rpm,
// files/etc = its /etc. The rpmdb is in files/lib/sysimage/rpm (the runtime's
// /usr/lib/sysimage/rpm, set as %_dbpath in /etc/rpm/macros) and records the
// runtime-provides meta package, so dnf can resolve /bin/sh. dnf is set up to
// work offline: no repos configured, no weak deps. A second layer, added with
// BuildKit, holds the hybrid entries (usr -> /files, etc -> /files/etc, bin,
// sbin, lib, lib64, root/, run/, tmp/, var/...) that make the image run as a
// container. The image config is the bundle's, with all the Flatpak labels.
func Runtime(t testing.TB) RuntimeImage {
	t.Helper()
	return runtimeFixture.runtime(t, runtimeKey, buildRuntime)
}

// State is the runtime as an LLB source; solve it with [RuntimeImage.OCIStores]
// in SolveOpt.OCIStores. The OCI source has no image config, so RUN steps
// on it need their own PATH.
func (r RuntimeImage) State() llb.State {
	return ociLayoutState(r.Digest)
}

// OCIStores returns SolveOpt.OCIStores that serve [RuntimeImage.State].
func (r RuntimeImage) OCIStores(t testing.TB) map[string]content.Store {
	t.Helper()
	store, err := contentlocal.NewStore(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]content.Store{RuntimeStoreID: store}
}

// Push copies the runtime to the harness's registry (once per process) and
// returns its reference, REGISTRY/example/platform:1. The private daemon
// pulls it over plain HTTP, e.g. llb.Image(ref).
func (r RuntimeImage) Push(t testing.TB) string {
	t.Helper()
	host := Registry(t)
	pushOnce.Do(func() {
		ref := host + "/" + RuntimeRepoPath
		// --preserve-digests: the registry must hold the very image the
		// tests import into Flatpak.
		_, pushErr = run(context.Background(), nil, "", "skopeo", "copy", "--quiet",
			"--dest-tls-verify=false", "--preserve-digests",
			"oci:"+r.Dir, "docker://"+ref)
		pushedRef = ref
	})
	if pushErr != nil {
		t.Fatal(pushErr)
	}
	return pushedRef
}

// ociLayoutState is an image in the OCI store RuntimeStoreID. BuildKit wants a
// full image reference (it parses it as a URL); only the store ID and the
// digest matter, the name is for logs.
func ociLayoutState(dgst string) llb.State {
	return llb.OCILayout("docker.io/library/"+RuntimeStoreID+"@"+dgst,
		llb.OCIStore("", RuntimeStoreID), llb.WithCustomName("test runtime "+RuntimeRef))
}

func loadRuntime(dir string) (RuntimeImage, error) {
	idx, err := readIndex(dir)
	if err != nil {
		return RuntimeImage{}, err
	}
	if len(idx.Manifests) != 1 {
		return RuntimeImage{}, fmt.Errorf("%s/index.json: want 1 manifest, have %d", dir, len(idx.Manifests))
	}
	return RuntimeImage{Dir: dir, Digest: idx.Manifests[0].Digest.String(), Ref: idx.Manifests[0].Annotations[ocispecs.AnnotationRefName]}, nil
}

func readIndex(dir string) (ocispecs.Index, error) {
	var idx ocispecs.Index
	dt, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return idx, err
	}
	if err := json.Unmarshal(dt, &idx); err != nil {
		return idx, fmt.Errorf("%s/index.json: %w", dir, err)
	}
	return idx, nil
}

func readBlob(dir string, d digest.Digest, v any) ([]byte, error) {
	dt, err := os.ReadFile(filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded()))
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := json.Unmarshal(dt, v); err != nil {
			return nil, fmt.Errorf("blob %s: %w", d, err)
		}
	}
	return dt, nil
}

func rootfsKey() (string, string, error) {
	if os.Geteuid() != 0 {
		return "rootfs", hashOf([]byte(rootfsRecipeUnshare)), nil
	}
	return "rootfs", hashOf([]byte(rootfsRecipe)), nil
}

func runtimeKey() (string, string, error) {
	_, rootHash, _ := rootfsKey()
	specs, err := specFiles()
	if err != nil {
		return "", "", err
	}
	provides, ok := specs["runtime-provides.spec"]
	if !ok {
		return "", "", fmt.Errorf("testdata/rpms/runtime-provides.spec is missing")
	}
	return "runtime", hashOf([]byte(runtimeRecipe), []byte(rootHash), provides, []byte(RuntimeMetadata), []byte(hybridRecipe())), nil
}

// buildRootfs runs debootstrap: a Debian bookworm minbase with dnf and rpm
// (about a minute and 470 MB), cached on its own because it is the slow part.
//
// A normal user gets the same root from mmdebstrap's unshare mode (in a
// user namespace of their subordinate ids) as a tarball, unpacked as the
// user's own files: nothing here needs root.
func buildRootfs(ctx context.Context, dir string) error {
	root := filepath.Join(dir, "root")
	if os.Geteuid() == 0 {
		_, err := run(ctx, nil, "", "debootstrap", "--variant=minbase", "--include=dnf,rpm",
			"bookworm", root, debianMirror())
		return err
	}
	tarball := filepath.Join(dir, "root.tar")
	if _, err := run(ctx, nil, "", "mmdebstrap", "--mode=unshare", "--variant=minbase", "--include=dnf,rpm",
		"bookworm", tarball, debianMirror()); err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	// Device nodes only root can make; the runtime takes /usr and /etc.
	if _, err := run(ctx, nil, "", "tar", "-C", root, "--no-same-owner", "--exclude=./dev/*", "-xf", tarball); err != nil {
		return err
	}
	return os.Remove(tarball)
}

// debianMirror is the first bookworm mirror of the host's apt sources, so the
// runtime comes from wherever this machine gets its packages.
func debianMirror() string {
	const fallback = "http://deb.debian.org/debian"
	var files []string
	files = append(files, "/etc/apt/sources.list")
	more, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	files = append(files, more...)
	more, _ = filepath.Glob("/etc/apt/sources.list.d/*.sources")
	files = append(files, more...)
	for _, f := range files {
		if m := mirrorIn(f); m != "" {
			return m
		}
	}
	return fallback
}

func mirrorIn(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	isMain := func(uri, suites string) bool {
		return strings.HasPrefix(uri, "http") && !strings.Contains(uri, "security") &&
			strings.Contains(" "+suites+" ", " bookworm ")
	}
	var uris, suites string // deb822 stanza
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(path, ".sources") {
			if line == "" {
				if u := strings.Fields(uris); len(u) > 0 && isMain(u[0], suites) {
					return u[0]
				}
				uris, suites = "", ""
			}
			if v, ok := strings.CutPrefix(line, "URIs:"); ok {
				uris = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "Suites:"); ok {
				suites = strings.TrimSpace(v)
			}
			continue
		}
		// deb [options] URI SUITE COMPONENTS...
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "deb" {
			continue
		}
		fields = fields[1:]
		if strings.HasPrefix(fields[0], "[") {
			for len(fields) > 0 && !strings.HasSuffix(fields[0], "]") {
				fields = fields[1:]
			}
			if len(fields) > 0 {
				fields = fields[1:]
			}
		}
		if len(fields) >= 2 && isMain(fields[0], fields[1]) {
			return fields[0]
		}
	}
	if u := strings.Fields(uris); len(u) > 0 && isMain(u[0], suites) {
		return u[0]
	}
	return ""
}

// dnfConf makes dnf work offline in the runtime: repos come only from the
// command line (--repofrompath), and weak dependencies are not pulled in.
const dnfConf = `[main]
gpgcheck=False
installonly_limit=3
clean_requirements_on_remove=True
best=False
skip_if_unavailable=False
install_weak_deps=False
reposdir=/etc/yum.repos.d
`

func buildRuntime(ctx context.Context, dir string) error {
	rootfs, err := buildCached(rootfsKey, buildRootfs)
	if err != nil {
		return err
	}
	return buildRuntimeFrom(ctx, dir, filepath.Join(rootfs, "root"), "x86_64")
}

// buildRuntimeFrom makes the test runtime for arch (a Flatpak arch) out of
// a Debian root of that architecture.
func buildRuntimeFrom(ctx context.Context, dir, root, arch string) error {
	rpms, err := buildCached(rpmsKey, buildRPMs)
	if err != nil {
		return err
	}
	providesRPM, err := findRPM(rpms, "runtime-provides")
	if err != nil {
		return err
	}
	// Scratch space next to dir: we hold dir's lock, and a run that was
	// killed left at most this one folder behind, removed here.
	work, err := scratch(dir)
	if err != nil {
		return err
	}
	defer removeAll(work)

	// The Flatpak runtime tree: files/ = /usr, files/etc = /etc.
	tree := filepath.Join(work, "tree")
	files := filepath.Join(tree, "files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "cp", "-a", root+"/usr/.", files+"/"); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "cp", "-a", root+"/etc", files+"/etc"); err != nil {
		return err
	}
	// Documentation is most of the size and nothing uses it.
	for _, d := range []string{"share/doc", "share/man", "share/info", "share/locale"} {
		if err := os.RemoveAll(filepath.Join(files, d)); err != nil {
			return err
		}
	}

	// Python byte code that stays valid whatever the sources' mtimes: the
	// image dates every file 2024-01-01 and a Flatpak checkout 1970, either
	// of which makes Debian's mtime-checked .pyc files stale, and dnf
	// would then compile its 180 modules on every run (0.25 s). Fedora's
	// runtimes ship byte code their installs keep valid.
	if _, err := run(ctx, nil, "", "python3", "-m", "compileall", "-q", "-f",
		"--invalidation-mode", "unchecked-hash", "-s", files, "-p", "/usr",
		filepath.Join(files, "lib", "python3"), filepath.Join(files, "lib", "python3.11")); err != nil {
		return err
	}

	// The rpmdb, where Fedora keeps it: /usr/lib/sysimage/rpm. Debian's rpm
	// defaults to ~/.rpmdb, hence the macro.
	if err := os.MkdirAll(filepath.Join(files, "etc", "rpm"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(files, "etc", "rpm", "macros"), []byte("%_dbpath /usr/lib/sysimage/rpm\n"), 0o644); err != nil {
		return err
	}
	dbpath := filepath.Join(files, "lib", "sysimage", "rpm")
	if err := os.MkdirAll(dbpath, 0o755); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "rpm", "--dbpath", dbpath, "--initdb"); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "rpm", "--dbpath", dbpath, "-i", "--justdb", "--nodeps", "--ignorearch",
		"--noscripts", "--notriggers", providesRPM); err != nil {
		return err
	}

	// dnf: offline, repos only from the command line.
	if err := offlineDnf(files); err != nil {
		return err
	}
	md := strings.ReplaceAll(RuntimeMetadata, "/x86_64/", "/"+arch+"/")
	return exportRuntimeArch(ctx, tree, work, dir, RuntimeID, RuntimeBranch, md, arch)
}

// exportRoot makes a root's /usr and /etc the Flatpak runtime tree
// (files/ = /usr, files/etc = /etc), moving them, and exports it as the
// runtime id of branch RuntimeBranch that is its own runtime and SDK.
func exportRoot(ctx context.Context, root, work, dir, id string) error {
	tree := filepath.Join(work, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(root, "usr"), filepath.Join(tree, "files")); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(root, "etc"), filepath.Join(tree, "files", "etc")); err != nil {
		return err
	}
	self := id + "/x86_64/" + RuntimeBranch
	md := "[Runtime]\nname=" + id + "\nruntime=" + self + "\nsdk=" + self + "\n"
	return exportRuntime(ctx, tree, work, dir, id, RuntimeBranch, md)
}

// exportRuntime makes the Flatpak runtime tree (files/) with metadata md
// into a hybrid runtime image, an OCI layout at dir/oci: Flatpak makes the
// image (flatpak build-export, build-bundle --oci), so every label is right
// by construction, and BuildKit adds the hybrid entries. work is scratch.
func exportRuntime(ctx context.Context, tree, work, dir, id, branch, md string) error {
	return exportRuntimeArch(ctx, tree, work, dir, id, branch, md, "x86_64")
}

// exportRuntimeArch is exportRuntime for a runtime of another architecture.
func exportRuntimeArch(ctx context.Context, tree, work, dir, id, branch, md, arch string) error {
	if err := os.WriteFile(filepath.Join(tree, "metadata"), []byte(md), 0o644); err != nil {
		return err
	}
	repo := filepath.Join(work, "repo")
	if _, err := run(ctx, nil, "", "ostree", "init", "--mode=archive-z2", "--repo="+repo); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "flatpak", "build-export", "--runtime", "--files=files", "--arch="+arch,
		"--disable-fsync", "--no-update-summary", "--timestamp=2024-01-01T00:00:00Z",
		repo, tree, branch); err != nil {
		return err
	}
	bundle := filepath.Join(work, "bundle")
	if _, err := run(ctx, nil, "", "flatpak", "build-bundle", "--oci", "--runtime", "--arch="+arch,
		repo, bundle, id, branch); err != nil {
		return err
	}
	return hybridize(ctx, bundle, filepath.Join(dir, "oci"), work, "runtime/"+id+"/"+arch+"/"+branch)
}

// hybridEntries are the seed's symlinks and stub folders that make the
// Flatpak image ("files/", "metadata") run as a container: / looks like a
// normal system whose /usr is files/.
var hybridEntries = []struct {
	path   string
	target string      // symlink target, or "" for a folder
	mode   os.FileMode // folder mode
}{
	{"usr", "/files", 0},
	{"etc", "/files/etc", 0},
	{"bin", "/usr/bin", 0},
	{"sbin", "/usr/sbin", 0},
	{"lib", "/usr/lib", 0},
	{"lib64", "/usr/lib64", 0},
	{"root", "", 0o700},
	{"run", "", 0o755},
	{"tmp", "", 0o777 | os.ModeSticky},
	{"var", "", 0o755},
	{"var/db", "", 0o755},
	{"var/db/zoneinfo", "/etc/localtime", 0},
	{"var/run", "../run", 0},
	{"var/tmp", "", 0o777 | os.ModeSticky},
}

func hybridRecipe() string {
	var b strings.Builder
	for _, e := range hybridEntries {
		fmt.Fprintf(&b, "%s %s %v\n", e.path, e.target, e.mode)
	}
	return b.String()
}

// hybridize adds the hybrid entries to the bundle as one more layer, through
// BuildKit, and exports the result as an OCI layout into out.
//
// The entries are made on disk and copied in from a local source, because a
// FileOp mkdir masks its mode to 0777 and /tmp needs the sticky bit.
func hybridize(ctx context.Context, bundle, out, work, ref string) error {
	idx, err := readIndex(bundle)
	if err != nil {
		return err
	}
	if len(idx.Manifests) != 1 {
		return fmt.Errorf("flatpak build-bundle wrote %d manifests, want 1", len(idx.Manifests))
	}
	var mf ocispecs.Manifest
	if _, err := readBlob(bundle, idx.Manifests[0].Digest, &mf); err != nil {
		return err
	}
	config, err := readBlob(bundle, mf.Config.Digest, nil)
	if err != nil {
		return err
	}

	entries := filepath.Join(work, "hybrid")
	if err := os.MkdirAll(entries, 0o755); err != nil {
		return err
	}
	for _, e := range hybridEntries {
		p := filepath.Join(entries, e.path)
		if e.target != "" {
			err = os.Symlink(e.target, p)
		} else if err = os.Mkdir(p, 0o755); err == nil {
			err = os.Chmod(p, e.mode) // Mkdir is subject to the umask
		}
		if err != nil {
			return err
		}
	}

	store, err := contentlocal.NewStore(bundle)
	if err != nil {
		return err
	}
	localFS, err := fsutil.NewFS(entries)
	if err != nil {
		return err
	}
	base := ociLayoutState(idx.Manifests[0].Digest.String())
	st := base.File(llb.Copy(llb.Local("hybrid"), "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true}),
		llb.WithCustomName("add hybrid container entries"))
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}

	c, err := client.New(ctx, state.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Build(ctx, client.SolveOpt{
		Exports: []client.ExportEntry{{
			Type:      client.ExporterOCI,
			OutputDir: out,
			Attrs:     map[string]string{"tar": "false", "oci-mediatypes": "true"},
		}},
		LocalMounts: map[string]fsutil.FS{"hybrid": localFS},
		OCIStores:   map[string]content.Store{RuntimeStoreID: store},
	}, "", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		res, err := gw.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
		if err != nil {
			return nil, err
		}
		// Keep the bundle's config: its labels are what Flatpak reads.
		res.AddMeta(exptypes.ExporterImageConfigKey, config)
		return res, nil
	}, nil)
	if err != nil {
		return fmt.Errorf("adding hybrid entries with BuildKit: %w", err)
	}
	return setRefName(out, ref)
}

// setRefName makes index.json name the image with its Flatpak ref: flatpak
// build-import-bundle --oci looks for it, and BuildKit's exporter cannot
// write it (a Flatpak ref is not a valid image reference).
func setRefName(dir, ref string) error {
	idx, err := readIndex(dir)
	if err != nil {
		return err
	}
	if len(idx.Manifests) != 1 {
		return fmt.Errorf("%s/index.json: want 1 manifest, have %d", dir, len(idx.Manifests))
	}
	idx.Manifests[0].Annotations = map[string]string{ocispecs.AnnotationRefName: ref}
	dt, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), dt, 0o644)
}

// offlineDnf sets dnf up in a root (or a runtime's files/) to work with no
// network: dnfConf, and no repos but those of the command line or spec.
func offlineDnf(root string) error {
	if err := os.WriteFile(filepath.Join(root, "etc", "dnf", "dnf.conf"), []byte(dnfConf), 0o644); err != nil {
		return err
	}
	repos := filepath.Join(root, "etc", "yum.repos.d")
	if err := removeAll(repos); err != nil {
		return err
	}
	return os.MkdirAll(repos, 0o755)
}
