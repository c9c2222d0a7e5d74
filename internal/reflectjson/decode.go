package reflectjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// errDecode is Unmarshal's error: it says nothing of what is wrong, as
// the caller is to decode again with encoding/json, which says it.
var errDecode = errors.New("reflectjson: cannot decode; decode with encoding/json")

// Unmarshal decodes data into *v as json.Unmarshal would. On any error
// *v may be partly filled: decode into a new value with encoding/json.
// Beyond what Marshal refuses, it refuses a key given twice in an object
// (encoding/json merges the two values), null for a json.Unmarshaler
// that is not a pointer, an encoding.TextUnmarshaler, and anything other
// than the literals the Go kind takes (a number into a string, a string
// into an int...): encoding/json refuses most of those too.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errDecode
	}
	d := decoder{in: data}
	d.space()
	if err := d.value(rv.Elem(), 0); err != nil {
		return err
	}
	d.space()
	if d.pos != len(d.in) {
		return errDecode
	}
	return nil
}

type decoder struct {
	in  []byte
	pos int
}

// structFields are a struct's fields with encoding/json's two lookups: by
// exact name, else by name folded as encoding/json folds (the first
// field of a folded name wins). The folded names are worked out on the
// first key that is not a field's exact name: config.json and state.json
// rarely have one.
type structFields struct {
	list []field
	// exact is nil for a struct of a few fields, which a scan of list
	// finds faster than a map is made.
	exact  map[string]int
	folded func() map[string]int
}

// maxScan is the most fields a struct has for lookups by a scan.
const maxScan = 12

// lookupCache holds each struct type's structFields.
var lookupCache sync.Map // reflect.Type -> *structFields

func lookupFields(t reflect.Type) (*structFields, error) {
	if sf, ok := lookupCache.Load(t); ok {
		return sf.(*structFields), nil
	}
	list, err := fieldsOf(t)
	if err != nil {
		return nil, errDecode
	}
	sf := &structFields{list: list, folded: sync.OnceValue(func() map[string]int {
		folded := make(map[string]int, len(list))
		for i, f := range list {
			if k := foldName(f.name); !has(folded, k) {
				folded[k] = i
			} else if jsonV2 {
				// encoding/json v2 takes the first breadth-first (an
				// outer field before an embedded one's), not the first.
				folded[k] = ambiguous
			}
		}
		return folded
	})}
	if len(list) > maxScan {
		sf.exact = make(map[string]int, len(list))
		for i, f := range list {
			sf.exact[f.name] = i
		}
	}
	lookupCache.Store(t, sf)
	return sf, nil
}

// ambiguous marks a folded name that more than one field has, where
// encoding/json v2 chooses another field than encoding/json.
const ambiguous = -1

// index returns the index in list of the field for key, or ok false for
// none.
func (sf *structFields) index(key string) (i int, ok bool, err error) {
	if sf.exact != nil {
		if i, ok := sf.exact[key]; ok {
			return i, true, nil
		}
	} else {
		for i := range sf.list {
			if sf.list[i].name == key {
				return i, true, nil
			}
		}
	}
	i, ok = sf.folded()[foldName(key)]
	if ok && i == ambiguous {
		return 0, false, errDecode
	}
	return i, ok, nil
}

