package reflectjson

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// field is one member of a struct's JSON object.
type field struct {
	name      string
	tagged    bool // named by its tag
	index     []int
	omitEmpty bool
	omitZero  bool
}

// fieldCache holds each struct type's fields, worked out once a process.
var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf returns t's fields as encoding/json encodes them: exported
// fields, and those of embedded structs, by Go's rules for embedded
// fields except that a field named by its tag wins over others at its
// depth; in the order of their index sequences.
func fieldsOf(t reflect.Type) ([]field, error) {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field), nil
	}
	fs, err := resolveFields(t)
	if err != nil {
		return nil, err
	}
	fieldCache.Store(t, fs)
	return fs, nil
}

// embedded is a struct type to look into, reached through index.
type embedded struct {
	typ   reflect.Type
	index []int
}

func resolveFields(t reflect.Type) ([]field, error) {
	if fs, ok, err := plainFields(t); ok {
		return fs, err
	}
	var fields []field
	current, next := []embedded{}, []embedded{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, s := range current {
			if visited[s.typ] {
				continue
			}
			visited[s.typ] = true
			for i := range s.typ.NumField() {
				sf := s.typ.Field(i)
				if sf.Anonymous {
					at := sf.Type
					if at.Kind() == reflect.Pointer {
						at = at.Elem()
					}
					if !sf.IsExported() && at.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				name, opts, skip, err := jsonTag(s.typ, sf)
				if err != nil {
					return nil, err
				}
				if skip {
					continue
				}
				index := append(slices.Clip(s.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f, err := newField(s.typ, sf, name, opts, index)
					if err != nil {
						return nil, err
					}
					fields = append(fields, f)
					if count[s.typ] > 1 {
						// The type is embedded twice at this depth: each
						// of its fields is there twice, and annihilates.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, embedded{typ: ft, index: index})
				}
			}
		}
	}
	slices.SortFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		// The first of a name dominates, unless the second is as deep
		// and as tagged: then neither is encoded.
		if j-i == 1 || len(fields[i].index) != len(fields[i+1].index) || fields[i].tagged != fields[i+1].tagged {
			out = append(out, fields[i])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out, nil
}

// maxPlain bounds the fields plainFields compares pairwise for a name
// given twice.
const maxPlain = 64

// plainFields resolves a struct without embedded fields, nearly every
// struct, without the general rules' maps and sorts: it runs once per
// type in every process, and a start of a container meets a hundred
// types. Its fields are in index order already, and only a name given
// twice needs the general rules; ok is false when it cannot tell.
func plainFields(t reflect.Type) (fields []field, ok bool, err error) {
	n := t.NumField()
	if n > maxPlain {
		return nil, false, nil
	}
	fields = make([]field, 0, n)
	for i := range n {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil, false, nil
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, skip, err := jsonTag(t, sf)
		if err != nil {
			return nil, true, err
		}
		if skip {
			continue
		}
		f, err := newField(t, sf, name, opts, sf.Index)
		if err != nil {
			return nil, true, err
		}
		for _, g := range fields {
			if g.name == f.name {
				return nil, false, nil
			}
		}
		fields = append(fields, f)
	}
	return fields, true, nil
}

// jsonTag returns the name sf's json tag gives it (empty for none, or for
// one encoding/json ignores) and the tag's options; skip is true for a
// field the tag leaves out.
func jsonTag(owner reflect.Type, sf reflect.StructField) (name, opts string, skip bool, err error) {
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return "", "", true, nil
	}
	name, opts, _ = strings.Cut(tag, ",")
	if !isValidTag(name) {
		if jsonV2 && name != "" {
			return "", "", false, unsupported("tag name %q of %s.%s", name, owner, sf.Name)
		}
		name = ""
	}
	return name, opts, false, nil
}

// newField is sf, a field of owner reached through index, named name or
// else by its Go name.
func newField(owner reflect.Type, sf reflect.StructField, name, opts string, index []int) (field, error) {
	if hasOption(opts, "string") {
		return field{}, unsupported("option \",string\" of %s.%s", owner, sf.Name)
	}
	f := field{
		name:      name,
		tagged:    name != "",
		index:     index,
		omitEmpty: hasOption(opts, "omitempty"),
		omitZero:  hasOption(opts, "omitzero"),
	}
	if f.name == "" {
		f.name = sf.Name
	}
	return f, nil
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}
