package reflectjson_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/corral-oci/corral/internal/reflectjson"
	"github.com/corral-oci/corral/libcontainer"
)

// TestState: the container's state, filled at random (every field, with
// nil and empty containers among them), encodes as encoding/json encodes
// it, byte for byte: saveState relies on it.
func TestState(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		st := &libcontainer.State{}
		reflectjson.Fill(r, reflect.ValueOf(st).Elem(), 0)
		want, werr := json.Marshal(st)
		got, gerr := reflectjson.Marshal(st)
		if werr != nil || gerr != nil {
			t.Fatalf("state %d: encoding/json: %v; reflectjson: %v", i, werr, gerr)
		}
		if string(got) != string(want) {
			t.Fatalf("state %d:\nreflectjson:\n%s\nencoding/json:\n%s", i, got, want)
		}
	}
}

// TestDecodeState: random states, encoded, decode as encoding/json
// decodes them (through time.Time's and Hooks' UnmarshalJSON), and a
// null for either is left to encoding/json.
func TestDecodeState(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 500 {
		st := &libcontainer.State{}
		reflectjson.Fill(r, reflect.ValueOf(st).Elem(), 0)
		data, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if !decodeBoth[libcontainer.State](t, data) {
			t.Fatalf("state %d: Unmarshal refused what json.Marshal wrote:\n%s", i, data)
		}
	}
	for _, c := range []string{`{"created":null}`, `{"config":{"hooks":null}}`} {
		if decodeBoth[libcontainer.State](t, []byte(c)) {
			t.Errorf("Unmarshal took %s, which encoding/json gives to UnmarshalJSON", c)
		}
	}
}
