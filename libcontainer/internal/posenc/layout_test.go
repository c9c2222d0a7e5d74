package posenc

import (
	"reflect"
	"testing"
	"time"
)

type layoutBase struct {
	A int
	B string
	C []*int
	D map[string]time.Time
	E [2]uint8
}

func TestLayout(t *testing.T) {
	base := Layout(reflect.TypeFor[layoutBase]())
	if again := Layout(reflect.TypeFor[layoutBase]()); again != base {
		t.Fatalf("the same type has two layouts: %x %x", base, again)
	}
	// A copy of the type with the same fields lays out alike.
	type same struct {
		A int
		B string
		C []*int
		D map[string]time.Time
		E [2]uint8
		f bool // unexported: Marshal refuses it, so it must count
	}
	_ = same{}.f
	type renamed struct {
		A  int
		B2 string
		C  []*layoutBase
		D  map[string]time.Time
		E  [2]uint8
	}
	type reordered struct {
		B string
		A int
		C []*int
		D map[string]time.Time
		E [2]uint8
	}
	type retyped struct {
		A int64
		B string
		C []*int
		D map[string]time.Time
		E [2]uint8
	}
	type skipped struct {
		A int `json:"-"`
		B string
		C []*int
		D map[string]time.Time
		E [2]uint8
	}
	type longer struct {
		A int
		B string
		C []*int
		D map[string]time.Time
		E [3]uint8
	}
	type added struct {
		A int
		B string
		C []*int
		D map[string]time.Time
		E [2]uint8
		F bool
	}
	type viaJSON struct {
		A int
		B string
		C []*int
		D map[string]string
		E [2]uint8
	}
	for name, typ := range map[string]reflect.Type{
		"unexported field": reflect.TypeFor[same](),
		"renamed":          reflect.TypeFor[renamed](),
		"reordered":        reflect.TypeFor[reordered](),
		"retyped":          reflect.TypeFor[retyped](),
		"json:\"-\"":       reflect.TypeFor[skipped](),
		"array length":     reflect.TypeFor[longer](),
		"added":            reflect.TypeFor[added](),
		"map value":        reflect.TypeFor[viaJSON](),
	} {
		if Layout(typ) == base {
			t.Errorf("%s: same layout as the base type", name)
		}
	}
	type alike struct {
		A int
		B string
		C []*int
		D map[string]time.Time
		E [2]uint8
	}
	if Layout(reflect.TypeFor[alike]()) != base {
		t.Error("a type with the same fields lays out differently")
	}
}

type layoutTree struct {
	Name     string
	Children []*layoutTree
	Parent   *layoutTree `json:"-"`
}

// TestLayoutRecursive: a recursive type has a layout, the same every time.
func TestLayoutRecursive(t *testing.T) {
	a, b := Layout(reflect.TypeFor[layoutTree]()), Layout(reflect.TypeFor[layoutTree]())
	if a != b {
		t.Fatalf("%x != %x", a, b)
	}
	type flat struct {
		Name     string
		Children []*int
	}
	if a == Layout(reflect.TypeFor[flat]()) {
		t.Error("a recursive type lays out as a flat one")
	}
}
