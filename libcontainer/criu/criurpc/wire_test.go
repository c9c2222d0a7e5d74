package criurpc

import (
	"bytes"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// The wire primitives against protowire, the package they stand in for.

var varints = []uint64{0, 1, 127, 128, 255, 300, 16383, 16384, math.MaxInt32, math.MaxUint32, 1 << 56, math.MaxInt64, math.MaxUint64}

func TestAppendVarint(t *testing.T) {
	for _, v := range varints {
		got := appendVarint([]byte{0xaa}, v)
		want := protowire.AppendVarint([]byte{0xaa}, v)
		if !bytes.Equal(got, want) {
			t.Errorf("appendVarint(%d) = %x, protowire %x", v, got, want)
		}
		d := &decoder{b: got[1:]}
		if back := d.varint(); d.err != nil || back != v || len(d.b) != 0 {
			t.Errorf("varint(%x) = %d, %v, %d bytes left", got[1:], back, d.err, len(d.b))
		}
	}
}

func TestAppendFields(t *testing.T) {
	for _, tt := range []struct {
		got, want []byte
	}{
		{appendInt32(nil, 1, -1), protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), math.MaxUint64)},
		{appendInt32(nil, 1, math.MinInt32), protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 0xffffffff80000000)},
		{appendUint32(nil, 16, math.MaxUint32), protowire.AppendVarint(protowire.AppendTag(nil, 16, protowire.VarintType), math.MaxUint32)},
		{appendBool(nil, maxFieldNumber, true), protowire.AppendVarint(protowire.AppendTag(nil, maxFieldNumber, protowire.VarintType), 1)},
		{appendString(nil, 68, "images"), protowire.AppendString(protowire.AppendTag(nil, 68, protowire.BytesType), "images")},
	} {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("got %x, protowire %x", tt.got, tt.want)
		}
	}
}

// TestAppendMessage checks the length put before a message's content,
// around the sizes where it grows a byte.
func TestAppendMessage(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 100000} {
		content := bytes.Repeat([]byte{'x'}, n)
		got := appendMessage([]byte("pre"), 2, func(b []byte) []byte { return append(b, content...) })
		want := protowire.AppendBytes(protowire.AppendTag([]byte("pre"), 2, protowire.BytesType), content)
		if !bytes.Equal(got, want) {
			t.Errorf("message of %d bytes differs", n)
		}
	}
}

// FuzzSkip reads a field with the decoder and with protowire: what the
// decoder takes, protowire takes the same way; what protowire takes, the
// decoder takes too, unless it is past the limits the decoder keeps
// stricter (field numbers in groups, nesting).
func FuzzSkip(f *testing.F) {
	f.Add([]byte{0x08, 0x96, 0x01})
	f.Add(unknownFields())
	f.Add([]byte{0xa3, 0x06, 0xa3, 0x06, 0xa4, 0x06, 0xa4, 0x06})
	f.Add([]byte{0xa3, 0x06, 0xac, 0x06})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &decoder{b: b}
		num, typ := d.tag()
		if d.err == nil {
			d.skip(num, wireType(typ))
		}
		pnum, ptyp, n := protowire.ConsumeTag(b)
		if n >= 0 {
			if m := protowire.ConsumeFieldValue(pnum, ptyp, b[n:]); m < 0 {
				n = m
			} else {
				n += m
			}
		}
		switch {
		case d.err == nil && n < 0:
			t.Fatalf("decoder skips %d bytes, protowire fails: %v", len(b)-len(d.b), protowire.ParseError(n))
		case d.err == nil && n != len(b)-len(d.b):
			t.Fatalf("decoder skips %d bytes, protowire %d", len(b)-len(d.b), n)
		case d.err != nil && n >= 0 && pnum <= maxFieldNumber && ptyp != protowire.StartGroupType:
			t.Fatalf("decoder fails: %v; protowire skips %d bytes", d.err, n)
		}
	})
}

// FuzzVarint checks the decoder's varints against protowire's.
func FuzzVarint(f *testing.F) {
	for _, v := range varints {
		f.Add(protowire.AppendVarint(nil, v))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &decoder{b: b}
		v := d.varint()
		pv, n := protowire.ConsumeVarint(b)
		if (d.err == nil) != (n >= 0) || d.err == nil && (v != pv || len(b)-len(d.b) != n) {
			t.Fatalf("varint %d, %v; protowire %d, %d", v, d.err, pv, n)
		}
	})
}
