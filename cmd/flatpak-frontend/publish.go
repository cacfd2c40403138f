package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/docker/go-units"
	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
	"github.com/flatpak-frontend/flatpak-frontend/packager/publish"
)

type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runPublish(args []string) int {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(os.Stderr, `usage: flatpak-frontend publish --registry HOST[:PORT] --out DIR [--repo NAME]... [--insecure] [--registry-url URL] [--deltas [--delta-depth N]]

Writes the index of a Flatpak remote for the Flatpak images of a registry
(all its repositories, or those named with --repo) into DIR: serve DIR
with "flatpak-frontend serve" or any web server (docs/publishing.md), and
users add it with flatpak remote-add NAME oci+https://SERVER.

`)
		fs.PrintDefaults()
	}
	var o publish.Options
	var repos stringList
	fs.StringVar(&o.Registry, "registry", "", "the registry, HOST[:PORT]")
	fs.BoolVar(&o.Insecure, "insecure", false, "read the registry over plain HTTP")
	fs.StringVar(&o.RegistryURL, "registry-url", "", "the registry URL Flatpak pulls from (default https://REGISTRY/)")
	fs.StringVar(&o.Out, "out", "", "the remote's folder")
	fs.Var(&repos, "repo", "a repository to publish (default: every one)")
	fs.BoolVar(&o.Deltas, "deltas", false, "push the layer deltas flatpak update applies, from the images the last publish into DIR named (needs push access)")
	fs.IntVar(&o.DeltaDepth, "delta-depth", publish.DefaultDeltaDepth, "with --deltas, how many earlier versions of an image get deltas to it")
	var gpg publish.GPG
	fs.StringVar(&gpg.KeyID, "sign", "", "sign every image with this GPG key (simple signing, in DIR/signatures: users add the remote with --signature-lookaside=URL/signatures --gpg-import=KEY)")
	fs.StringVar(&gpg.Homedir, "gpg-homedir", "", "the GPG home folder that holds the key (default: gpg's)")
	fs.BoolVar(&o.Resign, "resign", false, "sign images that already have a signature again (a new key)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if gpg.KeyID != "" {
		o.Sign = gpg
	} else if gpg.Homedir != "" || o.Resign {
		fmt.Fprintln(os.Stderr, "flatpak-frontend publish: --gpg-homedir and --resign go with --sign KEY")
		return 2
	}
	if o.Registry == "" || o.Out == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	o.Repositories = repos
	o.Warn = func(msg string) { fmt.Fprintf(os.Stderr, "warning: %s\n", msg) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := publish.Publish(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "flatpak-frontend publish: %v\n", registryhosts.Explain(err, ""))
		return 1
	}
	fmt.Fprintf(os.Stderr, "published %d image(s) in %d index file(s) to %s", res.Images, len(res.Indexes), o.Out)
	if o.Sign != nil {
		fmt.Fprintf(os.Stderr, ", %d new signature(s)", res.Signed)
	}
	if o.Deltas {
		fmt.Fprintf(os.Stderr, ", %d new delta manifest(s)", res.Deltas)
		if res.Deltas > 0 {
			fmt.Fprintf(os.Stderr, " (%s of deltas for %s of layers)", units.HumanSize(float64(res.DeltaBytes)), units.HumanSize(float64(res.DeltaLayerBytes)))
		}
	}
	fmt.Fprintln(os.Stderr)
	return 0
}

func runServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dir := fs.String("dir", "", "the remote's folder, as publish wrote it")
	addr := fs.String("addr", "127.0.0.1:8080", "where to listen")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: flatpak-frontend serve --dir DIR [--addr HOST:PORT]")
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "flatpak-frontend serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "serving the Flatpak remote in %s at http://%s (flatpak remote-add NAME oci+http://%s)\n", *dir, ln.Addr(), ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: publish.Handler(*dir)}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "flatpak-frontend serve: %v\n", err)
		return 1
	}
	return 0
}
