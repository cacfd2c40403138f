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
