package posenc_test

import (
	"reflect"
	"testing"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/posenc"
)

// FuzzUnmarshalConfig checks that no input makes Unmarshal panic, and
// that what it accepts survives another round trip.
func FuzzUnmarshalConfig(f *testing.F) {
	for _, cfg := range []*configs.Config{new(fill[configs.Config](f)), realisticConfig(f), {}} {
		data, err := posenc.Marshal(cfg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg configs.Config
		if posenc.Unmarshal(data, &cfg) != nil {
			return
		}
		again, err := posenc.Marshal(&cfg)
		if err != nil {
			t.Fatalf("decoded config does not encode: %v", err)
		}
		var cfg2 configs.Config
		if err := posenc.Unmarshal(again, &cfg2); err != nil {
			t.Fatalf("re-encoded config does not decode: %v", err)
		}
		if !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("second round trip changed the config:\n%+v\n%+v", cfg, cfg2)
		}
	})
}

// FuzzUnmarshalKinds runs arbitrary input into a value of every kind: it
// must not panic, and what decodes must encode again.
func FuzzUnmarshalKinds(f *testing.F) {
	for _, v := range []*allKinds{new(fill[allKinds](f)), {}} {
		data, err := posenc.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v allKinds
		if posenc.Unmarshal(data, &v) != nil {
			return
		}
		if _, err := posenc.Marshal(&v); err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
	})
}
