//go:build corral_stdjson

package reflectjson

import "encoding/json"

// stdJSON is true in a build with the tag corral_stdjson: a way to rule
// this package out when a JSON bug is suspected, at the cost of
// encoding/json's codecs.
const stdJSON = true

// Decode calls slow, which decodes data into *v, a zero value, with
// encoding/json: built with the tag corral_stdjson, Unmarshal is never
// tried.
func Decode(data []byte, v any, slow func() error) error {
	return slow()
}

// Encode is json.Marshal: built with the tag corral_stdjson, Marshal is
// never tried.
func Encode(v any) ([]byte, error) {
	return json.Marshal(v)
}
