package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/packager/affected"
)

// queries collects repeated --package flags.
type queries []affected.Query

func (q *queries) String() string { return "" }

func (q *queries) Set(s string) error {
	v, err := affected.ParseQuery(s)
	if err != nil {
		return err
	}
	*q = append(*q, v)
	return nil
}

// runAffected lists the images that contain a package: exit 0 none, 1 some
// (printed), 2 errors.
func runAffected(args []string) int {
	fs := flag.NewFlagSet("affected", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var qs queries
	fs.Var(&qs, "package", "the package, `NAME` or NAME<VERSION (affected below VERSION); repeatable")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, `usage: flatpak-frontend affected --package NAME[<VERSION]... IMAGE|OCI-LAYOUT...

Lists the images that contain the package, from their org.flatpak-frontend.rpms
label or SPDX attestation, one line each:
  IMAGE  FLATPAK-REF  NEVRA  bundled | runtime RUNTIME-REF
IMAGE is a registry reference; OCI-LAYOUT an OCI layout directory or an OCI
archive of one (a tar, as buildx --output type=oci,dest=FILE writes it),
also written oci-layout://PATH (with :TAG or @DIGEST for one of its images)
or oci-archive:PATH[:NAME].
Exit status: 0 none affected, 1 some affected, 2 an image could not be read.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return affected.Failed
	}
	if len(qs) == 0 || fs.NArg() == 0 {
		fs.Usage()
		return affected.Failed
	}
	return affected.Check(context.Background(), qs, fs.Args(), os.Stdout, os.Stderr)
}
