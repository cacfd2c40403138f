package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/packager/initspec"
)

// runInit writes a first flatpak.yaml for an RPM: exit 0 written, 1 the
// package cannot be made into one, 2 usage or I/O errors.
func runInit(args []string) int {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	repo := fs.String("repo", "", "read PACKAGE from the RPM repository at `URL|DIR`")
	runtime := fs.String("runtime", "", "the runtime, `ID//BRANCH` (default: Fedora's, from the package's dist tag)")
	out := fs.String("o", "", "write to `FILE` instead of standard output (never overwrites)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, `usage: flatpak-frontend init [OPTIONS] RPM-FILE
       flatpak-frontend init [OPTIONS] --repo URL|DIR PACKAGE

Writes a first flatpak.yaml for an application RPM, from its desktop file,
icons, metainfo and /app/bin executables. Guesses are marked REVIEW.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	o := initspec.Options{Runtime: *runtime}
	var dt []byte
	var err error
	if *repo != "" {
		dt, err = initspec.FromRepo(*repo, fs.Arg(0), o)
	} else {
		dt, err = initspec.FromFile(fs.Arg(0), o)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "flatpak-frontend init: %v\n", err)
		return 1
	}
	if *out == "" {
		os.Stdout.Write(dt)
		return 0
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		_, err = f.Write(dt)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "flatpak-frontend init: %v\n", err)
		return 2
	}
	return 0
}
