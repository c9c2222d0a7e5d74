package posenc_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/posenc"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

// filler sets every field it can reach to distinct non-zero data: slices
// of two elements, maps of two entries, pointers to filled values. Fields
// tagged json:"-" or posenc:"-" stay zero, as after a round trip.
type filler struct {
	t testing.TB
	n int
}

func fill[T any](t testing.TB) T {
	var v T
	(&filler{t: t}).fill(reflect.ValueOf(&v).Elem(), 0)
	return v
}

func (f *filler) fill(v reflect.Value, depth int) {
	if depth > 12 { // recursive types
		return
	}
	f.n++
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.n%100 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(f.n%200 + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.n) + 0.5)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", f.n))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.fill(v.Index(i), depth+1)
		}
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(k, depth+1)
			f.fill(e, depth+1)
			v.SetMapIndex(k, e)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() && sf.Tag.Get("json") != "-" && sf.Tag.Get("posenc") != "-" {
				f.fill(v.Field(i), depth+1)
			}
		}
	default:
		f.t.Fatalf("filler: cannot fill a %s", v.Type())
	}
}

// roundTrip marshals in and unmarshals it into a new T.
func roundTrip[T any](t *testing.T, in *T) *T {
	t.Helper()
	data, err := posenc.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := posenc.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the value:\n in: %+v\nout: %+v", in, out)
	}
	return out
}

