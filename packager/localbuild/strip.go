package localbuild

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
)

// stripELF writes to dst the part of the ELF executable src that is loaded
// into memory: its debug information and symbol tables, a third of a Go
// binary that the build steps never read, are cut off, and the section
// header table that named them is dropped (the kernel and the dynamic
// loader read only the program headers; Go's runtime finds its tables in
// the loaded segments). Anything it cannot do safely (not a 64-bit
// little-endian ELF, a loaded section past the cut) is an error, and the
// caller sends the binary as it is.
func stripELF(src, dst string) error {
	f, err := elf.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return fmt.Errorf("%s: not a 64-bit little-endian ELF", src)
	}
	var end uint64
	for _, p := range f.Progs {
		end = max(end, p.Off+p.Filesz)
	}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS && s.Offset+s.FileSize > end {
			return fmt.Errorf("%s: loaded section %s lies past the last segment", src, s.Name)
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(out, in, int64(end)); err != nil {
		out.Close()
		return err
	}
	// e_shoff (8 bytes at 0x28), e_shnum and e_shstrndx (2 bytes at 0x3c
	// and 0x3e): no section headers.
	var zero [8]byte
	for _, w := range []struct {
		off int64
		n   int
	}{{0x28, 8}, {0x3c, 2}, {0x3e, 2}} {
		if _, err := out.WriteAt(zero[:w.n], w.off); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}
