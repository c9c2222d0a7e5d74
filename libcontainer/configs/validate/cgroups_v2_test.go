package validate

import (
	"slices"
	"testing"

	"github.com/opencontainers/cgroups"
)

// What cgroup v2 has no file for is refused there, naming the field, and
// accepted on cgroup v1.
func TestV1OnlyLimitsOnV2(t *testing.T) {
	swappiness := uint64(10)
	v1Only := cgroups.Resources{
		MemorySwappiness:  &swappiness,
		OomKillDisable:    true,
		CpuRtRuntime:      1000,
		CpuRtPeriod:       10000,
		BlkioLeafWeight:   100,
		BlkioWeightDevice: []*cgroups.WeightDevice{cgroups.NewWeightDevice(7, 0, 100, 0), cgroups.NewWeightDevice(7, 1, 0, 200)},
		NetClsClassid:     0x100001,
		NetPrioIfpriomap:  []*cgroups.IfPrioMap{{Interface: "lo", Priority: 1}},
	}
	want := []string{
		"cgroups.resources.blkio_leaf_weight", "cgroups.resources.blkio_weight_device[1].leafWeight",
		"cgroups.resources.cpu_rt_period", "cgroups.resources.cpu_rt_quota", "cgroups.resources.memory_swappiness",
		"cgroups.resources.net_cls_classid_u", "cgroups.resources.net_prio_ifpriomap", "cgroups.resources.oom_kill_disable",
	}
	for _, v2 := range []bool{true, false} {
		c := goodConfig(t)
		r := v1Only
		r.Devices = c.Cgroups.Resources.Devices
		c.Cgroups.Resources = &r
		got := fieldsOf(errs(t, check(c, fakeMachine(func(m *machine) { m.cgroup2 = v2 }))))
		slices.Sort(got)
		if v2 && !slices.Equal(got, want) {
			t.Errorf("cgroup v2: fields = %q, want %q", got, want)
		}
		if !v2 && len(got) > 0 {
			t.Errorf("cgroup v1: fields = %q, want none", got)
		}
	}
}

// Delegating a cgroup is for cgroup v2 alone: on v1 the owner is refused.
func TestOwnerUIDOnV1(t *testing.T) {
	for _, v2 := range []bool{true, false} {
		c := goodConfig(t)
		owner := 100000
		c.Cgroups.OwnerUID = &owner
		got := fieldsOf(errs(t, check(c, fakeMachine(func(m *machine) { m.cgroup2 = v2 }))))
		if v2 && len(got) > 0 {
			t.Errorf("cgroup v2: fields = %q, want none", got)
		}
		if !v2 && !slices.Equal(got, []string{"cgroups.owner_uid"}) {
			t.Errorf("cgroup v1: fields = %q, want cgroups.owner_uid", got)
		}
	}
}