func TestConfig(t *testing.T) {
	cfg := fill[configs.Config](t)
	if cfg.Cgroups == nil || cfg.Cgroups.Resources == nil || cfg.Cgroups.Resources.Unified == nil {
		t.Fatalf("filler left parts of the config empty: %+v", cfg)
	}
	roundTrip(t, &cfg)
	roundTrip(t, &configs.Config{})

	// The hooks, behind an interface, stay behind (posenc:"-"): init
	// gets its own as commands.
	cfg.Hooks = configs.Hooks{configs.Prestart: {configs.NewCommandHook(configs.Command{Path: "/bin/true"})}}
	data, err := posenc.Marshal(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out configs.Config
	if err := posenc.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Hooks != nil {
		t.Errorf("the hooks travelled: %v", out.Hooks)
	}
}

// A field named "-" (json:"-,") is encoded; only exactly "-" is skipped.
type Inner struct {
	Name string
	Next *Inner
	//lint:ignore SA5008 the field is named "-", on purpose
	Dash string `json:"-,"`
}

// jsonMap has JSON methods that must never run: posenc encodes the map
// it is, as it does every value, and never builds a JSON codec.
type jsonMap map[string]int

func (m jsonMap) MarshalJSON() ([]byte, error)  { panic("posenc called MarshalJSON") }
func (m *jsonMap) UnmarshalJSON(b []byte) error { panic("posenc called UnmarshalJSON") }

// jsonStruct is a struct with JSON methods that must never run.
type jsonStruct struct{ A, B string }

func (jsonStruct) MarshalJSON() ([]byte, error)  { panic("posenc called MarshalJSON") }
func (*jsonStruct) UnmarshalJSON(b []byte) error { panic("posenc called UnmarshalJSON") }

type myByte uint8

type allKinds struct {
	Inner // embedded: positional, no promotion

	B, NoB                 bool
	I                      int
	I8, I8Min              int8
	I16, I16Min            int16
	I32, I32Min            int32
	I64, I64Min            int64
	U                      uint
	U8                     uint8
	U16                    uint16
	U32                    uint32
	U64                    uint64
	Uptr                   uintptr
	F32, F32Small, F32Inf  float32
	F64, F64Neg, F64Small  float64
	S, EmptyS              string
	Bytes, NilBytes, Empty []byte
	MyBytes                []myByte
	Raw, NilRaw, EmptyRaw  json.RawMessage
	Ints, NilInts, NoInts  []int
	Arr                    [3]int16
	ByteArr                [4]byte
	M, NilM, EmptyM        map[string]int
	PM                     map[int64]*Inner
	P, NilP                *int
	PP                     **string
	JM, NilJM, EmptyJM     jsonMap
	JS                     jsonStruct
	JSP, NilJSP            *jsonStruct
	Nested                 Inner
	Nesteds                []Inner
	Skipped                string `json:"-"`
	SkippedFunc            func() `posenc:"-"`
	SkippedAny             any    `json:"a" posenc:"-"`
	hidden                 int    `json:"-"`
}

func TestAllKinds(t *testing.T) {
	one, s := 1, "pp"
	ps := &s
	in := &allKinds{
		Inner: Inner{Name: "embedded", Next: &Inner{Name: "next", Dash: "dash"}},
		B:     true,
		I:     math.MaxInt, I8: math.MaxInt8, I8Min: math.MinInt8,
		I16: math.MaxInt16, I16Min: math.MinInt16,
		I32: math.MaxInt32, I32Min: math.MinInt32,
		I64: math.MaxInt64, I64Min: math.MinInt64,
		U: math.MaxUint, U8: math.MaxUint8, U16: math.MaxUint16,
		U32: math.MaxUint32, U64: math.MaxUint64, Uptr: ^uintptr(0),
		F32: math.MaxFloat32, F32Small: -math.SmallestNonzeroFloat32, F32Inf: float32(math.Inf(-1)),
		F64: math.MaxFloat64, F64Neg: -1.5, F64Small: math.SmallestNonzeroFloat64,
		S:       "héllo\x00\xff",
		Bytes:   []byte{0, 1, 0xff},
		Empty:   []byte{},
		MyBytes: []myByte{7, 200},
		Raw:     json.RawMessage(`{"a": [1, 2]}`),
		// Not JSON at all: kept as bytes, not re-encoded.
		EmptyRaw: json.RawMessage{},
		Ints:     []int{-1, 0, 1},
		NoInts:   []int{},
		Arr:      [3]int16{-1, 0, math.MaxInt16},
		ByteArr:  [4]byte{1, 2, 3, 255},
		M:        map[string]int{"a": 1, "b": -2},
		EmptyM:   map[string]int{},
		PM:       map[int64]*Inner{-5: {Name: "x"}, 7: nil},
		P:        &one,
		PP:       &ps,
		JM:       jsonMap{"x": 1},
		JS:       jsonStruct{"a", "b"},
		JSP:      &jsonStruct{"c", ""},
		EmptyJM:  jsonMap{},
		Nested:   Inner{Name: "nested"},
		Nesteds:  []Inner{{Name: "a"}, {}},
	}
	out := roundTrip(t, in)
	if out.NilBytes != nil || out.NilRaw != nil || out.NilInts != nil || out.NilM != nil || out.NilJM != nil {
		t.Error("a nil slice or map came back non-nil")
	}
	if out.Empty == nil || out.EmptyRaw == nil || out.NoInts == nil || out.EmptyM == nil || out.EmptyJM == nil {
		t.Error("an empty slice or map came back nil")
	}
	if math.Signbit(float64(out.F32Small)) != true {
		t.Error("lost the sign of a float")
	}

	// json:"-" and posenc:"-" fields are neither encoded nor kept in the
	// target.
	in.Skipped, in.SkippedFunc, in.SkippedAny, in.hidden = "skipped", func() {}, 1, 1
	data, err := posenc.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out = &allKinds{Skipped: "old", SkippedAny: "old", hidden: 2}
	if err := posenc.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
	if out.Skipped != "" || out.SkippedFunc != nil || out.SkippedAny != nil || out.hidden != 0 {
		t.Errorf("skipped fields are not zero: %q %v", out.Skipped, out.SkippedAny)
	}
}

// TestEncoding pins the encoding of simple values, as documented.
func TestEncoding(t *testing.T) {
	type pair struct {
		A int8
		B *uint16
		C string
	}
	seven := uint16(300)
	for _, tc := range []struct {
		v    any
		want []byte
	}{
		{true, []byte{1}},
		{int8(-1), []byte{1}},
		{int64(64), []byte{0x80, 1}},
		{uint(300), []byte{0xac, 2}},
		{1.0, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		{"hi", []byte{2, 'h', 'i'}},
		{[]byte(nil), []byte{0}},
		{[]byte{}, []byte{1}},
		{[]int8{1, -1}, []byte{3, 2, 1}},
		{[2]uint8{1, 2}, []byte{1, 2}},
		{map[string]bool(nil), []byte{0}},
		{map[string]bool{"a": true}, []byte{2, 1, 'a', 1}},
		{new(new(int8(-1))), []byte{1, 1}}, // Marshal follows the outer pointer only
		{&pair{A: 1, B: &seven, C: "x"}, []byte{2, 1, 0xac, 2, 1, 'x'}},
		// JSON methods play no part.
		{jsonStruct{"a", "b"}, []byte{1, 'a', 1, 'b'}},
	} {
		got, err := posenc.Marshal(tc.v)
		if err != nil {
			t.Errorf("%T: %v", tc.v, err)
		} else if !bytes.Equal(got, tc.want) {
			t.Errorf("%T %v: got % x, want % x", tc.v, tc.v, got, tc.want)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	type unexported struct {
		A      int
		hidden int
	}
	type embedsUnexported struct{ unexported }
	type emptyElems struct {
		S []struct{}
	}
	for _, tc := range []struct {
		v    any
		want string // in the error
	}{
		{nil, "nil"},
		{(*int)(nil), "nil *int"},
		{struct{ F func() }{}, "func()"},
		{struct{ C chan int }{}, "chan int"},
		{struct{ I any }{}, "interface {}"},
		{struct{ I any }{I: 1}, "interface {}"},
		{map[string]any{"a": 1}, "interface {}"},
		{[]error{nil}, "error"},
		{complex(1, 2), "complex128"},
		{struct{ P unsafe.Pointer }{}, "unsafe.Pointer"},
		{&unexported{hidden: 1}, "posenc_test.unexported: unexported field hidden"},
		{embedsUnexported{}, "posenc_test.embedsUnexported: unexported field unexported"},
		{emptyElems{S: make([]struct{}, 3)}, "[]struct {}: its elements take no bytes"},
		// What needs JSON to travel (data behind an interface or in
		// unexported fields) is refused, not sent as JSON.
		{configs.Hooks{configs.Prestart: {hookFunc(nil)}}, "configs.Hook: unsupported kind interface"},
		{configs.Hooks{configs.Prestart: {configs.NewCommandHook(configs.Command{Path: "/bin/x"})}}, "configs.Hook: unsupported kind interface"},
		{time.Unix(0, 0), "time.Time: unexported field"},
	} {
		_, err := posenc.Marshal(tc.v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Marshal(%#v): error %v, want one with %q", tc.v, err, tc.want)
		}
	}
	// A cycle is reported, not followed until the stack runs out.
	type node struct{ Next *node }
	n := &node{}
	n.Next = n
	if _, err := posenc.Marshal(n); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("Marshal(cycle): %v", err)
	}
}

// hookFunc is a hook that cannot travel.
type hookFunc func()

func (hookFunc) Run(*specs.State) error { return nil }

func TestUnmarshalErrors(t *testing.T) {
	in := fill[allKinds](t)
	data, err := posenc.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation fails, and leaves the target unchanged.
	for i := range len(data) {
		out := allKinds{S: "untouched"}
		if err := posenc.Unmarshal(data[:i], &out); !errors.Is(err, posenc.ErrCorrupt) {
			t.Fatalf("%d of %d bytes: %v", i, len(data), err)
		}
		if !reflect.DeepEqual(out, allKinds{S: "untouched"}) {
			t.Fatalf("%d of %d bytes: the target changed", i, len(data))
		}
	}
	var out allKinds
	if err := posenc.Unmarshal(append(data, 0), &out); !errors.Is(err, posenc.ErrCorrupt) || !strings.Contains(err.Error(), "trailing") {
		t.Errorf("trailing byte: %v", err)
	}

	huge := binary.AppendUvarint(nil, 1<<62)
	for _, tc := range []struct {
		name string
		data []byte
		into any
		want string
	}{
		{"bad bool", []byte{2}, new(bool), "bool"},
		{"bad pointer flag", []byte{2}, new(*int), "*int"},
		{"int8 overflow", binary.AppendVarint(nil, 128), new(int8), "int8"},
		{"int8 underflow", binary.AppendVarint(nil, -129), new(int8), "int8"},
		{"uint8 overflow", binary.AppendUvarint(nil, 256), new(uint8), "uint8"},
		{"uint32 overflow", binary.AppendUvarint(nil, 1<<32), new(uint32), "uint32"},
		{"float32 overflow", binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.MaxFloat64)), new(float32), "float32"},
		{"varint too long", bytes.Repeat([]byte{0xff}, 11), new(uint64), "uint64"},
		{"huge string", huge, new(string), "string"},
		{"huge bytes", huge, new([]byte), "[]uint8"},
		{"huge slice", huge, new([]int64), "[]int64"},
		{"huge map", huge, new(map[int]int), "map[int]int"},
		{"duplicate key", []byte{3, 2, 1, 2, 2}, new(map[int8]int8), "duplicate key"},
		{"empty elements", []byte{4}, new([]struct{}), "[]struct {}"},
		{"deep", bytes.Repeat([]byte{1}, 100000), new(Inner), "nested deeper"},
	} {
		err := posenc.Unmarshal(tc.data, tc.into)
		if !errors.Is(err, posenc.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %v naming %s", tc.name, err, posenc.ErrCorrupt, tc.want)
		}
	}

	// A huge length is refused before anything is allocated for it.
	allocs := testing.AllocsPerRun(10, func() {
		var s []int64
		if posenc.Unmarshal(huge, &s) == nil {
			t.Fatal("huge slice accepted")
		}
	})
	if allocs > 10 {
		t.Errorf("refusing a huge length took %v allocations", allocs)
	}

	for _, tc := range []struct {
		name string
		into any
	}{
		{"non-pointer", 1},
		{"nil", nil},
		{"nil pointer", (*int)(nil)},
		{"interface", new(any)},
		{"func", new(func())},
		{"chan", new(chan int)},
		{"unexported", new(struct{ a int })},
		{"time", new(time.Time)},
	} {
		if err := posenc.Unmarshal([]byte{0}, tc.into); err == nil || errors.Is(err, posenc.ErrCorrupt) {
			t.Errorf("%s: %v, want a usage error", tc.name, err)
		}
	}
	// Hooks, which only JSON could carry, are refused as soon as one
	// comes: a map of one entry, "prestart", with a list of one hook.
	hooks := append([]byte{2, 8}, "prestart"...)
	hooks = append(hooks, 2, 0)
	if err := posenc.Unmarshal(hooks, new(configs.Hooks)); err == nil || errors.Is(err, posenc.ErrCorrupt) || !strings.Contains(err.Error(), "interface") {
		t.Errorf("hooks: %v, want a usage error about the interface", err)
	}
}

// realisticConfig is the config of the default spec, what `corral spec`
// and `corral run` make.
func realisticConfig(t testing.TB) *configs.Config {
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: "web", Spec: specconv.Example()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func BenchmarkConfig(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  *configs.Config
	}{
		{"realistic", realisticConfig(b)},
		{"filled", new(fill[configs.Config](b))},
	} {
		b.Run(bc.name+"/posenc", func(b *testing.B) {
			for b.Loop() {
				data, err := posenc.Marshal(bc.cfg)
				if err != nil {
					b.Fatal(err)
				}
				var out configs.Config
				if err := posenc.Unmarshal(data, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/json", func(b *testing.B) {
			for b.Loop() {
				data, err := json.Marshal(bc.cfg)
				if err != nil {
					b.Fatal(err)
				}
				var out configs.Config
				if err := json.Unmarshal(data, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

const coldEnv = "POSENC_TEST_COLD"

// TestColdStart measures what the child of a container start pays: the
// first encoding and decoding of a Config in a fresh process, with posenc
// and with encoding/json. It reports and asserts nothing about speed.
func TestColdStart(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	for _, codec := range []string{"posenc", "json"} {
		var runs []time.Duration
		var last string
		for range 7 {
			cmd := exec.Command(os.Args[0], "-test.run=^TestColdHelper$", "-test.v")
			cmd.Env = append(os.Environ(), coldEnv+"="+codec)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", codec, err, out)
			}
			i := bytes.Index(out, []byte("cold="))
			if i < 0 {
				t.Fatalf("%s: no result in\n%s", codec, out)
			}
			last = strings.TrimSpace(string(out[i:][:bytes.IndexByte(out[i:], '\n')]))
			var cold time.Duration
			if _, err := fmt.Sscanf(last, "cold=%d", &cold); err != nil {
				t.Fatal(err)
			}
			runs = append(runs, cold)
		}
		slices.Sort(runs)
		t.Logf("%-6s first Marshal+Unmarshal, median of %d processes: %v (min %v); last run: %s",
			codec, len(runs), runs[len(runs)/2], runs[0], last)
	}
}

// TestColdHelper runs in the child of TestColdStart.
func TestColdHelper(t *testing.T) {
	codec := os.Getenv(coldEnv)
	if codec == "" {
		t.Skip("only run by TestColdStart")
	}
	cfg := realisticConfig(t)
	marshal, unmarshal := posenc.Marshal, posenc.Unmarshal
	if codec == "json" {
		marshal, unmarshal = json.Marshal, json.Unmarshal
	}
	var size int
	run := func() time.Duration {
		start := time.Now()
		data, err := marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var out configs.Config
		if err := unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		size = len(data)
		return time.Since(start)
	}
	cold := run()
	warm := run()
	fmt.Printf("cold=%d warm=%v bytes=%d\n", cold, warm, size)
}
