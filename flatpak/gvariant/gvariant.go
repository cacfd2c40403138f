package gvariant

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Value is a GVariant of type s, t or as.
type Value struct {
	typ  string
	str  string
	u64  uint64
	strv []string
	raw  []byte
}

// String returns the GVariant string s. GVariant strings cannot hold NUL
// bytes: Marshal fails for them.
func String(s string) Value { return Value{typ: "s", str: s} }

// Uint64 returns the GVariant uint64 n.
func Uint64(n uint64) Value { return Value{typ: "t", u64: n} }

// StringArray returns the GVariant string array strv.
func StringArray(strv []string) Value {
	return Value{typ: "as", strv: append([]string(nil), strv...)}
}

// Type returns the type string: "s", "t" or "as".
func (v Value) Type() string { return v.typ }

// Str returns the value of an s.
func (v Value) Str() string { return v.str }

// Uint64 returns the value of a t.
func (v Value) Uint64() uint64 { return v.u64 }

// Strv returns the value of an as.
func (v Value) Strv() []string { return append([]string(nil), v.strv...) }

func (v Value) String() string {
	switch v.typ {
	case "s":
		return fmt.Sprintf("%q", v.str)
	case "t":
		return fmt.Sprintf("uint64 %d", v.u64)
	case "as":
		return fmt.Sprintf("%q", v.strv)
	}
	return "<invalid>"
}

// offsetSize returns the size of a framing offset in a container whose
// serialized size is size (gvs_get_offset_size).
func offsetSize(size uint64) int {
	switch {
	case size > 0xffffffff:
		return 8
	case size > 0xffff:
		return 4
	case size > 0xff:
		return 2
	case size > 0:
		return 1
	}
	return 0
}

// Marshal returns the serialized value (its normal form).
func (v Value) Marshal() ([]byte, error) {
	if v.raw != nil {
		return append([]byte(nil), v.raw...), nil
	}
	switch v.typ {
	case "s":
		if strings.IndexByte(v.str, 0) >= 0 {
			return nil, fmt.Errorf("gvariant: string %q contains a NUL byte", v.str)
		}
		return append([]byte(v.str), 0), nil
	case "t":
		return binary.LittleEndian.AppendUint64(nil, v.u64), nil
	case "as":
		var body []byte
		var ends []uint64
		for _, s := range v.strv {
			if strings.IndexByte(s, 0) >= 0 {
				return nil, fmt.Errorf("gvariant: string %q contains a NUL byte", s)
			}
			body = append(body, s...)
			body = append(body, 0)
			ends = append(ends, uint64(len(body)))
		}
		// gvs_calculate_total_size: the smallest offset size that fits.
		n := uint64(len(ends))
		size := uint64(len(body))
		osz := 8
		switch {
		case n == 0:
			osz = 0
		case size+n <= 0xff:
			osz = 1
		case size+2*n <= 0xffff:
			osz = 2
		case size+4*n <= 0xffffffff:
			osz = 4
		}
		for _, e := range ends {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], e)
			body = append(body, b[:osz]...)
		}
		return body, nil
	}
	return nil, fmt.Errorf("gvariant: invalid value")
}

// Variant returns v boxed in a variant, as g_variant_get_data of a "v"
// returns it: the serialized value, a NUL byte and the type string.
func Variant(v Value) ([]byte, error) {
	b, err := v.Marshal()
	if err != nil {
		return nil, err
	}
	b = append(b, 0)
	return append(b, v.typ...), nil
}

