package repodata

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/flatpak-frontend/flatpak-frontend/rpm/rpmver"
	"github.com/klauspost/compress/zstd"
	ulzxz "github.com/ulikunitz/xz"
)

// TestDecompressedReadsEachRepodataCompression: createrepo_c writes
// primary.xml as gz (EL), zst (Fedora) or xz (--compress-type=xz), and old
// yum repos as bz2.
func TestDecompressedReadsEachRepodataCompression(t *testing.T) {
	const want = "<metadata/>\n"
	compress := func(w func(io.Writer) io.WriteCloser) []byte {
		var b bytes.Buffer
		zw := w(&b)
		if _, err := io.WriteString(zw, want); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	files := map[string][]byte{
		"primary.xml":    []byte(want),
		"primary.xml.gz": compress(func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }),
		"primary.xml.zst": compress(func(w io.Writer) io.WriteCloser {
			zw, _ := zstd.NewWriter(w)
			return zw
		}),
		"primary.xml.xz": compress(func(w io.Writer) io.WriteCloser {
			zw, _ := ulzxz.NewWriter(w)
			return zw
		}),
		// printf '<metadata/>\n' | bzip2 -9 (the standard library has no bzip2 writer).
		"primary.xml.bz2": {0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0xcc, 0x99, 0x41, 0x74, 0x00, 0x00, 0x01, 0x59, 0x80, 0x00, 0x10, 0x00, 0x00, 0x80, 0x05, 0x26, 0x02, 0x04, 0x00, 0x20, 0x00, 0x31, 0x06, 0x4c, 0x41, 0x06, 0x11, 0xa1, 0x40, 0xca, 0xd5, 0x38, 0x4f, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0xcc, 0x99, 0x41, 0x74},
	}
	for name, dt := range files {
		r, err := decompressed(name, bytes.NewReader(dt))
		var got []byte
		if err == nil {
			got, err = io.ReadAll(r)
		}
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if _, err := decompressed("primary.xml.lz4", strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "compression of primary.xml.lz4 not supported") {
		t.Errorf("an unknown compression: %v", err)
	}
}

// TestPackagesReadsPrimaryAsCreaterepoWritesIt: repomd.xml names the
// primary metadata (compressed, at a path of its own), and each package's
// record gives its NEVRA, its file and the file's digest.
func TestPackagesReadsPrimaryAsCreaterepoWritesIt(t *testing.T) {
	const primary = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="2">
<package type="rpm">
  <name>hello</name>
  <arch>noarch</arch>
  <version epoch="0" ver="1.0" rel="1"/>
  <checksum type="sha256" pkgid="YES">EBDDF3C94467dab420d4d09c238c61c3f45fae7847927f810455c9ac7fe0264f</checksum>
  <summary>Hello</summary>
  <location href="Packages/h/hello-1.0-1.noarch.rpm"/>
  <format>
    <rpm:sourcerpm>hello-1.0-1.src.rpm</rpm:sourcerpm>
    <rpm:provides><rpm:entry name="hello" flags="EQ" epoch="0" ver="1.0" rel="1"/></rpm:provides>
  </format>
</package>
<package type="rpm">
  <name>ghex</name>
  <arch>x86_64</arch>
  <version epoch="1" ver="46.1" rel="2.fc41"/>
  <checksum type="sha512" pkgid="YES">00aa</checksum>
  <location href="ghex-46.1-2.fc41.x86_64.rpm"/>
</package>
</metadata>
`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, primary)
	zw.Close()
	files := map[string][]byte{
		RepomdFile: []byte(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="filelists"><location href="repodata/f-filelists.xml.gz"/></data>
  <data type="primary"><location href="repodata/abc-primary.xml.gz"/></data>
</repomd>
`),
		"repodata/abc-primary.xml.gz": gz.Bytes(),
	}
	open := func(rel string) (io.ReadCloser, error) {
		dt, ok := files[rel]
		if !ok {
			return nil, fmt.Errorf("open %s: no such file", rel)
		}
		return io.NopCloser(bytes.NewReader(dt)), nil
	}
	var got []Package
	if err := Packages(open, func(p Package) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{NEVRA: rpmver.NEVRA{Name: "hello", Version: "1.0", Release: "1", Arch: "noarch"}, Location: "Packages/h/hello-1.0-1.noarch.rpm"},
		{NEVRA: rpmver.NEVRA{Name: "ghex", Epoch: 1, Version: "46.1", Release: "2.fc41", Arch: "x86_64"}, Location: "ghex-46.1-2.fc41.x86_64.rpm"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("packages:\n%+v\nwant\n%+v", got, want)
	}
	// fn's error stops the read.
	stop := errors.New("stop")
	n := 0
	if err := Packages(open, func(Package) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: %v after %d packages", err, n)
	}
	delete(files, RepomdFile)
	if err := Packages(open, func(Package) error { return nil }); err == nil || !strings.Contains(err.Error(), "not an RPM repository: open repodata/repomd.xml") {
		t.Errorf("no repomd.xml: %v", err)
	}
}

// TestChecksumsReadsEachPackagesDigest: the digests Packages gives, read
// as a stream whatever its chunks (here one byte at a time), not taking
// an element whose name only starts with checksum.
func TestChecksumsReadsEachPackagesDigest(t *testing.T) {
	primary := `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" packages="3">
<package type="rpm"><name>a</name><checksum type="sha256" pkgid="YES">AA01</checksum><checksumish>no</checksumish></package>
<package type="rpm"><name>b</name><checksum pkgid='YES' type='sha1'>
  bb02
</checksum></package>
<package type="rpm"><name>c</name><checksum type="sha512">cc03</checksum></package>
</metadata>`
	var got []string
	err := Checksums(func(rel string) (io.ReadCloser, error) {
		if rel == RepomdFile {
			return io.NopCloser(strings.NewReader(`<repomd><data type="primary"><location href="repodata/p-primary.xml"/></data></repomd>`)), nil
		}
		return io.NopCloser(iotest.OneByteReader(strings.NewReader(primary))), nil
	}, func(kind, sum string) error {
		got = append(got, kind+":"+sum)
		return nil
	})
	if want := []string{"sha256:aa01", "sha1:bb02", "sha512:cc03"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("checksums %q, %v; want %q", got, err, want)
	}
	var toks []string
	sc := bufio.NewScanner(strings.NewReader(`x<checksum type="a">1</checksum><checksum>2`))
	sc.Split(elements("checksum"))
	for sc.Scan() {
		toks = append(toks, sc.Text())
	}
	if want := []string{`<checksum type="a">1</checksum>`}; !slices.Equal(toks, want) || sc.Err() == nil {
		t.Errorf("a cut element: %q, %v", toks, sc.Err())
	}
}
