// Package posenc encodes values positionally, for a reader built from the
// same source: the runtime and the copy of itself it re-executes as a
// container's init or an exec'd process. The bytes carry no field names,
// types or version, so this is not a storage or interchange format: never
// write them to disk or send them to another program; use encoding/json
// there.
//
// It replaces encoding/json for the setup message because json builds a
// codec for the whole type tree of configs.Config on first use, in every
// container start, while posenc walks the value with reflection and does
// no per-type setup at all.
//
// A value travels as its Go form, field by field: methods such as
// MarshalJSON play no part, so the child never builds a JSON codec.
// Interfaces, funcs, chans, complex numbers, unsafe pointers and
// unexported fields cannot be encoded: a type whose data hides behind
// them (configs.Hooks, time.Time) must travel in another form. Fields
// tagged json:"-" are skipped, as json skips them, and so are fields
// tagged posenc:"-": those the JSON form keeps but the child does
// without.
package posenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// ErrCorrupt is wrapped by every error Unmarshal returns for input that
// Marshal cannot have produced for that type: truncated, trailing bytes,
// out-of-range values.
var ErrCorrupt = errors.New("posenc: corrupt input")

// maxDepth bounds nesting, so that a cyclic value fails to encode, and a
// recursive type fails to decode, instead of exhausting the stack.
const maxDepth = 10000

// Marshal encodes v. A pointer is followed, so that Marshal(&x) and
// Marshal(x) give the same bytes, which Unmarshal(data, &x) decodes.
func Marshal(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, fmt.Errorf("posenc: cannot encode a nil %s", rv.Type())
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil, errors.New("posenc: cannot encode nil")
	}
	var e encoder
	if err := e.value(rv, 0); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// Unmarshal decodes data into *v, which it replaces as a whole: fields
// tagged json:"-" are zero afterwards. On error *v is left unchanged.
//
// Any input is safe: every length is checked against the bytes left
// before anything is allocated for it, so memory is bounded by the input
// size times the size of the largest element type.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("posenc: unmarshal needs a non-nil pointer, not %T", v)
	}
	t := rv.Type().Elem()
	out := reflect.New(t).Elem()
	d := decoder{in: data}
	if err := d.value(out, 0); err != nil {
		return err
	}
	if len(d.in) > 0 {
		return corrupt(t, "%d trailing bytes", len(d.in))
	}
	rv.Elem().Set(out)
	return nil
}

// encoded reports whether struct field f is encoded, or returns an error
// if it should be but is unexported.
func encoded(f reflect.StructField) (bool, error) {
	// Parsing every tag costs more than the rest of the encoding.
	if strings.Contains(string(f.Tag), `:"-"`) && (f.Tag.Get("json") == "-" || f.Tag.Get("posenc") == "-") {
		return false, nil
	}
	if !f.IsExported() {
		return false, fmt.Errorf("unexported field %s", f.Name)
	}
	return true, nil
}

type encoder struct{ buf []byte }

// value appends v by the kind of its type: a bool as a byte 0 or 1;
// integers as varints, zigzag for signed ones; floats as the 8 bytes of
// their float64, little endian; a string as its length then its bytes;
// slices and maps as their length plus one (0 for nil) then their bytes,
// elements, or key and value pairs; arrays as their elements; a pointer as
// a byte 0 (nil) or 1 then its element; a struct as its fields in order.
func (e *encoder) value(v reflect.Value, depth int) error {
	t := v.Type()
	if depth > maxDepth {
		return fmt.Errorf("posenc: cannot encode %s: nested deeper than %d (a cycle?)", t, maxDepth)
	}
	switch t.Kind() {
	case reflect.Bool:
		b := byte(0)
		if v.Bool() {
			b = 1
		}
		e.buf = append(e.buf, b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = binary.AppendVarint(e.buf, v.Int()) // zigzag
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = binary.AppendUvarint(e.buf, v.Uint())
	case reflect.Float32, reflect.Float64:
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v.Float()))
	case reflect.String:
		e.buf = binary.AppendUvarint(e.buf, uint64(v.Len()))
		e.buf = append(e.buf, v.String()...)
	case reflect.Slice, reflect.Map:
		if v.IsNil() {
			e.buf = append(e.buf, 0)
			return nil
		}
		e.buf = binary.AppendUvarint(e.buf, uint64(v.Len())+1)
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			e.buf = append(e.buf, v.Bytes()...)
			return nil
		}
		start := len(e.buf)
		if err := e.elems(v, depth); err != nil {
			return err
		}
		// The decoder bounds a length by the bytes left; elements that
		// take none (struct{}) would make that bound wrong.
		if len(e.buf)-start < v.Len() {
			return fmt.Errorf("posenc: cannot encode %s: its elements take no bytes", t)
		}
	case reflect.Array:
		return e.elems(v, depth)
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, 0)
			return nil
		}
		e.buf = append(e.buf, 1)
		return e.value(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range t.NumField() {
			if ok, err := encoded(t.Field(i)); err != nil {
				return fmt.Errorf("posenc: cannot encode %s: %w", t, err)
			} else if ok {
				if err := e.value(v.Field(i), depth+1); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("posenc: cannot encode %s: unsupported kind %s", t, t.Kind())
	}
	return nil
}

// elems encodes the elements of a slice or an array, or the entries of a
// map in its iteration order.
func (e *encoder) elems(v reflect.Value, depth int) error {
	var err error
	if v.Kind() == reflect.Map {
		for it := v.MapRange(); it.Next() && err == nil; {
			if err = e.value(it.Key(), depth+1); err == nil {
				err = e.value(it.Value(), depth+1)
			}
		}
		return err
	}
	for i := 0; i < v.Len() && err == nil; i++ {
		err = e.value(v.Index(i), depth+1)
	}
	return err
}

type decoder struct{ in []byte }

func corrupt(t reflect.Type, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, t, fmt.Sprintf(format, args...))
}

