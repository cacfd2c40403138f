// Package rpmfile reads an RPM package file: the tags of its header that
// describe the package and its files, and, streaming through the payload,
// the contents of the files a caller asks for. It does not verify
// signatures: it is for looking at a package, not for trusting it.
//
// The reading is github.com/sassoftware/go-rpmutils's (every payload
// compressor rpm writes, in Go, and rpm 4.12's large-file payloads); this
// package picks out what the packager's commands look at.
package rpmfile
