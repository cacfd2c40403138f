// Package rpmver holds an RPM's identity (NEVRA: the one type every other
// package embeds for it) and compares RPM versions the way rpm does
// (rpmvercmp and EVR comparison), so that "below the fixed version" means
// what it means to dnf. Hand-written: no maintained Go library orders
// versions with rpm's '^' and '~' rules.
package rpmver
