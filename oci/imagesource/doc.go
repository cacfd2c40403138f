// Package imagesource opens an image source named the way the packager's
// commands (affected, verify) take them: an OCI layout directory (also
// written oci-layout://DIR) or a registry reference (also
// docker-image://REF), read with the packager's logins (oci/registryauth)
// and registry settings (oci/registryhosts; plain HTTP on localhost unless
// they give it certificates, as BuildKit does).
package imagesource
