package reflectjson

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// same checks that Marshal gives json.Marshal's bytes for v.
func same(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := Marshal(v)
	if werr != nil || gerr != nil {
		t.Fatalf("encoding/json: %v; reflectjson: %v", werr, gerr)
	}
	if string(got) != string(want) {
		t.Fatalf("reflectjson:\n%s\nencoding/json:\n%s", got, want)
	}
}

type inner struct {
	A string `json:"a"`
	B int
}

type other struct {
	A string // hidden by inner's tagged a? no: named A, not a
	C []int  `json:"c,omitempty"`
}

type clash1 struct{ X int }
type clash2 struct{ X int }

type tagClash1 struct {
	Y int `json:"y"`
}
type tagClash2 struct{ Y int }

type zeroer struct{ N int }

func (z zeroer) IsZero() bool { return z.N == 1 }

type ptrZeroer struct{ N int }

func (z *ptrZeroer) IsZero() bool { return z.N == 2 }

type valueMarshaler struct{ S string }

func (m valueMarshaler) MarshalJSON() ([]byte, error) {
	s, err := json.Marshal(m.S + "<&>")
	return []byte(`{ "s" : ` + string(s) + ` , "n": [ 1, 2 ] }`), err
}

type ptrMarshaler struct{ S string }

func (m *ptrMarshaler) MarshalJSON() ([]byte, error) { return json.Marshal("p:" + m.S) }

type named string

type everything struct {
	inner
	*other
	clash1
	clash2
	tagClash1
	tagClash2
	Plain   string
	Tagged  string `json:"renamed"`
	Skipped string `json:"-"`
	//lint:ignore SA5008 encoding/json names this field "-", which is what is tested
	Dash        string            `json:"-,"`
	Empty       string            `json:",omitempty"`
	Ptr         *int              `json:"ptr,omitempty"`
	NilPtr      *int              `json:"nilptr"`
	Slice       []string          `json:"slice"`
	NilSlice    []string          `json:"nilslice"`
	EmptySlice  []string          `json:"emptyslice,omitempty"`
	Bytes       []byte            `json:"bytes"`
	Array       [3]uint8          `json:"array"`
	Map         map[string]int    `json:"map"`
	NamedKeys   map[named]*inner  `json:"named_keys"`
	NilMap      map[string]string `json:"nilmap,omitempty"`
	Iface       any               `json:"iface"`
	NilIface    any               `json:"niliface,omitempty"`
	Time        time.Time         `json:"time"`
	TimePtr     *time.Time        `json:"time_ptr,omitempty"`
	ZeroTime    time.Time         `json:"zero_time,omitzero"`
	Zeroer      zeroer            `json:"zeroer,omitzero"`
	PtrZeroer   ptrZeroer         `json:"ptr_zeroer,omitzero"`
	ZeroInt     int               `json:"zero_int,omitzero"`
	ZeroStruct  inner             `json:"zero_struct,omitzero"`
	ValueM      valueMarshaler    `json:"value_m"`
	PtrM        ptrMarshaler      `json:"ptr_m"`
	PtrMs       []ptrMarshaler    `json:"ptr_ms"`
	MapOfPtrM   map[string]ptrMarshaler
	NilPtrM     *ptrMarshaler `json:"nil_ptr_m"`
	Neg         int8
	Big         uint64
	Bool        bool `json:",omitempty"`
	Strings     []string
	unexported  int
	Unicode     string `json:"ünïcode"`
	HTMLName    string `json:"<b>"`
	EmbeddedPtr *inner `json:"embedded_ptr"`
}

var tricky = []string{
	"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>",
	"\x00\x01\x07\b\f\n\r\t\x1f\x7f", "caf\u00e9 \u2028 \u2029 \U0001F600",
	"bad \xff utf8 \xc3", "\xed\xa0\x80",
}

