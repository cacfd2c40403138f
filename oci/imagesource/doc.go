// Package imagesource opens an image source named the way the packager's
// commands (affected, verify) take them: an OCI layout directory or an OCI
// archive of one, read in place (also written oci-layout://PATH, or
// oci-archive:PATH as skopeo does), or a registry reference (also
// docker-image://REF), read with the packager's logins (oci/registryauth)
// and registry settings (oci/registryhosts; plain HTTP on localhost unless
// they give it certificates, as BuildKit does).
package imagesource