func has(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// foldName is encoding/json's: ASCII letters to upper case, other runes
// to the smallest of their fold set, so that names fold alike exactly
// when strings.EqualFold says they are equal.
func foldName(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return string(out)
}

// foldRune returns the smallest rune of r's fold set.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

func (d *decoder) space() {
	for d.pos < len(d.in) {
		switch d.in[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// literal consumes word, which must be next.
func (d *decoder) literal(word string) error {
	if len(d.in)-d.pos < len(word) || string(d.in[d.pos:d.pos+len(word)]) != word {
		return errDecode
	}
	d.pos += len(word)
	return nil
}

// value decodes the next value into v, which is settable.
func (d *decoder) value(v reflect.Value, depth int) error {
	if depth > maxDepth || d.pos >= len(d.in) {
		return errDecode
	}
	if d.in[d.pos] == 'n' {
		// encoding/json gives null to the UnmarshalJSON of a value that
		// is not a pointer; what that makes of it is its own business.
		if v.Kind() != reflect.Pointer && methodsOf(v.Type()).has(ptrUnmarshal) {
			return errDecode
		}
		if err := d.literal("null"); err != nil {
			return err
		}
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		}
		return nil
	}
	// encoding/json follows pointers, allocating them, down to the value.
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	t := v.Type()
	if m := methodsOf(t); m.has(ptrUnmarshal) {
		return d.unmarshaler(v, depth)
	} else if m.has(ptrTextUnmarshal) {
		return errDecode
	}
	switch c := d.in[d.pos]; {
	case c == '{':
		switch t.Kind() {
		case reflect.Struct:
			return d.object(v, depth)
		case reflect.Map:
			return d.mapObject(v, depth)
		}
	case c == '[':
		if t.Kind() == reflect.Slice {
			return d.array(v, depth)
		}
	case c == '"':
		if t.Kind() == reflect.String {
			s, err := d.str()
			if err != nil {
				return err
			}
			v.SetString(s)
			return nil
		}
	case c == 't' || c == 'f':
		if t.Kind() == reflect.Bool {
			if c == 't' {
				v.SetBool(true)
				return d.literal("true")
			}
			v.SetBool(false)
			return d.literal("false")
		}
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number(v)
	}
	return errDecode
}

// unmarshaler gives the value's JSON, as it is in the input, to v's
// UnmarshalJSON, as encoding/json does.
func (d *decoder) unmarshaler(v reflect.Value, depth int) error {
	start := d.pos
	if err := d.skip(depth); err != nil {
		return err
	}
	if !v.CanAddr() {
		return errDecode
	}
	if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(d.in[start:d.pos]); err != nil {
		return errDecode
	}
	return nil
}

func (d *decoder) object(v reflect.Value, depth int) error {
	sf, err := lookupFields(v.Type())
	if err != nil {
		return err
	}
	var seen []bool
	return d.members(func(key string) error {
		i, ok, err := sf.index(key)
		if err != nil {
			return err
		}
		if !ok {
			return d.skip(depth)
		}
		if seen == nil {
			seen = make([]bool, len(sf.list))
		}
		if seen[i] {
			return errDecode
		}
		seen[i] = true
		fv, err := fieldForSet(v, sf.list[i].index)
		if err != nil {
			return err
		}
		return d.value(fv, depth+1)
	})
}

// fieldForSet follows index through embedded structs, allocating nil
// embedded pointers as encoding/json does.
func fieldForSet(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, errDecode
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	if !v.CanSet() {
		return reflect.Value{}, errDecode
	}
	return v, nil
}

func (d *decoder) mapObject(v reflect.Value, depth int) error {
	t := v.Type()
	if t.Key().Kind() != reflect.String || methodsOf(t.Key()).has(ptrTextUnmarshal) {
		return errDecode
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	seen := make(map[string]bool)
	return d.members(func(key string) error {
		if seen[key] {
			return errDecode
		}
		seen[key] = true
		e := reflect.New(t.Elem()).Elem()
		if err := d.value(e, depth+1); err != nil {
			return err
		}
		k := reflect.New(t.Key()).Elem()
		k.SetString(key)
		v.SetMapIndex(k, e)
		return nil
	})
}

// members reads an object, calling member for each key with the input at
// its value.
func (d *decoder) members(member func(key string) error) error {
	d.pos++ // {
	d.space()
	if d.pos < len(d.in) && d.in[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		if d.pos >= len(d.in) || d.in[d.pos] != '"' {
			return errDecode
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		d.space()
		if d.pos >= len(d.in) || d.in[d.pos] != ':' {
			return errDecode
		}
		d.pos++
		d.space()
		if err := member(key); err != nil {
			return err
		}
		if done, err := d.next('}'); done || err != nil {
			return err
		}
	}
}

// next reads what follows a member of an object or an element of an
// array: a comma, or closing, the end of it.
func (d *decoder) next(closing byte) (done bool, err error) {
	d.space()
	if d.pos >= len(d.in) {
		return false, errDecode
	}
	switch d.in[d.pos] {
	case ',':
		d.pos++
		d.space()
		return false, nil
	case closing:
		d.pos++
		return true, nil
	}
	return false, errDecode
}

func (d *decoder) array(v reflect.Value, depth int) error {
	t := v.Type()
	// A slice is decoded afresh: encoding/json reuses the elements of one
	// already there, which only a key given twice would show, and
	// objects refuse those.
	s := reflect.MakeSlice(t, 0, 0)
	err := d.elements(func() error {
		s = reflect.Append(s, reflect.New(t.Elem()).Elem())
		return d.value(s.Index(s.Len()-1), depth+1)
	})
	if err != nil {
		return err
	}
	v.Set(s)
	return nil
}

// elements reads an array, calling each with the input at each element.
func (d *decoder) elements(each func() error) error {
	d.pos++ // [
	d.space()
	if d.pos < len(d.in) && d.in[d.pos] == ']' {
		d.pos++
		return nil
	}
	for {
		if err := each(); err != nil {
			return err
		}
		if done, err := d.next(']'); done || err != nil {
			return err
		}
	}
}

// number decodes an integer into an integer kind; anything else (a
// fraction, an exponent, a float field, out of range) is left to
// encoding/json.
func (d *decoder) number(v reflect.Value) error {
	start := d.pos
	if d.in[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.in) && '0' <= d.in[d.pos] && d.in[d.pos] <= '9' {
		d.pos++
	}
	n := d.pos - digits
	if n == 0 || (n > 1 && d.in[digits] == '0') {
		return errDecode
	}
	if d.pos < len(d.in) {
		switch d.in[d.pos] {
		case '.', 'e', 'E':
			return errDecode
		}
	}
	lit := string(d.in[start:d.pos])
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, err := strconv.ParseInt(lit, 10, 64)
		if err != nil || v.OverflowInt(x) {
			return errDecode
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, err := strconv.ParseUint(lit, 10, 64)
		if err != nil || v.OverflowUint(x) {
			return errDecode
		}
		v.SetUint(x)
	default:
		return errDecode
	}
	return nil
}

// str reads a string as encoding/json unquotes it: escapes resolved,
// surrogate pairs joined, a lone surrogate and bytes that are not UTF-8
// each made U+FFFD.
func (d *decoder) str() (string, error) {
	d.pos++ // "
	start := d.pos
	// The common case: nothing to unescape or repair.
	for d.pos < len(d.in) {
		c := d.in[d.pos]
		if c == '"' {
			s := string(d.in[start:d.pos])
			d.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.pos++
	}
	out := append([]byte(nil), d.in[start:d.pos]...)
	for d.pos < len(d.in) {
		c := d.in[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(out), nil
		case c < 0x20:
			return "", errDecode
		case c == '\\':
			if d.pos+1 >= len(d.in) {
				return "", errDecode
			}
			switch e := d.in[d.pos+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(d.in[d.pos+2:])
				if !ok {
					return "", errDecode
				}
				d.pos += 6
				if utf16.IsSurrogate(r) {
					if r2, ok := escapedRune(d.in[d.pos:]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
							d.pos += 6
							out = utf8.AppendRune(out, dec)
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return "", errDecode
			}
			d.pos += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.in[d.pos:])
			out = utf8.AppendRune(out, r)
			d.pos += size
		}
	}
	return "", errDecode
}

// escapedRune reads a \uXXXX escape.
func escapedRune(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	return hex4(b[2:])
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// skip reads a value nothing is decoded into, checking it is JSON.
func (d *decoder) skip(depth int) error {
	if depth > maxDepth || d.pos >= len(d.in) {
		return errDecode
	}
	switch c := d.in[d.pos]; {
	case c == '{':
		return d.members(func(string) error { return d.skip(depth + 1) })
	case c == '[':
		return d.elements(func() error { return d.skip(depth + 1) })
	case c == '"':
		_, err := d.str()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return d.skipNumber()
	}
	return errDecode
}

// skipNumber reads a JSON number of any form.
func (d *decoder) skipNumber() error {
	if d.in[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		start := d.pos
		for d.pos < len(d.in) && '0' <= d.in[d.pos] && d.in[d.pos] <= '9' {
			d.pos++
		}
		return d.pos - start
	}
	first := d.pos
	n := digits()
	if n == 0 || (n > 1 && d.in[first] == '0') {
		return errDecode
	}
	if d.pos < len(d.in) && d.in[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return errDecode
		}
	}
	if d.pos < len(d.in) && (d.in[d.pos] == 'e' || d.in[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.in) && (d.in[d.pos] == '+' || d.in[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return errDecode
		}
	}
	return nil
}
