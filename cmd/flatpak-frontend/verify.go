package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/oci/registryhosts"
	"github.com/flatpak-frontend/flatpak-frontend/packager/publish"
	"github.com/flatpak-frontend/flatpak-frontend/packager/verify"
)

// runVerify checks images against Flatpak's rules: exit 0 all valid, 1
// problems (printed one per line), 2 usage or a source that cannot be read.
func runVerify(args []string) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, `usage: flatpak-frontend verify OCI-LAYOUT|IMAGE...
       flatpak-frontend verify --remote DIR --registry HOST[:PORT] [--insecure]

Checks Flatpak OCI images against the rules flatpak build-bundle --oci,
build-import-bundle --oci and flatpak install follow: the labels are present
and agree (the metadata file, org.flatpak.metadata and the commit metadata's
xa.metadata are byte-identical; xa.ref is org.flatpak.ref), and the layers
hold only files/, export/ and metadata (and a hybrid runtime's container
entries), owned by 0:0 with canonical modes, with no setuid bits, devices or
whiteouts, and exported names that start with the ID.
OCI-LAYOUT is a directory or an OCI archive of one (a tar, as buildx --output
type=oci,dest=FILE writes it), also written oci-layout://PATH (with :TAG or
@DIGEST for one of its images) or oci-archive:PATH[:NAME]; IMAGE a registry
reference.
Prints one problem per line: IMAGE: WHERE: WHAT.
With --remote, checks what publish wrote in DIR instead: every index has the
fields Flatpak 1.17.1 and later require, names only images the registry has,
and gives each the labels and platform of the image itself.
Exit status: 0 valid, 1 problems found, 2 usage or unreadable source.`)
	}
	remoteDir := fs.String("remote", "", "a published remote's folder to check against --registry")
	registry := fs.String("registry", "", "the registry the remote's images are in, HOST[:PORT]")
	insecure := fs.Bool("insecure", false, "read the registry over plain HTTP")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *remoteDir != "" {
		if *registry == "" || fs.NArg() > 0 {
			fs.Usage()
			return 2
		}
		problems, err := publish.Check(context.Background(), publish.CheckOptions{Dir: *remoteDir, Registry: *registry, Insecure: *insecure})
		if err != nil {
			fmt.Fprintf(os.Stderr, "flatpak-frontend verify: %v\n", registryhosts.Explain(err, ""))
			return 2
		}
		for _, p := range problems {
			fmt.Println(p)
		}
		if len(problems) > 0 {
			return 1
		}
		fmt.Fprintf(os.Stderr, "%s: valid against %s\n", *remoteDir, *registry)
		return 0
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	status := 0
	for _, src := range fs.Args() {
		rep, err := verify.Check(context.Background(), src)
		if err != nil {
			fmt.Fprintf(os.Stderr, "flatpak-frontend verify: %v\n", registryhosts.Explain(err, ""))
			status = 2
			continue
		}
		for _, p := range rep.Problems {
			fmt.Println(p)
		}
		if !rep.OK() {
			if status == 0 {
				status = 1
			}
			continue
		}
		fmt.Fprintf(os.Stderr, "%s: valid (%s)\n", src, strings.Join(rep.Refs, ", "))
	}
	return status
}
