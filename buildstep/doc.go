// Package buildstep is the contract between the frontend and the steps it
// runs inside BuildKit: where a step finds its inputs, the configuration it
// is given, and the reports it writes back.
//
// The steps run the frontend's own binary (`flatpak-frontend step NAME`,
// mounted read-only at [HelperDir]), so the logic inside them is Go, tested
// here and in the packages below, and needs nothing from the image a step
// runs in but its package manager and rpm:
//
//   - package buildstep/install runs dnf5, dnf or microdnf and reports what
//     the install added and who owns which file;
//   - package buildstep/finish finishes an app's /app or a runtime's root the
//     way flatpak-builder does, lists the tree and writes its content id
//     (package buildstep/contentid), taking the digests of the packaged
//     files the install verified ([VerifiedReportFile]) while their
//     [Stamp] holds.
//
// llb writes each step's [Config] as a JSON file and mounts it at
// [ConfigFile]; the step writes its reports as records (see [Writer]) into
// [ReportDir] of its output, where the frontend reads them ([Read]). Records
// are NUL-separated fields, so file names holding newlines, tabs or bytes
// that are not UTF-8 pass through unharmed.
package buildstep
