// Package llb translates a flatpak.yaml spec into BuildKit LLB. It is pure:
// everything it needs from the outside world (the runtime and build images,
// build contexts, the frontend's own binary, what was read from earlier
// solves) comes in through Options, and nothing here talks to a gateway.
//
// A build is two solves. Build returns the result's files, with the reports
// the build steps wrote (package buildstep) beside them. The frontend reads
// the reports to write the metadata and labels, then Layout turns the files
// into the Flatpak image: files/, export/, metadata.
//
// The steps run the frontend's own binary (Options.Helper): `step install`
// runs the image's package manager, `step finish` finishes the tree; only
// cleanup-commands run a shell. Where nothing runs between them and the
// install has no network, the install step finishes the tree itself, one
// container less (finishTogether). Steps keep their outputs in mounts: /app for
// an app (its content is the app's files), /sysroot for a runtime's new
// root; the reports live in buildstep.ReportDir of that output, which Layout
// leaves out. So nothing of the root a step runs in reaches the result.
//
// A failed build is explained by building again with Options.Diagnose or
// DiagnoseFinish, whose steps report their failure instead of failing;
// KindOf tells the frontend which step BuildKit says failed.
package llb
