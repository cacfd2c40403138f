package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/finish"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/install"
)

// runStep runs one of the build's steps: BuildKit starts it inside the
// step's container, from the binary the frontend mounted there (see package
// buildstep). It is not meant to be run by hand.
func runStep(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: flatpak-frontend step install|finish (inside a build step)")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case buildstep.StepInstall:
		writeOutSelf()
		var cfg buildstep.InstallConfig
		if err = buildstep.ReadConfig(buildstep.ConfigFile, &cfg); err == nil {
			err = install.Run(ctx, &cfg, os.Stdout)
		}
		// A diagnosis (which reports the install's failure and succeeds)
		// finishes only what installed.
		if err == nil && cfg.Finish != nil && !(cfg.Diagnose && installFailed(cfg.Out)) {
			err = finish.Run(ctx, cfg.Finish, os.Stdout)
		}
	case buildstep.StepFinish:
		var cfg buildstep.FinishConfig
		if err = buildstep.ReadConfig(buildstep.ConfigFile, &cfg); err == nil {
			err = finish.Run(ctx, &cfg, os.Stdout)
		}
	default:
		err = fmt.Errorf("unknown step %q", args[0])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "flatpak-frontend: %v\n", err)
		return 1
	}
	return 0
}

// installFailed says whether the install report in dir records a failure
// (or cannot be read).
func installFailed(dir string) bool {
	dt, err := os.ReadFile(filepath.Join(dir, buildstep.InstallReportFile))
	if err != nil {
		return true
	}
	rep, err := buildstep.ParseInstallReport(dt)
	return err != nil || rep.Failure != nil
}

// writeOutSelf starts writing this binary's pages to disk, if the daemon
// has not yet: it wrote them just before the step, and the installer's rpm
// ends its transaction with a syncfs that would wait for them.
func writeOutSelf() {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return
	}
	defer f.Close()
	unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
