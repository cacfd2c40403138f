package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// rpmv6Spec is an app package: a command, its desktop file, and the
// command hard-linked under a second name (a link group's contents come
// with one member of the payload only).
const rpmv6Spec = `Name: hello6
Version: 1.0
Release: 1
Summary: Hello in rpm's v6 format
License: MIT
BuildArch: noarch
AutoReqProv: no

%description
Hello, packaged by rpm 6 in its v6 format.

%install
mkdir -p %{buildroot}/app/bin %{buildroot}/app/share/applications
printf '#!/bin/sh\necho hello from v6\n' > %{buildroot}/app/bin/hello6
chmod 0755 %{buildroot}/app/bin/hello6
ln %{buildroot}/app/bin/hello6 %{buildroot}/app/bin/hello6-again
printf '[Desktop Entry]\nType=Application\nName=Hello Six\nExec=hello6\nIcon=org.example.HelloSix\n' > %{buildroot}/app/share/applications/org.example.HelloSix.desktop

%files
/app/bin/hello6
/app/bin/hello6-again
/app/share/applications/org.example.HelloSix.desktop
`

var rpmv6Fixture fixture

// RPMv6Name is the file RPMv6 returns.
const RPMv6Name = "hello6-1.0-1.noarch.rpm"

// RPMv6 returns the folder of an app package (RPMv6Name) written in rpm 6's
// v6 package format (_rpmformat 6, zstd payload) by rpmbuild 6.1 from
// Debian sid: the format Fedora's rpm 6 can write, which no rpm of Debian
// 12 reads.
func RPMv6(t testing.TB) string {
	t.Helper()
	return rpmv6Fixture.get(t, rpmv6Key, buildRPMv6)
}

func rpmv6Key() (string, string, error) {
	_, rootHash, _ := sidRootfsKey()
	return "rpm-v6", hashOf([]byte(rpmv6Spec), []byte(rootHash)), nil
}

func buildRPMv6(ctx context.Context, dir string) error {
	rootfs, err := buildCached(sidRootfsKey, buildSidRootfs)
	if err != nil {
		return err
	}
	sid := filepath.Join(rootfs, "root")
	// rpmbuild runs in sid, in a folder of its /tmp.
	work, err := os.MkdirTemp(filepath.Join(sid, "tmp"), "rpmv6-")
	if err != nil {
		return err
	}
	defer removeAll(work)
	in := "/tmp/" + filepath.Base(work)
	if err := os.WriteFile(filepath.Join(work, "hello6.spec"), []byte(rpmv6Spec), 0o644); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "", "chroot", sid, "rpmbuild", "-bb", "--quiet",
		"--define", "_topdir "+in, "--define", "_rpmformat 6", "--define", "_binary_payload w19.zstdio",
		"--define", "_build_id_links none", in+"/hello6.spec"); err != nil {
		return err
	}
	dt, err := os.ReadFile(filepath.Join(work, "RPMS", "noarch", RPMv6Name))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, RPMv6Name), dt, 0o644)
}
