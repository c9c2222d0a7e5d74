package libcontainer

import (
	"testing"

	devices "github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// externalSource decides which of the container's mounts criu saves as a
// reference to the host: binds, masks over files, the devices bound in a
// user namespace, the console.
func TestExternalSource(t *testing.T) {
	cfg := &configs.Config{
		Mounts: []*configs.Mount{
			{Device: "bind", Source: "/srv/data", Destination: "/data/"},
			{Flags: unix.MS_BIND, Source: "/etc/hosts", Destination: "/etc/hosts"},
			{Device: "cgroup", Flags: unix.MS_BIND, Source: "/sys/fs/cgroup", Destination: "/sys/fs/cgroup"},
			{Device: "tmpfs", Source: "tmpfs", Destination: "/tmp"},
		},
		MaskPaths: []string{"/proc/kcore", "/sys/firmware"},
		Devices:   []*devices.Device{{Path: "/dev/null"}},
	}
	userns := *cfg
	userns.Namespaces = configs.Namespaces{{Type: configs.NEWUSER}}
	for _, tc := range []struct {
		cfg        *configs.Config
		mp, fsType string
		src        string
		external   bool
	}{
		{cfg, "/data", "ext4", "/srv/data", true},
		{cfg, "/etc/hosts", "ext4", "/etc/hosts", true},
		{cfg, "/sys/fs/cgroup", "cgroup", "", false},
		{cfg, "/tmp", "tmpfs", "", false},
		{cfg, "/", "overlay", "", false},
		{cfg, "/proc/kcore", "devtmpfs", "/dev/null", true},
		// A masked directory is a tmpfs of the container's own.
		{cfg, "/sys/firmware", "tmpfs", "", false},
		{cfg, "/dev/null", "devtmpfs", "", false},
		{&userns, "/dev/null", "devtmpfs", "/dev/null", true},
		{cfg, "/dev/console", "devpts", "", true},
		{cfg, "/dev/console", "", "", true},
		{cfg, "/dev/console", "tmpfs", "", false},
	} {
		src, ok := externalSource(tc.cfg, tc.mp, tc.fsType)
		if src != tc.src || ok != tc.external {
			t.Errorf("externalSource(%s, %s) = %q, %v, want %q, %v", tc.mp, tc.fsType, src, ok, tc.src, tc.external)
		}
	}
}

func TestFreezerPath(t *testing.T) {
	for _, tc := range []struct {
		paths map[string]string
		want  string
	}{
		{map[string]string{"freezer": "/sys/fs/cgroup/freezer/c", "": "/sys/fs/cgroup/unified/c"}, "/sys/fs/cgroup/freezer/c"},
		{map[string]string{"": "/sys/fs/cgroup/c"}, "/sys/fs/cgroup/c"},
		{nil, ""},
	} {
		if got := freezerPath(&State{CgroupPaths: tc.paths}); got != tc.want {
			t.Errorf("freezerPath(%v) = %q, want %q", tc.paths, got, tc.want)
		}
	}
}
