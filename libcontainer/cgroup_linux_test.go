package libcontainer

import (
	"testing"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// cgroupConfig hands the managers a cgroup with resources, and a copy:
// the config's own Cgroup is not written.
func TestCgroupConfig(t *testing.T) {
	if cg := cgroupConfig(&configs.Config{}); cg != nil {
		t.Errorf("no cgroup: %+v", cg)
	}
	own := &configs.Cgroup{Path: "/a"}
	cg := cgroupConfig(&configs.Config{Cgroups: own})
	if cg == own || cg.Path != "/a" || cg.Resources == nil {
		t.Errorf("no resources: %+v", cg)
	}
	if own.Resources != nil {
		t.Error("the config's Cgroup got the resources")
	}
	res := &configs.Resources{PidsLimit: ptrTo(int64(5))}
	if cg := cgroupConfig(&configs.Config{Cgroups: &configs.Cgroup{Resources: res}}); cg.Resources != res {
		t.Errorf("resources replaced: %+v", cg.Resources)
	}
}

// requestedLimit names the limits a container without a cgroup cannot
// have; device rules are not limits.
func TestRequestedLimit(t *testing.T) {
	for _, tc := range []struct {
		res  cgroups.Resources
		want string
	}{
		{cgroups.Resources{}, ""},
		{cgroups.Resources{Devices: []*devices.Rule{{Type: devices.WildcardDevice, Allow: true}}}, ""},
		{cgroups.Resources{SkipDevices: true}, ""},
		{cgroups.Resources{PidsLimit: ptrTo(int64(0))}, ""},
		{cgroups.Resources{PidsLimit: ptrTo(int64(-1))}, ""},
		{cgroups.Resources{PidsLimit: ptrTo(int64(10))}, "pids_limit"},
		{cgroups.Resources{Memory: 1 << 20}, "memory"},
		{cgroups.Resources{MemorySwappiness: ptrTo(uint64(0))}, "memory_swappiness"},
		{cgroups.Resources{CpuWeight: 100}, "cpu_shares"},
		{cgroups.Resources{CpuPeriod: 100000}, "cpu_quota"},
		{cgroups.Resources{CpusetMems: "0"}, "cpuset_cpus"},
		{cgroups.Resources{BlkioWeight: 10}, "blkio"},
		{cgroups.Resources{HugetlbLimit: []*cgroups.HugepageLimit{{Pagesize: "2MB", Limit: 1}}}, "hugetlb_limit"},
		{cgroups.Resources{OomKillDisable: true}, "oom_kill_disable"},
		{cgroups.Resources{NetClsClassid: 1}, "net"},
		{cgroups.Resources{Unified: map[string]string{"memory.high": "1M"}}, "unified"},
	} {
		if got := requestedLimit(&tc.res); got != tc.want {
			t.Errorf("requestedLimit(%+v) = %q, want %q", tc.res, got, tc.want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
