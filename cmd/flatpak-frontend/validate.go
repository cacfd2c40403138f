package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flatpak-frontend/flatpak-frontend/spec"
)

// buildArgs collects repeated --build-arg NAME=VALUE (or NAME) flags.
type buildArgs map[string]string

func (b buildArgs) String() string { return "" }

func (b buildArgs) Set(s string) error {
	name, val, err := buildArg(s)
	if err != nil {
		return err
	}
	b[name] = val
	return nil
}

// runValidate checks flatpak.yaml files: exit 0 when all are valid, 1 when
// any is invalid (each problem on stderr as FILE:LINE:COL: message), 2 for
// usage or I/O errors.
func runValidate(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "flatpak-frontend validate: internal error: %v\n", r)
			code = 2
		}
	}()
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	bargs := buildArgs{}
	fs.Var(bargs, "build-arg", "set a build argument, `NAME=VALUE`; NAME alone takes $NAME (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: flatpak-frontend validate [--build-arg NAME=VALUE]... FILE...\n\nChecks flatpak.yaml (or container.yaml) files; - reads standard input.\nExit status: 0 all valid, 1 some invalid, 2 usage or I/O error.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code = 0
	for _, name := range fs.Args() {
		data, err := readSpecFile(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "flatpak-frontend validate: %v\n", err)
			code = 2
			continue
		}
		_, err = spec.Parse(name, data, spec.Options{BuildArgs: bargs})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// readSpecFile reads a file, or standard input for "-", reading at most one
// byte more than spec.Parse accepts so that it can report a file too large.
func readSpecFile(name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s: is a directory", name)
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, spec.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}
