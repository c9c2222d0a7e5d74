package libcontainer

import (
	"reflect"
	"syscall"
	"testing"

	"github.com/corral-oci/corral/libcontainer/configs"
)

func TestFormatIDMap(t *testing.T) {
	for _, tc := range []struct {
		maps []configs.IDMap
		want string
	}{
		{nil, ""},
		{[]configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}}, "0 1000 1\n"},
		{[]configs.IDMap{
			{ContainerID: 0, HostID: 100000, Size: 65536},
			{ContainerID: 65536, HostID: 4294901760, Size: 65535},
		}, "0 100000 65536\n65536 4294901760 65535\n"},
	} {
		if got := string(formatIDMap(tc.maps)); got != tc.want {
			t.Errorf("formatIDMap(%v) = %q, want %q", tc.maps, got, tc.want)
		}
	}
}

// ownIDsOnly decides whether a user without root can write the map
// itself: the kernel allows exactly its own id, once.
func TestOwnIDsOnly(t *testing.T) {
	for _, tc := range []struct {
		maps []configs.IDMap
		want bool
	}{
		{[]configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}}, true},
		{[]configs.IDMap{{ContainerID: 5, HostID: 1000, Size: 1}}, true},
		{nil, false},
		{[]configs.IDMap{{ContainerID: 0, HostID: 1001, Size: 1}}, false},
		{[]configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 2}}, false},
		{[]configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 10}}, false},
	} {
		if got := ownIDsOnly(tc.maps, 1000); got != tc.want {
			t.Errorf("ownIDsOnly(%v, 1000) = %v, want %v", tc.maps, got, tc.want)
		}
	}
}

func TestSysIDMap(t *testing.T) {
	got := sysIDMap([]configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 65536, HostID: 1, Size: 2}})
	want := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 65536, HostID: 1, Size: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sysIDMap = %v, want %v", got, want)
	}
}
