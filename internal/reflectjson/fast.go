//go:build !corral_stdjson

package reflectjson

import (
	"encoding/json"
	"errors"
	"reflect"
)

// stdJSON is true in a build with the tag corral_stdjson, where Decode
// and Encode leave everything to encoding/json.
const stdJSON = false

// Decode decodes data into *v, a zero value, with Unmarshal, which
// builds no codecs, and where Unmarshal refuses, zeroes *v and calls
// slow to decode it again with encoding/json, whose result (and its
// errors) it returns. Built with the tag corral_stdjson, it only calls
// slow.
func Decode(data []byte, v any, slow func() error) error {
	if Unmarshal(data, v) == nil {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero()
	return slow()
}

// Encode returns json.Marshal(v): Marshal's bytes, or where Marshal
// cannot encode v, encoding/json's. Built with the tag corral_stdjson, it
// is json.Marshal.
func Encode(v any) ([]byte, error) {
	b, err := Marshal(v)
	if errors.Is(err, ErrUnsupported) {
		return json.Marshal(v)
	}
	return b, err
}
