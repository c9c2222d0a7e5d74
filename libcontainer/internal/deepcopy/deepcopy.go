// Package deepcopy copies a value together with everything it reaches
// through pointers, slices, maps and interfaces, so that a copy handed to
// a caller shares no memory the caller could write with the original.
//
// It is for plain data such as a container's State and Config, whose
// types (the cgroups library's among them) grow fields of their own: a
// copy written by hand would silently stop being deep. Do not use it on
// values with cycles, which it would follow forever, or on values whose
// identity matters (a sync.Mutex, an *os.File): it copies them too.
package deepcopy

import "reflect"

// Of returns a deep copy of v. Unexported struct fields are copied as
// they are, shallowly, since reflection cannot write them; functions and
// channels are shared. Nil and empty slices and maps stay nil and empty.
func Of[T any](v T) T {
	src := reflect.ValueOf(&v).Elem()
	dst := reflect.New(src.Type()).Elem()
	copyValue(dst, src)
	return *dst.Addr().Interface().(*T)
}

// copyValue sets dst, a settable zero value of src's type, to a deep copy
// of src.
func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := reflect.New(src.Elem().Type()).Elem()
		copyValue(e, src.Elem())
		dst.Set(e)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Array:
		for i := range src.Len() {
			copyValue(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		t := src.Type()
		m := reflect.MakeMapWithSize(t, src.Len())
		for it := src.MapRange(); it.Next(); {
			k := reflect.New(t.Key()).Elem()
			copyValue(k, it.Key())
			v := reflect.New(t.Elem()).Elem()
			copyValue(v, it.Value())
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
	case reflect.Struct:
		// The unexported fields come with the whole value; the exported
		// ones are then replaced by deep copies.
		dst.Set(src)
		for i := range src.NumField() {
			if f := dst.Field(i); f.CanSet() {
				f.SetZero()
				copyValue(f, src.Field(i))
			}
		}
	default:
		dst.Set(src)
	}
}
