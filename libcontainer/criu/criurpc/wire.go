package criurpc

import (
	"errors"
	"fmt"
)

// The protobuf wire format, as much of it as the messages need: varints,
// length-delimited fields, and skipping whatever else an answer may
// carry. It would be google.golang.org/protobuf/encoding/protowire, but
// that package's import of protobuf's internal/detrand opens and reads
// the executable at every start of the binary; the tests hold these
// functions to protowire's.

// wireType is the low three bits of a field's tag.
type wireType uint8

const (
	varintType     wireType = 0
	fixed64Type    wireType = 1
	bytesType      wireType = 2
	startGroupType wireType = 3
	endGroupType   wireType = 4
	fixed32Type    wireType = 5
)

var wireTypeNames = [...]string{"varint", "fixed64", "bytes", "start group", "end group", "fixed32"}

func (t wireType) String() string {
	if int(t) < len(wireTypeNames) {
		return wireTypeNames[t]
	}
	return fmt.Sprintf("invalid wire type %d", t)
}

// maxFieldNumber is the largest field number protobuf allows.
const maxFieldNumber = 1<<29 - 1

// maxDepth bounds the nesting of groups in skipped fields, as protobuf's
// default recursion limit does.
const maxDepth = 10000

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendTag(b []byte, num int, t wireType) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(t))
}

// Fields of each kind. An int32 is sign-extended to 64 bits, as protobuf
// encodes negative int32s.

func appendInt32(b []byte, num int, v int32) []byte {
	return appendVarint(appendTag(b, num, varintType), uint64(int64(v)))
}

func appendUint32(b []byte, num int, v uint32) []byte {
	return appendVarint(appendTag(b, num, varintType), uint64(v))
}

func appendBool(b []byte, num int, v bool) []byte {
	var x uint64
	if v {
		x = 1
	}
	return appendVarint(appendTag(b, num, varintType), x)
}

func appendString(b []byte, num int, s string) []byte {
	b = appendVarint(appendTag(b, num, bytesType), uint64(len(s)))
	return append(b, s...)
}

// appendMessage appends a message field whose content enc appends.
func appendMessage(b []byte, num int, enc func([]byte) []byte) []byte {
	b = appendTag(b, num, bytesType)
	start := len(b)
	b = enc(b)
	// The length goes before the content: make room and move it.
	var lb [10]byte
	l := appendVarint(lb[:0], uint64(len(b)-start))
	b = append(b, l...)
	copy(b[start+len(l):], b[start:len(b)-len(l)])
	copy(b[start:], l)
	return b
}

var (
	errTruncated = errors.New("truncated")
	errOverflow  = errors.New("varint overflows 64 bits")
)

// decoder reads fields from b. Its first error sticks: later reads
// return zero values, and more reports false.
type decoder struct {
	b   []byte
	err error
	// msg and num name the message and field being read, for errors.
	msg string
	num int
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%s field %d: %w", d.msg, d.num, err)
	}
}

// more reports whether a field follows.
func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

func (d *decoder) varint() uint64 {
	var v uint64
	for i := 0; i < 10; i++ {
		if i == len(d.b) {
			d.fail(errTruncated)
			return 0
		}
		c := d.b[i]
		if i == 9 && c > 1 {
			d.fail(errOverflow)
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.b = d.b[i+1:]
			return v
		}
	}
	d.fail(errOverflow) // not reached: the tenth byte ends the varint
	return 0
}

// tag reads a field's tag; a tag that ends a group ends the message's
// fields and is an error here.
func (d *decoder) tag() (int, wireType) {
	v := d.varint()
	if d.err != nil {
		return 0, 0
	}
	num, t := v>>3, wireType(v&7)
	d.num = int(min(num, maxFieldNumber+1))
	if num < 1 || num > maxFieldNumber {
		d.fail(fmt.Errorf("invalid field number %d", num))
		return 0, 0
	}
	return int(num), t
}

// want fails unless the field is of wire type t.
func (d *decoder) want(got, t wireType) bool {
	if got != t {
		d.fail(fmt.Errorf("wire type %v, want %v", got, t))
		return false
	}
	return true
}

func (d *decoder) int32(t wireType) int32 {
	if !d.want(t, varintType) {
		return 0
	}
	return int32(d.varint())
}

func (d *decoder) bool(t wireType) bool {
	if !d.want(t, varintType) {
		return false
	}
	return d.varint() != 0
}

func (d *decoder) flag(t wireType) Flag {
	if !d.want(t, varintType) {
		return Unset
	}
	return FlagOf(d.varint() != 0)
}

// bytes reads a length-delimited value.
func (d *decoder) bytes() []byte {
	n := d.varint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(errTruncated)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(t wireType) string {
	if !d.want(t, bytesType) {
		return ""
	}
	return string(d.bytes())
}

// message reads a message field with dec, which reads the message's
// fields from d as the message's own.
func (d *decoder) message(t wireType, name string, dec func(*decoder)) {
	if !d.want(t, bytesType) {
		return
	}
	v := d.bytes()
	if d.err != nil {
		return
	}
	rest, msg := d.b, d.msg
	d.b, d.msg = v, name
	dec(d)
	d.b, d.msg = rest, msg
}

// skip reads past a field the decoder does not know.
func (d *decoder) skip(num int, t wireType) { d.skipDepth(num, t, 0) }

func (d *decoder) skipDepth(num int, t wireType, depth int) {
	switch t {
	case varintType:
		d.varint()
	case fixed32Type, fixed64Type:
		n := 4
		if t == fixed64Type {
			n = 8
		}
		if len(d.b) < n {
			d.fail(errTruncated)
			return
		}
		d.b = d.b[n:]
	case bytesType:
		d.bytes()
	case startGroupType:
		if depth == maxDepth {
			d.fail(errors.New("groups nested too deep"))
			return
		}
		for d.err == nil {
			if len(d.b) == 0 {
				d.fail(errTruncated)
				return
			}
			n, t := d.tag()
			if d.err != nil {
				return
			}
			if t == endGroupType {
				if n != num {
					d.fail(fmt.Errorf("group %d ends as %d", num, n))
				}
				return
			}
			d.skipDepth(n, t, depth+1)
		}
	case endGroupType:
		d.fail(errors.New("end of a group that did not start"))
	default:
		d.fail(fmt.Errorf("invalid wire type %d", t))
	}
}
