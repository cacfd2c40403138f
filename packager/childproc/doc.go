// Package childproc runs the helper daemons a command needs (buildkitd for
// `flatpak-frontend build`, a registry for the tests) as children that die
// with the process that started them, and marks their temporary folders as
// in use, so that a later run can remove the folders of a run that was
// killed before it could clean up.
package childproc
