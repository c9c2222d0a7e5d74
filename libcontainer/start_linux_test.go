package libcontainer

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// timeOffsets writes the clocks in a fixed order, whatever the map's.
func TestTimeOffsets(t *testing.T) {
	for _, tc := range []struct {
		offsets map[string]specs.LinuxTimeOffset
		want    string
	}{
		{nil, ""},
		{map[string]specs.LinuxTimeOffset{"boottime": {Secs: 5}}, "boottime 5 0\n"},
		{map[string]specs.LinuxTimeOffset{
			"boottime":  {Secs: -1, Nanosecs: 2},
			"monotonic": {Secs: 86400, Nanosecs: 999999999},
		}, "monotonic 86400 999999999\nboottime -1 2\n"},
		// Validation refuses other clocks; they are not written.
		{map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}, ""},
	} {
		if got := timeOffsets(tc.offsets); got != tc.want {
			t.Errorf("timeOffsets(%v) = %q, want %q", tc.offsets, got, tc.want)
		}
	}
}
