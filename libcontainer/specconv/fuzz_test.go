package specconv

import (
	"bytes"
	"encoding/json"
	"testing"
)

func exampleJSON(tb testing.TB) []byte {
	tb.Helper()
	b, err := json.MarshalIndent(Example(), "", "\t")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzLoadSpec checks that any input either loads or fails with an
// error, and never panics (jsonPath walks arbitrary, broken JSON).
func FuzzLoadSpec(f *testing.F) {
	f.Add(exampleJSON(f))
	f.Add([]byte(`{"mounts":[{"destination":5}]}`))
	f.Add([]byte(`{"a":[1,{"b":[{"c":"d"}]}]} x`))
	f.Add([]byte("{\n\"a\":]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := LoadSpec(bytes.NewReader(data))
		if err == nil && spec == nil {
			t.Fatal("nil spec without an error")
		}
	})
}

// FuzzCreateLibcontainerConfig feeds arbitrary config.json files through
// the whole conversion: it must return a config or an error, and never
// panic on a missing object or an odd value.
func FuzzCreateLibcontainerConfig(f *testing.F) {
	f.Add(exampleJSON(f))
	f.Add([]byte(`{"ociVersion":"1.0.0","root":{"path":"/"},"linux":{"namespaces":[{"type":"mount"}]}}`))
	f.Add([]byte(`{"root":{"path":"r"},"linux":{"namespaces":[{"type":"mount"},{"type":"user"}],"uidMappings":[{"size":1}],"gidMappings":[{"size":1}],"resources":{"memory":{},"cpu":{},"blockIO":{"weightDevice":[{"weight":1}]},"network":{},"pids":{}}},"mounts":[{"destination":"a","source":"b","options":["rbind","ridmap","rro","ratime"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := LoadSpec(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, systemd := range []bool{false, true} {
			c, err := CreateLibcontainerConfig(&CreateOpts{CgroupName: "fuzz", Spec: spec, UseSystemdCgroup: systemd})
			if err == nil && (c == nil || c.Cgroups == nil || c.Cgroups.Resources == nil) {
				t.Fatalf("incomplete config without an error: %+v", c)
			}
		}
	})
}

func BenchmarkCreateLibcontainerConfig(b *testing.B) {
	spec := Example()
	opts := &CreateOpts{CgroupName: "bench", Spec: spec}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CreateLibcontainerConfig(opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadSpec(b *testing.B) {
	data := exampleJSON(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadSpec(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
