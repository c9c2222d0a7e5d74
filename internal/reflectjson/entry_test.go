package reflectjson_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/corral-oci/corral/internal/reflectjson"
)

// TestDecodeFallback: Decode leaves to encoding/json what Unmarshal
// refuses, with the value zeroed again, and everything in a build with
// the tag corral_stdjson.
func TestDecodeFallback(t *testing.T) {
	for _, c := range []struct {
		in   string
		slow bool
	}{
		{`{"hostname":"a"}`, reflectjson.StdJSON},
		// Unmarshal fills the first two fields, then refuses the key
		// given twice.
		{`{"domainname":"d","hostname":"a","hostname":"b"}`, true},
	} {
		var v linuxSpec
		slow := false
		err := reflectjson.Decode([]byte(c.in), &v, func() error {
			slow = true
			if !reflect.ValueOf(v).IsZero() {
				t.Errorf("%s: encoding/json decodes into what Unmarshal left: %+v", c.in, v)
			}
			return json.Unmarshal([]byte(c.in), &v)
		})
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if slow != c.slow {
			t.Errorf("%s: encoding/json called: %t, want %t (tag corral_stdjson: %t)", c.in, slow, c.slow, reflectjson.StdJSON)
		}
	}
}
