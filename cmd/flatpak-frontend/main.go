// Command flatpak-frontend is the BuildKit frontend that builds Flatpak apps
// and runtimes from RPMs. With no arguments it runs as a gateway frontend;
// with a subcommand it is the packager's tool.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/flatpak-frontend/flatpak-frontend/internal/suggest"
)

// version is set by `make dist` (-ldflags -X main.version=...); a binary
// from `go install MODULE/cmd/flatpak-frontend@VERSION` has it in its
// build information instead.
var version = ""

// Version is this binary's version: what make dist embedded, else the
// module version go install recorded, else the commit it was built from.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "devel-" + rev + dirty
	}
	return "devel"
}

type command struct {
	name  string
	usage string
	run   func(args []string) int
}

var commands = []command{
	{"validate", "validate FILE...    check flatpak.yaml files", runValidate},
	{"schema", "schema              print the JSON Schema of flatpak.yaml", runSchema},
	{"build", "build [OPTIONS] [CONTEXT]  build, and with --install install, a flatpak.yaml", runBuild},
	{"affected", "affected --package NAME[<VERSION] IMAGE|OCI-LAYOUT...  list the images that contain a package", runAffected},
	{"verify", "verify OCI-LAYOUT|IMAGE...  check images against Flatpak's rules", runVerify},
	{"init", "init RPM-FILE | --repo URL|DIR PACKAGE  write a first flatpak.yaml for an application RPM", runInit},
	{"publish", "publish --registry HOST --out DIR  write a Flatpak remote's index of a registry's images", runPublish},
	{"serve", "serve --dir DIR [--addr HOST:PORT]  serve a published remote to Flatpak", runServe},
}

func main() {
	if len(os.Args) < 2 {
		os.Exit(runGateway())
	}
	name := os.Args[1]
	if name == "--version" || name == "version" {
		fmt.Printf("flatpak-frontend %s\n", Version())
		os.Exit(0)
	}
	if name == "step" {
		// Inside a build step; not listed in the usage.
		os.Exit(runStep(os.Args[2:]))
	}
	for _, c := range commands {
		if c.name == name {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	if name != "help" && name != "-h" && name != "--help" {
		var names []string
		for _, c := range commands {
			names = append(names, c.name)
		}
		if s := suggest.Closest(name, names); s != "" {
			fmt.Fprintf(os.Stderr, "flatpak-frontend: unknown command %q (did you mean %s?)\n", name, s)
		} else {
			fmt.Fprintf(os.Stderr, "flatpak-frontend: unknown command %q\n", name)
		}
	}
	usage()
	if name == "help" || name == "-h" || name == "--help" {
		os.Exit(0)
	}
	os.Exit(2)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: flatpak-frontend [COMMAND] | --version\n\nWith no command, runs as a BuildKit gateway frontend.\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintln(os.Stderr, "  "+c.usage)
	}
}
