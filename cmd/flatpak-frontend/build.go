package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flatpak-frontend/flatpak-frontend/flatpak/flatpakref"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/labels"
	fllb "github.com/flatpak-frontend/flatpak-frontend/llb"
	"github.com/flatpak-frontend/flatpak-frontend/oci/layout"
	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
	"github.com/flatpak-frontend/flatpak-frontend/packager/connect"
	"github.com/flatpak-frontend/flatpak-frontend/packager/flatpakcli"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/sirupsen/logrus"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const buildUsage = `usage: flatpak-frontend build [OPTIONS] [CONTEXT]

Builds a flatpak.yaml with BuildKit and, with --install, imports the result
into a local repo and installs it with flatpak --user.

BuildKit is, in this order: --addr or $BUILDKIT_HOST (unix://, tcp:// with
the --tls options, docker-container://, kube-pod://, ssh://); the current
docker buildx builder; a buildkitd on PATH; the pinned buildkitd, built with
Go into the cache folder. The last two are started for the command and
stopped after it, rootless when not run by root. One line says which.

The proxy variables of the environment (http_proxy, https_proxy, no_proxy,
ftp_proxy, all_proxy, in either case) are passed as build arguments unless
given with --build-arg: the installer reaches network repos through them.

Options:`

func runBuild(args []string) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(os.Stderr, buildUsage); fs.PrintDefaults() }
	var (
		file      = fs.String("f", "", "the flatpak.yaml to build (default: CONTEXT/flatpak.yaml, else CONTEXT/container.yaml)")
		addr      = fs.String("addr", "", "buildkitd address (default $BUILDKIT_HOST)")
		tls       connect.TLS
		output    = fs.String("output", "", "write the image as an OCI layout: oci:DIR")
		push      = fs.String("push", "", "push the image to this reference")
		install   = fs.Bool("install", false, "import the image and install it with flatpak --user")
		run       = fs.Bool("run", false, "run the app after installing it (implies --install)")
		noCache   = fs.Bool("no-cache", false, "do not use the build cache")
		sbom      = fs.Bool("sbom", true, "attach an SPDX SBOM of the packages as an attestation")
		progress  = fs.String("progress", "auto", "progress output: auto, tty, plain or quiet")
		buildArgs listFlag
		contexts  listFlag
		platforms listFlag
		secrets   listFlag
		cacheTo   listFlag
		cacheFrom listFlag
		labelList listFlag
	)
	fs.Var(&buildArgs, "build-arg", "NAME=VALUE, a build argument; NAME alone takes $NAME (repeatable)")
	fs.Var(&contexts, "build-context", "NAME=oci-layout://DIR[:TAG][@DIGEST]|docker-image://REF|DIR, a named context (repeatable)")
	fs.Var(&platforms, "platform", "target platform, e.g. linux/amd64 (repeatable)")
	fs.StringVar(&tls.CACert, "tlscacert", "", "CA certificate the daemon's certificate must be signed by (tcp://)")
	fs.StringVar(&tls.Cert, "tlscert", "", "client certificate (tcp://)")
	fs.StringVar(&tls.Key, "tlskey", "", "client key (tcp://)")
	fs.StringVar(&tls.ServerName, "tlsservername", "", "name the daemon's certificate must carry (default: the address's host)")
	fs.StringVar(&tls.Dir, "tlsdir", "", "folder with ca.pem, cert.pem and key.pem (or ca.crt, tls.crt, tls.key)")
	fs.Var(&secrets, "secret", "id=ID,src=FILE, a secret for repo credentials (repeatable)")
	fs.Var(&labelList, "label", "KEY=VALUE, an image label, as the file's labels: (repeatable)")
	fs.Var(&cacheTo, "cache-to", "type=registry,ref=REF[,mode=max] | type=local,dest=DIR[,mode=max] | REF | type=inline|gha|s3|azblob,..., where to export the build cache, as buildx takes it, in mode max unless given (repeatable)")
	fs.Var(&cacheFrom, "cache-from", "type=registry,ref=REF | type=local,src=DIR | REF | type=gha|s3|azblob,..., a build cache to import, as buildx takes it (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	*install = *install || *run

	o := localbuild.Options{ContextDir: ".", Progress: *progress, NoCache: *noCache, Platforms: platforms}
	if fs.NArg() == 1 {
		o.ContextDir = fs.Arg(0)
	}
	o.File = *file
	if o.File == "" {
		o.File = defaultSpec(o.ContextDir)
	}
	var err error
	o.BuildArgs = map[string]string{}
	for _, a := range buildArgs {
		name, val, err := buildArg(a)
		if err != nil {
			return usageError(err)
		}
		o.BuildArgs[name] = val
	}
	// The proxy the packager's shell has, as docker's CLI passes the
	// proxies of its config: build args the steps' installer uses.
	given := false
	for name := range o.BuildArgs {
		given = given || fllb.IsProxyArg(name)
	}
	for _, kv := range os.Environ() {
		if name, val, _ := strings.Cut(kv, "="); !given && fllb.IsProxyArg(name) && val != "" {
			o.BuildArgs[name] = val
		}
	}
	if o.Contexts, err = keyValues("--build-context", contexts); err != nil {
		return usageError(err)
	}
	for _, list := range []struct {
		values listFlag
		export bool
		to     *[]client.CacheOptionsEntry
	}{{cacheTo, true, &o.CacheTo}, {cacheFrom, false, &o.CacheFrom}} {
		for _, v := range list.values {
			e, err := localbuild.CacheEntry(list.export, v)
			if err != nil {
				return usageError(err)
			}
			*list.to = append(*list.to, e)
		}
	}
	for _, s := range secrets {
		src, err := parseSecret(s)
		if err != nil {
			return usageError(err)
		}
		o.Secrets = append(o.Secrets, src)
	}
	if *output != "" {
		dir, ok := strings.CutPrefix(*output, "oci:")
		if !ok || dir == "" {
			return usageError(fmt.Errorf("--output %s: want oci:DIR", *output))
		}
		o.OCIDir = dir
	}
	o.Push = *push
	o.Attrs = map[string]string{}
	if *sbom {
		o.Attrs["attest:sbom"] = ""
	}
	userLabels, err := keyValues("--label", labelList)
	if err != nil {
		return usageError(err)
	}
	for k, v := range userLabels {
		if labels.Reserved(k) {
			// As the frontend would, before a daemon is reached.
			return usageError(fmt.Errorf("--label %s: %w", k, labels.ErrReserved))
		}
		o.Attrs["label:"+k] = v
	}
	// A missing file or folder is said before a daemon is reached (or
	// started).
	if err := o.Check(); err != nil {
		return usageError(err)
	}

	// Blobs earlier builds wrote are linked from a pool in the cache
	// folder instead of sent again; the image to install goes beside it.
	cache, err := buildkitd.DefaultCacheDir()
	if err != nil {
		return fail(err)
	}
	o.BlobPool = filepath.Join(cache, "blobs")
	if *install && o.OCIDir == "" {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return fail(err)
		}
		tmp, err := os.MkdirTemp(cache, "install-oci-")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(tmp)
		o.OCIDir = tmp
	}

	// The content store of an oci-layout context warns about fsverity on
	// every build; only errors matter here.
	logrus.SetLevel(logrus.ErrorLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	co := connect.Options{Addr: *addr, AddrFrom: "--addr", TLS: tls}
	if co.Addr == "" {
		co.Addr, co.AddrFrom = os.Getenv("BUILDKIT_HOST"), "$BUILDKIT_HOST"
	}
	if d := os.Getenv("FLATPAK_FRONTEND_STATE"); d != "" {
		if co.StateDir, err = filepath.Abs(d); err != nil {
			return fail(err)
		}
	}
	code := buildWith(ctx, co, o, *install, *run)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "flatpak-frontend: interrupted")
		return 130
	}
	return code
}

func buildWith(ctx context.Context, co connect.Options, o localbuild.Options, install, run bool) int {
	b, err := connect.Connect(ctx, co)
	if err != nil {
		return fail(err)
	}
	defer b.Close()

	res, err := localbuild.Build(ctx, b.Client, o)
	if err != nil {
		// The registry settings of a daemon we started are the
		// packager's files; another daemon has its own.
		daemon := ""
		if !b.Started() {
			daemon = b.Source
		}
		return fail(registryhosts.Explain(err, daemon))
	}
	ref := "the image"
	if o.OCIDir != "" {
		if r, err := localbuild.LayoutRef(o.OCIDir); err == nil {
			ref = r
		}
	}
	where := []string{}
	if o.OCIDir != "" && !install {
		where = append(where, "OCI layout "+o.OCIDir)
	}
	if o.Push != "" {
		where = append(where, "pushed to "+o.Push)
	}
	if install {
		in, err := installation()
		if err != nil {
			return fail(err)
		}
		if err := installImages(ctx, in, o); err != nil {
			return fail(err)
		}
		where = append(where, "installed with flatpak --user")
	}
	fmt.Fprintf(os.Stderr, "built %s (%s): %s\n", ref, res.Digest, strings.Join(where, ", "))
	if run {
		r, err := flatpakref.Parse(ref)
		if err == nil && r.IsRuntime() {
			err = fmt.Errorf("%s is not an app", ref)
		}
		if err != nil {
			return fail(fmt.Errorf("--run: %w", err))
		}
		out, err := (&flatpakcli.Installation{}).Run(ctx, r.ID+"//"+r.Branch)
		fmt.Print(out)
		if err != nil {
			return fail(err)
		}
	}
	return 0
}

// installImages imports the runtime (when it came as an OCI layout and is
// not installed) and the built image, then installs the built image.
func installImages(ctx context.Context, in *flatpakcli.Installation, o localbuild.Options) error {
	r, rtLayout := ocilayout.ParseRef(o.Contexts["runtime"])
	rtDir := r.Dir
	if rtLayout {
		if fi, err := os.Stat(rtDir); r.Tag != "" || r.Digest != "" || (err == nil && !fi.IsDir()) {
			// The image it names alone, named with its Flatpak ref:
			// build-import-bundle takes a folder with one (an OCI
			// archive's blobs are copied out).
			tmp, err := os.MkdirTemp("", "flatpak-frontend-runtime-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			if err := ocilayout.WriteSelected(r, tmp); err != nil {
				return err
			}
			if err := ocilayout.ExposeFlatpakImages(tmp); err != nil {
				return err
			}
			rtDir = tmp
		}
		if err := in.Import(ctx, rtDir); err != nil {
			return err
		}
	}
	if err := in.Import(ctx, o.OCIDir); err != nil {
		return err
	}
	ref, err := localbuild.LayoutRef(o.OCIDir)
	if err != nil {
		return err
	}
	if rtLayout {
		rtRef, err := localbuild.LayoutRef(rtDir)
		if err == nil {
			if err := in.Install(ctx, rtRef); err != nil {
				return err
			}
		}
	}
	return in.Install(ctx, ref)
}

func installation() (*flatpakcli.Installation, error) {
	repo, err := flatpakcli.DefaultRepo()
	if err != nil {
		return nil, err
	}
	return &flatpakcli.Installation{Repo: repo, Remote: "flatpak-frontend"}, nil
}

// buildArg parses one --build-arg: NAME=VALUE, or NAME alone for the value
// of the environment variable NAME, as docker build and buildx take it
// (where they leave out an unset one, this says so).
func buildArg(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	switch {
	case name == "":
		return "", "", fmt.Errorf("--build-arg %s: want NAME=VALUE", s)
	case ok:
		return name, value, nil
	}
	value, set := os.LookupEnv(name)
	if !set {
		return "", "", fmt.Errorf("--build-arg %s: no value, and no variable %s in the environment to take it from (give %s=VALUE)", s, name, name)
	}
	return name, value, nil
}

func keyValues(flagName string, list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %s: want NAME=VALUE", flagName, kv)
		}
		out[k] = v
	}
	return out, nil
}

func parseSecret(s string) (secretsprovider.Source, error) {
	var src secretsprovider.Source
	for _, f := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "id":
			src.ID = v
		case "src", "source":
			src.FilePath = v
		case "env":
			src.Env = v
		default:
			return src, fmt.Errorf("--secret %s: unknown field %q (want id=ID,src=FILE or id=ID,env=VAR)", s, k)
		}
	}
	if src.ID == "" {
		return src, fmt.Errorf("--secret %s: no id", s)
	}
	return src, nil
}

func usageError(err error) int {
	fmt.Fprintf(os.Stderr, "flatpak-frontend build: %v\n", err)
	return 2
}

// fail prints a build's error as buildx does: the lines of flatpak.yaml it
// is about, then the message; each location also as FILE:LINE:COLUMN, which
// editors and CI logs link to.
func fail(err error) int {
	for _, src := range errdefs.Sources(err) {
		for _, r := range src.Ranges {
			if src.Info != nil && r.Start != nil {
				fmt.Fprintf(os.Stderr, "%s:%d:%d: error here\n", src.Info.Filename, r.Start.Line, r.Start.Character)
			}
		}
		src.Print(os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "flatpak-frontend build: %v\n", err)
	return 1
}

// defaultSpec is the file a build of dir builds without -f: its
// flatpak.yaml, else the container.yaml a Fedora packager's folder holds.
func defaultSpec(dir string) string {
	spec := filepath.Join(dir, "flatpak.yaml")
	fedora := filepath.Join(dir, "container.yaml")
	if _, err := os.Stat(spec); err != nil {
		if _, err := os.Stat(fedora); err == nil {
			return fedora
		}
	}
	return spec
}
