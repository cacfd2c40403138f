// Package repodata reads an RPM repository's metadata as createrepo_c
// writes it: repodata/repomd.xml, which names the other files, and the
// primary metadata, one record per package (its NEVRA, where the file is,
// and the file's digest). It also writes it (write.go): the primary and
// filelists metadata of a folder of RPMs, as createrepo_c would, for the
// installers to read a folder no one ran createrepo_c on. The repository is read through an Opener, so
// the same code reads a folder, a URL or an installer's cache of a repo.
// Hand-written: no maintained Go library reads repodata without also
// fetching it. The elements read are found as bytes and decoded with
// encoding/xml, which alone takes seconds over Fedora's 200 MB of
// primary.xml.
package repodata
