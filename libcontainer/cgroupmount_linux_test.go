package libcontainer

import (
	"testing"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// cgroupDirFor finds the container's directory in a hierarchy by any of
// its controllers, named hierarchies by their name= key.
func TestCgroupDirFor(t *testing.T) {
	paths := map[string]string{
		"cpu":          "/sys/fs/cgroup/cpu,cpuacct/c",
		"memory":       "/sys/fs/cgroup/memory/c",
		"name=systemd": "/sys/fs/cgroup/systemd/c",
		"":             "/sys/fs/cgroup/unified/c",
	}
	for _, tc := range []struct {
		subsystems []string
		want       string
	}{
		{[]string{"cpu", "cpuacct"}, "/sys/fs/cgroup/cpu,cpuacct/c"},
		{[]string{"cpuacct", "cpu"}, "/sys/fs/cgroup/cpu,cpuacct/c"},
		{[]string{"memory"}, "/sys/fs/cgroup/memory/c"},
		{[]string{"systemd"}, "/sys/fs/cgroup/systemd/c"},
		{[]string{"pids"}, ""},
		{nil, ""},
	} {
		if got := cgroupDirFor(paths, tc.subsystems); got != tc.want {
			t.Errorf("cgroupDirFor(%v) = %q, want %q", tc.subsystems, got, tc.want)
		}
	}
}

func TestIsCgroupMount(t *testing.T) {
	for dev, want := range map[string]bool{"cgroup": true, "cgroup2": true, "bind": false, "tmpfs": false, "": false} {
		if got := isCgroupMount(&configs.Mount{Device: dev}); got != want {
			t.Errorf("isCgroupMount(%q) = %v, want %v", dev, got, want)
		}
	}
}
