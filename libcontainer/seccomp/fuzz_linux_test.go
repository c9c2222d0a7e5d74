//go:build linux && cgo

package seccomp

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// FuzzCompile feeds JSON profiles to Compile: it must never panic, and
// what it compiles must be a program the kernel would take, that
// returns on every path, and that survives shipping.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(`{"default_action":2,"syscalls":[{"name":"read","action":4}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c configs.Seccomp
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		if len(c.Syscalls) > 64 {
			// libseccomp's compile time, not our code, dominates
			// beyond this.
			return
		}
		filter, err := Compile(&c)
		if err != nil {
			return
		}
		if filter.Len() == 0 || filter.Len() > bpfMaxInsns {
			t.Fatalf("%d instructions", filter.Len())
		}
		for _, d := range []seccompData{
			{arch: 0xc000003e, nr: 0},
			{arch: 0xc000003e, nr: 1000},
			{arch: 0xc000003e, nr: x32SyscallBit | 1},
			{arch: 0x40000003, nr: 5, args: [6]uint64{1, 2, 3, 4, 5, 6}},
			{arch: 0xc00000b7, nr: 63},
			{arch: 1, nr: -1},
		} {
			if _, err := runBPF(filter.prog, d); err != nil {
				t.Fatalf("run %+v: %v", d, err)
			}
		}
		b, err := filter.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Filter
		if err := back.UnmarshalBinary(b); err != nil || back.flags != filter.flags || !slices.Equal(back.prog, filter.prog) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
