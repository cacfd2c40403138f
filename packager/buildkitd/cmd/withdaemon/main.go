// Command withdaemon runs a command against a BuildKit daemon: the one
// BUILDKIT_HOST names, or else a private buildkitd it starts for the
// command (root only) and stops afterwards. The pinned buildctl
// (buildkitd.Ensure) is first on the command's PATH, and BUILDKIT_HOST is
// set, so `buildctl build ...` reaches the daemon.
//
//	go run ./packager/buildkitd/cmd/withdaemon [-registry HOST:PORT]... -- buildctl build ...
//
// Each -registry is a registry the private daemon reaches over plain HTTP
// (localhost ones BuildKit reaches that way anyway). make image uses it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flatpak-frontend/flatpak-frontend/packager/buildkitd"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var registries listFlag
	flag.Var(&registries, "registry", "a registry (HOST:PORT) the private daemon reaches over plain HTTP; repeatable")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: withdaemon [-registry HOST:PORT]... -- COMMAND [ARG...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	code, err := run(registries, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "withdaemon:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(registries, args []string) (int, error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cacheDir, err := buildkitd.DefaultCacheDir()
	if err != nil {
		return 1, err
	}
	_, buildctl, err := buildkitd.Ensure(ctx, cacheDir)
	if err != nil {
		return 1, err
	}
	addr := os.Getenv("BUILDKIT_HOST")
	if addr == "" {
		var hosts []string
		for _, r := range registries {
			hosts = append(hosts, strings.Split(r, ",")...)
		}
		d, err := buildkitd.Start(ctx, buildkitd.Options{CacheDir: cacheDir, RegistryHosts: hosts})
		if err != nil {
			return 1, fmt.Errorf("no BUILDKIT_HOST, and starting a private buildkitd failed: %w", err)
		}
		defer d.Stop()
		addr = d.Addr()
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(),
		"BUILDKIT_HOST="+addr,
		"PATH="+filepath.Dir(buildctl)+string(os.PathListSeparator)+os.Getenv("PATH"))
	// Look the command up on the new PATH, so "buildctl" is the pinned one.
	if !strings.Contains(args[0], "/") {
		for _, dir := range filepath.SplitList(filepath.Dir(buildctl) + string(os.PathListSeparator) + os.Getenv("PATH")) {
			if p := filepath.Join(dir, args[0]); isExecutable(p) {
				cmd.Path = p
				cmd.Err = nil
				break
			}
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode(), nil
		}
		return 1, err
	}
	return 0, nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
