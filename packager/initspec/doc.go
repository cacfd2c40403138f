// Package initspec writes a first flatpak.yaml for an application packaged
// as an RPM, from what the package holds: its desktop file, icons, AppStream
// metainfo and executables under /app/bin. What it has to guess it marks
// with "REVIEW:" comments; the file it writes validates and builds as is.
package initspec