// Unmarshal reads a serialized value of type typ ("s", "t" or "as"). It
// accepts only the normal form Marshal writes.
func Unmarshal(typ string, data []byte) (Value, error) {
	switch typ {
	case "s":
		if len(data) == 0 || data[len(data)-1] != 0 {
			return Value{}, fmt.Errorf("gvariant: string is not NUL-terminated")
		}
		if bytes.IndexByte(data, 0) != len(data)-1 {
			return Value{}, fmt.Errorf("gvariant: string contains a NUL byte")
		}
		return String(string(data[:len(data)-1])), nil
	case "t":
		if len(data) != 8 {
			return Value{}, fmt.Errorf("gvariant: uint64 is %d bytes, want 8", len(data))
		}
		return Uint64(binary.LittleEndian.Uint64(data)), nil
	case "as":
		if len(data) == 0 {
			return StringArray(nil), nil
		}
		osz := offsetSize(uint64(len(data)))
		if len(data) < osz {
			return Value{}, fmt.Errorf("gvariant: array too short")
		}
		readOff := func(at int) uint64 {
			var b [8]byte
			copy(b[:], data[at:at+osz])
			return binary.LittleEndian.Uint64(b[:])
		}
		// The last offset is the end of the last element = start of the
		// offsets.
		last := readOff(len(data) - osz)
		if last > uint64(len(data)) || (uint64(len(data))-last)%uint64(osz) != 0 {
			return Value{}, fmt.Errorf("gvariant: bad framing offset %d in array of %d bytes", last, len(data))
		}
		n := (uint64(len(data)) - last) / uint64(osz)
		if n == 0 {
			return Value{}, fmt.Errorf("gvariant: non-empty array without elements")
		}
		var strv []string
		start := uint64(0)
		for i := uint64(0); i < n; i++ {
			end := readOff(int(last + i*uint64(osz)))
			if end < start || end > last {
				return Value{}, fmt.Errorf("gvariant: bad framing offset %d", end)
			}
			s, err := Unmarshal("s", data[start:end])
			if err != nil {
				return Value{}, err
			}
			strv = append(strv, s.str)
			start = end
		}
		if start != last {
			return Value{}, fmt.Errorf("gvariant: array elements end at %d, offsets start at %d", start, last)
		}
		v := StringArray(strv)
		// Only the normal form: the offset size must be the one Marshal picks.
		if m, _ := v.Marshal(); !bytes.Equal(m, data) {
			return Value{}, fmt.Errorf("gvariant: array is not in normal form")
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("gvariant: unsupported type %q", typ)
}

// UnmarshalVariant reads a boxed variant: value bytes, NUL, type string.
func UnmarshalVariant(data []byte) (Value, error) {
	i := bytes.LastIndexByte(data, 0)
	if i < 0 {
		return Value{}, fmt.Errorf("gvariant: variant has no type string")
	}
	return Unmarshal(string(data[i+1:]), data[:i])
}

// Raw is a value of type typ already serialized (see ExtraDataSources).
func Raw(typ string, data []byte) Value {
	return Value{typ: typ, raw: append([]byte(nil), data...)}
}

// ExtraDataSource is one entry of Flatpak's xa.extra-data-sources commit
// metadata, type (ayttays): the name as a NUL-terminated byte string, the
// download and installed sizes as big-endian uint64 (GUINT64_TO_BE, as
// flatpak build-export stores them), the SHA-256 as 32 bytes, the URI.
type ExtraDataSource struct {
	Name                string
	Size, InstalledSize uint64
	SHA256              [32]byte
	URI                 string
}

// ExtraDataSources serializes an array of extra-data sources as GLib does
// (type a(ayttays)).
func ExtraDataSources(sources []ExtraDataSource) (Value, error) {
	var body []byte
	var ends []uint64
	for _, s := range sources {
		if strings.IndexByte(s.Name, 0) >= 0 || strings.IndexByte(s.URI, 0) >= 0 {
			return Value{}, fmt.Errorf("gvariant: extra-data name or URI contains a NUL byte")
		}
		// Elements are aligned to 8, the tuple's alignment (its uint64s).
		for len(body)%8 != 0 {
			body = append(body, 0)
		}
		body = append(body, tuple(s)...)
		ends = append(ends, uint64(len(body)))
	}
	return Raw("a(ayttays)", appendOffsets(body, ends)), nil
}

// tuple serializes one (ayttays): members in order, each aligned, then the
// end offsets of the variable-sized members but the last, in reverse order.
func tuple(s ExtraDataSource) []byte {
	var b []byte
	b = append(b, s.Name...)
	b = append(b, 0)
	nameEnd := uint64(len(b))
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, s.Size)
	b = binary.BigEndian.AppendUint64(b, s.InstalledSize)
	b = append(b, s.SHA256[:]...)
	sumEnd := uint64(len(b))
	b = append(b, s.URI...)
	b = append(b, 0)
	// Offsets are written last member first.
	osz := frameSize(uint64(len(b)), 2)
	for _, e := range []uint64{sumEnd, nameEnd} {
		var x [8]byte
		binary.LittleEndian.PutUint64(x[:], e)
		b = append(b, x[:osz]...)
	}
	return b
}

// appendOffsets ends a variable-sized array with its elements' end offsets.
func appendOffsets(body []byte, ends []uint64) []byte {
	osz := frameSize(uint64(len(body)), len(ends))
	for _, e := range ends {
		var x [8]byte
		binary.LittleEndian.PutUint64(x[:], e)
		body = append(body, x[:osz]...)
	}
	return body
}

// frameSize is the size of the framing offsets of a container whose body
// is size bytes with n offsets: the smallest that can address the whole.
func frameSize(size uint64, n int) int {
	for _, osz := range []int{1, 2, 4, 8} {
		if osz == 8 || size+uint64(n*osz) <= 1<<(8*osz)-1 {
			if n == 0 {
				return 0
			}
			return osz
		}
	}
	return 8
}