func TestTypes(t *testing.T) {
	n := 42
	ts := time.Date(2026, 11, 23, 17, 0, 0, 123456789, time.FixedZone("x", 3600))
	for i, s := range tricky {
		v := &everything{
			inner:      inner{A: s, B: i},
			other:      &other{A: "hidden", C: []int{i}},
			clash1:     clash1{X: 1},
			clash2:     clash2{X: 2},
			tagClash1:  tagClash1{Y: 3},
			tagClash2:  tagClash2{Y: 4},
			Plain:      s,
			Tagged:     s,
			Skipped:    s,
			Dash:       s,
			Ptr:        &n,
			Slice:      []string{s, s + "x"},
			EmptySlice: []string{},
			Bytes:      []byte(s),
			Array:      [3]uint8{1, 2, 3},
			Map:        map[string]int{s: 1, "b": 2, "a": 3, "\u2028": 4},
			NamedKeys:  map[named]*inner{named(s): {A: s}, "z": nil},
			Iface:      map[string]any{"k": []any{s, 15, true, nil}},
			Time:       ts,
			TimePtr:    &ts,
			Zeroer:     zeroer{N: i % 2},
			PtrZeroer:  ptrZeroer{N: 2 + i%2},
			ValueM:     valueMarshaler{S: "v"},
			PtrM:       ptrMarshaler{S: "p"},
			PtrMs:      []ptrMarshaler{{S: "a"}, {S: "b"}},
			MapOfPtrM:  map[string]ptrMarshaler{"k": {S: "m"}},
			Neg:        -128,
			Big:        1<<64 - 1,
			Bool:       i%2 == 0,
			Strings:    tricky,
			unexported: 1,
			Unicode:    s,
			HTMLName:   s,
		}
		same(t, v)
		same(t, *v) // not addressable: the pointer Marshaler is not used
	}
	same(t, &everything{})
	same(t, twice())
	same(t, nil)
	same(t, []any{nil, "x", 1})
}

// twice is a struct that names fields twice without embedding: two tags
// the same (neither is encoded), and a tag that is another field's name
// (the tag wins). It is made at run time: go vet refuses such a type.
func twice() any {
	str := reflect.TypeFor[string]()
	t := reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: str, Tag: `json:"x"`},
		{Name: "B", Type: str, Tag: `json:"x"`},
		{Name: "C", Type: str},
		{Name: "D", Type: str, Tag: `json:"C"`},
		{Name: "E", Type: str, Tag: `json:"e,omitempty"`},
	})
	v := reflect.New(t).Elem()
	for i := range t.NumField() {
		v.Field(i).SetString(t.Field(i).Name)
	}
	return v.Interface()
}

// badTag has a tag's name that encoding/json finds invalid, and replaces
// by the field's; on encoding/json v2 it is taken nearly as it is.
type badTag struct {
	A string `json:"a"`
	//lint:ignore SA5008 an invalid name is what is tested
	Bad string `json:"a b\"c"`
}

// TestInvalidTagName: the field's name, as encoding/json has it, or
// ErrUnsupported on encoding/json v2.
func TestInvalidTagName(t *testing.T) {
	v := badTag{A: "a", Bad: "bad"}
	if !jsonV2 {
		same(t, v)
		return
	}
	if _, err := Marshal(v); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Marshal on encoding/json v2: %v, want ErrUnsupported", err)
	}
	var got badTag
	if err := Unmarshal([]byte(`{"Bad":"x"}`), &got); err == nil {
		t.Errorf("Unmarshal on encoding/json v2 took a field with an invalid tag: %+v", got)
	}
}

// TestUnsupported: what it cannot encode as encoding/json does is said,
// not guessed.
func TestUnsupported(t *testing.T) {
	type quoted struct {
		N int `json:"n,string"`
	}
	type cycle struct{ Next *cycle }
	c := &cycle{}
	c.Next = c
	for name, v := range map[string]any{
		"float":         1.5,
		"int map keys":  map[int]string{1: "a"},
		",string":       quoted{N: 1},
		"cycle":         c,
		"TextMarshaler": net{},
	} {
		if _, err := Marshal(v); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}

type net struct{}

func (net) MarshalText() ([]byte, error) { return []byte("x"), nil }

// fill gives every exported field of v random contents, with nil and
// empty containers, nil pointers and tricky strings among them.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	if !v.CanSet() {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if r.IntN(3) > 0 {
			v.SetInt(int64(r.Uint64()) >> (64 - uint(v.Type().Bits())))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if r.IntN(3) > 0 {
			v.SetUint(r.Uint64() >> (64 - uint(v.Type().Bits())))
		}
	case reflect.String:
		v.SetString(tricky[r.IntN(len(tricky))])
	case reflect.Pointer:
		if depth < 12 && r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			fill(r, p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		if depth >= 12 || v.Type().Elem().Kind() == reflect.Interface {
			return
		}
		switch r.IntN(4) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), 1+r.IntN(3), 3)
			for i := range s.Len() {
				fill(r, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Map:
		if depth >= 12 || v.Type().Elem().Kind() == reflect.Interface {
			return
		}
		switch r.IntN(4) {
		case 0:
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range 1 + r.IntN(3) {
				k := reflect.New(v.Type().Key()).Elem()
				fill(r, k, depth+1)
				e := reflect.New(v.Type().Elem()).Elem()
				fill(r, e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(r.Int64N(1<<34), r.Int64N(1e9)).UTC()))
			return
		}
		for i := range v.NumField() {
			fill(r, v.Field(i), depth+1)
		}
	}
}

func TestRandomTypes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		v := reflect.New(reflect.TypeFor[everything]())
		fill(r, v.Elem(), 0)
		same(t, v.Interface())
	}
}
