// Package imagesource opens an image source named the way the packager's
// commands (affected, verify) take them: an OCI layout directory (also
// written oci-layout://DIR) or a registry reference (also
// docker-image://REF), read anonymously, over plain HTTP on localhost as
// docker and BuildKit do.
package imagesource
