package posenc

import (
	"encoding/binary"
	"hash/fnv"
	"reflect"
)

// Layout fingerprints how values of t are encoded: the kinds, in order,
// of everything Marshal writes for a t, with the names of struct fields
// and which types travel as their JSON. Bytes that Marshal wrote for a
// type of one Layout decode correctly only into a type of the same
// Layout; a reader built from other source can tell by comparing
// Layouts before it decodes, and that is the only way bytes may outlive
// the process that wrote them.
func Layout(t reflect.Type) uint64 {
	l := layout{seen: make(map[reflect.Type]int)}
	l.add(t)
	h := fnv.New64a()
	h.Write(l.buf)
	return h.Sum64()
}

type layout struct {
	buf  []byte
	seen map[reflect.Type]int
}

func (l *layout) word(s string) {
	l.buf = binary.AppendUvarint(l.buf, uint64(len(s)))
	l.buf = append(l.buf, s...)
}

// add describes t. A type met before is named by the order it was first
// met in, which also ends recursion.
func (l *layout) add(t reflect.Type) {
	if i, ok := l.seen[t]; ok {
		l.buf = append(l.buf, '@')
		l.buf = binary.AppendUvarint(l.buf, uint64(i))
		return
	}
	l.seen[t] = len(l.seen)
	if usesJSON(t) {
		l.buf = append(l.buf, 'j')
		return
	}
	l.buf = append(l.buf, byte(t.Kind()))
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		l.add(t.Elem())
	case reflect.Array:
		l.buf = binary.AppendUvarint(l.buf, uint64(t.Len()))
		l.add(t.Elem())
	case reflect.Map:
		l.add(t.Key())
		l.add(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if ok, err := encoded(f); ok || err != nil {
				l.word(f.Name)
				l.add(f.Type)
			}
		}
		l.buf = append(l.buf, '}')
	}
}
