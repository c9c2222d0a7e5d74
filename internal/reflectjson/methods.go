package reflectjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sync"
)

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
)

// methods are the interfaces encoding/json looks for that a type, or a
// pointer to it, implements.
type methods uint8

const (
	valMarshal       methods = 1 << iota // T is a json.Marshaler
	ptrMarshal                           // T is not a pointer, and *T is a json.Marshaler
	valText                              // T is an encoding.TextMarshaler
	ptrText                              // T is not a pointer, and *T is an encoding.TextMarshaler
	ptrUnmarshal                         // *T is a json.Unmarshaler
	ptrTextUnmarshal                     // *T is an encoding.TextUnmarshaler
	valIsZero                            // T has IsZero() bool
	ptrIsZero                            // *T has IsZero() bool
)

// methodCache holds each type's methods.
var methodCache sync.Map // reflect.Type -> methods

// methodsOf returns t's methods, worked out once a process: encoding asks
// for every value, and Implements compares method names.
func methodsOf(t reflect.Type) methods {
	if m, ok := methodCache.Load(t); ok {
		return m.(methods)
	}
	pt := reflect.PointerTo(t)
	notPtr := t.Kind() != reflect.Pointer
	var m methods
	set := func(bit methods, ok bool) {
		if ok {
			m |= bit
		}
	}
	set(valMarshal, t.Implements(marshalerType))
	set(ptrMarshal, notPtr && pt.Implements(marshalerType))
	set(valText, t.Implements(textMarshalerType))
	set(ptrText, notPtr && pt.Implements(textMarshalerType))
	set(ptrUnmarshal, pt.Implements(unmarshalerType))
	set(ptrTextUnmarshal, pt.Implements(textUnmarshalerType))
	set(valIsZero, t.Implements(isZeroerType))
	set(ptrIsZero, pt.Implements(isZeroerType))
	methodCache.Store(t, m)
	return m
}

// has reports whether m holds any of bits.
func (m methods) has(bits methods) bool { return m&bits != 0 }