// take returns the next n bytes of the input.
func (d *decoder) take(t reflect.Type, n uint64) ([]byte, error) {
	if n > uint64(len(d.in)) {
		return nil, corrupt(t, "%d bytes needed, %d left", n, len(d.in))
	}
	b := d.in[:n]
	d.in = d.in[n:]
	return b, nil
}

// length reads a length, of a string or, written plus one with 0 for nil,
// of a slice or a map. It is at most the bytes left, as each byte or
// element takes at least one.
func (d *decoder) length(t reflect.Type, plusOne bool) (n int, isNil bool, err error) {
	x, k := binary.Uvarint(d.in)
	if k <= 0 {
		return 0, false, corrupt(t, "bad length")
	}
	d.in = d.in[k:]
	if plusOne {
		if x == 0 {
			return 0, true, nil
		}
		x--
	}
	if x > uint64(len(d.in)) {
		return 0, false, corrupt(t, "length %d, %d bytes left", x, len(d.in))
	}
	return int(x), false, nil
}

// value decodes into v, which is addressable and zero.
func (d *decoder) value(v reflect.Value, depth int) error {
	t := v.Type()
	if depth > maxDepth {
		return corrupt(t, "nested deeper than %d", maxDepth)
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Pointer:
		b, err := d.take(t, 1)
		if err != nil {
			return err
		}
		switch {
		case b[0] > 1:
			return corrupt(t, "flag %d is neither 0 nor 1", b[0])
		case t.Kind() == reflect.Bool:
			v.SetBool(b[0] == 1)
		case b[0] == 1:
			p := reflect.New(t.Elem())
			if err := d.value(p.Elem(), depth+1); err != nil {
				return err
			}
			v.Set(p)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(d.in)
		if n <= 0 || v.OverflowInt(x) {
			return corrupt(t, "bad varint or out of range")
		}
		d.in = d.in[n:]
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, n := binary.Uvarint(d.in)
		if n <= 0 || v.OverflowUint(x) {
			return corrupt(t, "bad varint or out of range")
		}
		d.in = d.in[n:]
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		b, err := d.take(t, 8)
		if err != nil {
			return err
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		if v.OverflowFloat(f) {
			return corrupt(t, "%g overflows", f)
		}
		v.SetFloat(f)
	case reflect.String:
		n, _, err := d.length(t, false)
		if err != nil {
			return err
		}
		v.SetString(string(d.in[:n]))
		d.in = d.in[n:]
	case reflect.Slice, reflect.Map:
		return d.collection(v, depth)
	case reflect.Array:
		for i := range v.Len() {
			if err := d.value(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if ok, err := encoded(t.Field(i)); err != nil {
				return fmt.Errorf("posenc: cannot decode %s: %w", t, err)
			} else if ok {
				if err := d.value(v.Field(i), depth+1); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("posenc: cannot decode %s: unsupported kind %s", t, t.Kind())
	}
	return nil
}

// collection decodes a slice or a map.
func (d *decoder) collection(v reflect.Value, depth int) error {
	t := v.Type()
	n, isNil, err := d.length(t, true)
	if err != nil || isNil {
		return err
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
		b := make([]byte, n)
		copy(b, d.in)
		d.in = d.in[n:]
		v.SetBytes(b)
		return nil
	}
	start := len(d.in)
	if t.Kind() == reflect.Slice {
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			if err := d.value(s.Index(i), depth+1); err != nil {
				return err
			}
		}
		v.Set(s)
	} else {
		m := reflect.MakeMapWithSize(t, n)
		for range n {
			k := reflect.New(t.Key()).Elem()
			if err := d.value(k, depth+1); err != nil {
				return err
			}
			if m.MapIndex(k).IsValid() {
				return corrupt(t, "duplicate key %v", k)
			}
			e := reflect.New(t.Elem()).Elem()
			if err := d.value(e, depth+1); err != nil {
				return err
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
	if start-len(d.in) < n {
		return corrupt(t, "elements take no bytes")
	}
	return nil
}
