package libcontainer

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Only the kernel's own filesystems may cover /proc and /sys
// (CVE-2019-16884).
func TestCheckReservedDestination(t *testing.T) {
	for _, tc := range []struct {
		m  configs.Mount
		ok bool
	}{
		{configs.Mount{Device: "proc", Destination: "/proc"}, true},
		{configs.Mount{Device: "tmpfs", Destination: "/proc"}, false},
		{configs.Mount{Device: "bind", Source: "/tmp/fake", Destination: "/proc/"}, false},
		{configs.Mount{Device: "tmpfs", Destination: "//proc/."}, false},
		{configs.Mount{Device: "sysfs", Destination: "/sys"}, true},
		{configs.Mount{Device: "bind", Source: "/sys", Destination: "/sys"}, true},
		{configs.Mount{Flags: unix.MS_BIND | unix.MS_REC, Source: "/sys/", Destination: "/sys"}, true},
		{configs.Mount{Device: "bind", Source: "/tmp/sys", Destination: "/sys"}, false},
		{configs.Mount{Device: "tmpfs", Destination: "/sys"}, false},
		// Below them anything goes: the kernel's files are elsewhere.
		{configs.Mount{Device: "tmpfs", Destination: "/proc/acpi"}, true},
		{configs.Mount{Device: "tmpfs", Destination: "/sys/firmware"}, true},
		{configs.Mount{Device: "tmpfs", Destination: "/tmp"}, true},
	} {
		if err := checkReservedDestination(&tc.m); tc.ok != (err == nil) {
			t.Errorf("%+v: %v, want ok %v", tc.m, err, tc.ok)
		}
	}
}
