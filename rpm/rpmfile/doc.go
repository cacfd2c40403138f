// Package rpmfile reads an RPM package file: the tags of its header that
// describe the package and its files, and, streaming through the payload,
// the contents of the files a caller asks for. It does not verify
// signatures: it is for looking at a package, not for trusting it.
//
// The header is read by github.com/sassoftware/go-rpmutils, after this
// package has bounded its sizes. The payload is read here (payload.go):
// every compressor rpm writes, in Go, with the dictionary and window sizes
// bounded, and rpm's cpio, including rpm 4.12's stripped entries for
// large files, with no allocation from a size the archive only claims
// (go-rpmutils's reader allocates an entry's claimed name size first).
package rpmfile
