package deepcopy

import (
	"reflect"
	"testing"
	"time"
)

type shape interface{ area() int }

type square struct{ Side []int }

func (s square) area() int { return s.Side[0] * s.Side[0] }

type inner struct {
	Names []string
	Tags  map[string][]string
}

type outer struct {
	N        int
	Ptr      *inner
	Slice    []*inner
	Array    [2]*int
	Map      map[string]*inner
	Iface    shape
	IfacePtr shape
	When     time.Time
	Empty    []string
	Nil      []string
	Bytes    []byte
	Fn       func() int
	hidden   *int
}

func newOuter() *outer {
	one, two, secret := 1, 2, 42
	return &outer{
		N:        7,
		Ptr:      &inner{Names: []string{"a"}, Tags: map[string][]string{"k": {"v"}}},
		Slice:    []*inner{{Names: []string{"b"}}, nil},
		Array:    [2]*int{&one, &two},
		Map:      map[string]*inner{"m": {Names: []string{"c"}}},
		Iface:    square{Side: []int{3}},
		IfacePtr: &square{Side: []int{4}},
		When:     time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Empty:    []string{},
		Bytes:    []byte("xyz"),
		Fn:       func() int { return 1 },
		hidden:   &secret,
	}
}

// A copy equals the original, and nothing written through the copy
// reaches the original.
func TestOf(t *testing.T) {
	orig := newOuter()
	cp := Of(orig)
	if cp == orig {
		t.Fatal("Of returned the same pointer")
	}
	if cp.Fn == nil || cp.Fn() != 1 {
		t.Error("the function was not kept")
	}
	if cp.hidden != orig.hidden {
		t.Error("an unexported field was not copied as it is")
	}
	if cp.Empty == nil || cp.Nil != nil {
		t.Errorf("empty and nil slices: %#v, %#v", cp.Empty, cp.Nil)
	}
	cp.Fn, orig.Fn = nil, nil // funcs never compare equal
	if !reflect.DeepEqual(cp, orig) {
		t.Fatalf("copy %+v\ndiffers from %+v", cp, orig)
	}

	cp.N = 0
	cp.Ptr.Names[0] = "x"
	cp.Ptr.Tags["k"][0] = "x"
	cp.Ptr.Tags["new"] = nil
	cp.Slice[0].Names[0] = "x"
	*cp.Array[0] = 100
	cp.Map["m"].Names[0] = "x"
	cp.Map["new"] = nil
	cp.Iface.(square).Side[0] = 100
	cp.IfacePtr.(*square).Side[0] = 100
	cp.Bytes[0] = 'X'

	want := newOuter()
	want.Fn = nil
	if !reflect.DeepEqual(orig.hidden, want.hidden) {
		t.Fatal("hidden changed")
	}
	orig.hidden, want.hidden = nil, nil
	if !reflect.DeepEqual(orig, want) {
		t.Errorf("writes through the copy reached the original: %+v", orig)
	}
}

func TestOfNil(t *testing.T) {
	if got := Of[*outer](nil); got != nil {
		t.Errorf("Of(nil) = %v", got)
	}
	var s shape
	if got := Of(s); got != nil {
		t.Errorf("Of(nil interface) = %v", got)
	}
}
