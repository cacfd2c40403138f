// Package filecheck compares the files rpm records as installed with what
// a tree holds, as `rpm -V` would, for a build step: every packaged file
// must be where rpm put it, of the type, size and digest rpm recorded,
// reached through real folders only (a folder that became a symlink sends
// the files below it out of the tree).
package filecheck
