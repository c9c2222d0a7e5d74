package validate

import (
	"fmt"

	"github.com/opencontainers/cgroups"
)

// v1OnlyOnV2 refuses, on a host of cgroup v2 alone, the limits that only
// cgroup v1 controllers have: cgroup v2 has no file for them, and the
// cgroup managers would drop them without a word (as runc does). Engines
// already leave them out there: Docker and podman discard them with a
// warning, Kubernetes never sets them.
func (v *checker) v1OnlyOnV2(r *cgroups.Resources) {
	if !v.m.cgroup2 {
		return
	}
	const why = "has no cgroup v2 equivalent, and this host has cgroup v2 alone"
	// Above 100 it is refused as out of range already.
	if r.MemorySwappiness != nil && *r.MemorySwappiness <= 100 {
		v.failf(res+"memory_swappiness", *r.MemorySwappiness, why)
	}
	if r.OomKillDisable {
		v.failf(res+"oom_kill_disable", true, why+" (memory.oom.group in unified is the nearest)")
	}
	if r.CpuRtRuntime != 0 {
		v.failf(res+"cpu_rt_quota", r.CpuRtRuntime, why+" (no realtime group scheduling)")
	}
	if r.CpuRtPeriod != 0 {
		v.failf(res+"cpu_rt_period", r.CpuRtPeriod, why+" (no realtime group scheduling)")
	}
	if r.BlkioLeafWeight != 0 {
		v.failf(res+"blkio_leaf_weight", r.BlkioLeafWeight, why)
	}
	for i, d := range r.BlkioWeightDevice {
		if d != nil && d.LeafWeight != 0 {
			v.failf(fmt.Sprintf(res+"blkio_weight_device[%d].leafWeight", i), d.LeafWeight, why)
		}
	}
	if r.NetClsClassid != 0 {
		v.failf(res+"net_cls_classid_u", r.NetClsClassid, why+" (net_cls is a cgroup v1 controller)")
	}
	if len(r.NetPrioIfpriomap) > 0 {
		v.failf(res+"net_prio_ifpriomap", nil, why+" (net_prio is a cgroup v1 controller)")
	}
}
