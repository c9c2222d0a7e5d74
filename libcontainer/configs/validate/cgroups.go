package validate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
)

// res prefixes the fields of the cgroup's Resources. Their JSON sits
// directly in "cgroups" (Resources is embedded), but naming them by the Go
// field keeps limits apart from the cgroup's placement in messages.
const res = "cgroups.resources."

func (v *checker) cgroups() {
	cg := v.c.Cgroups
	if cg == nil {
		return
	}
	switch {
	case cg.Systemd:
		// systemd places a unit by parent slice and name; a path has
		// no meaning there and would suggest a place it does not use.
		if cg.Path != "" {
			v.failf("cgroups.path", cg.Path, "is not used with systemd; give a parent slice and a name")
		}
		if cg.Name == "" {
			v.failf("cgroups.name", nil, "must be set: systemd names the unit after it")
		}
	// The cgroups library's fs managers refuse a path with a name or a
	// parent; with neither, the cgroup would be the runtime's own and the
	// container's limits would land on the runtime.
	case cg.Path != "" && (cg.Name != "" || cg.Parent != ""):
		v.failf("cgroups.path", cg.Path, "is set along with a name or parent; give a path, or a name with an optional parent")
	case cg.Path == "" && cg.Name == "" && cg.Parent != "":
		v.failf("cgroups.name", nil, "must be set with parent %q", cg.Parent)
	case cg.Path == "" && cg.Name == "":
		v.failf("cgroups", nil, "needs a path, or a name with an optional parent")
	}
	for _, p := range []struct{ field, value string }{
		{"cgroups.path", cg.Path},
		{"cgroups.name", cg.Name},
		{"cgroups.parent", cg.Parent},
	} {
		if hasDotDot(p.value) {
			v.failf(p.field, p.value, `has a ".." component; a cgroup cannot climb its hierarchy`)
		}
	}
	if cg.Systemd && cg.Parent != "" && !strings.HasSuffix(cg.Parent, ".slice") {
		v.failf("cgroups.parent", cg.Parent, "is not a systemd slice (NAME.slice)")
	}
	if cg.OwnerUID != nil && (*cg.OwnerUID < 0 || *cg.OwnerUID > maxID) {
		v.failf("cgroups.owner_uid", *cg.OwnerUID, "is not a uid")
	}
	if cg.OwnerUID != nil && !v.m.cgroup2 {
		v.failf("cgroups.owner_uid", *cg.OwnerUID, "delegates the cgroup, which only a host of cgroup v2 alone can do safely")
	}
	if cg.Resources != nil {
		v.resources(cg.Resources)
	}
}

func hasDotDot(p string) bool {
	return slices.Contains(strings.FieldsFunc(p, func(r rune) bool { return r == '/' }), "..")
}

func (v *checker) resources(r *cgroups.Resources) {
	v.memory(r)
	v.cpu(r)
	if r.PidsLimit != nil && *r.PidsLimit < -1 {
		v.failf(res+"pids_limit", *r.PidsLimit, "is below -1 (-1 means no limit)")
	}
	v.blkio(r)
	switch r.Freezer {
	case cgroups.Undefined, cgroups.Frozen, cgroups.Thawed:
	default:
		v.failf(res+"freezer", string(r.Freezer), "is not FROZEN or THAWED")
	}
	v.hugetlb(r)
	for i, p := range r.NetPrioIfpriomap {
		f := fmt.Sprintf(res+"net_prio_ifpriomap[%d]", i)
		switch {
		case p == nil:
			v.failf(f, nil, "is null")
		case ifnameProblem(p.Interface) != "":
			v.failf(f+".interface", p.Interface, "is not an interface name: %s", ifnameProblem(p.Interface))
		}
	}
	for _, dev := range slices.Sorted(maps.Keys(r.Rdma)) {
		if dev == "" || strings.ContainsAny(dev, " \t\n/") {
			v.failf(res+"rdma", dev, "is not an RDMA device name")
		}
	}
	v.unified(r.Unified)
	v.v1OnlyOnV2(r)
	v.deviceRules(r)
}

// unlimited is how the cgroups library spells "no limit" in a signed
// field; any other negative number is a mistake.
const unlimited = -1

func (v *checker) memory(r *cgroups.Resources) {
	for _, m := range []struct {
		field string
		value int64
	}{
		{"memory", r.Memory},
		{"memory_reservation", r.MemoryReservation},
		{"memory_swap", r.MemorySwap},
	} {
		if m.value < unlimited {
			v.failf(res+m.field, m.value, "is below -1 (-1 means no limit)")
		}
	}
	// memory_swap is memory and swap together, so below memory it would
	// leave no room for the memory itself.
	if r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		v.failf(res+"memory_swap", r.MemorySwap, "is below memory %d", r.Memory)
	}
	if s := r.MemorySwappiness; s != nil && *s > 100 {
		v.failf(res+"memory_swappiness", *s, "is not within 0 to 100")
	}
}

// The kernel's bounds for the cpu controller, from kernel/sched.
const (
	minShares, maxShares = 2, 262144
	minWeight, maxWeight = 1, 10000
	minPeriod, maxPeriod = 1000, 1000000 // microseconds
	minQuota             = 1000          // microseconds
)

func (v *checker) cpu(r *cgroups.Resources) {
	if s := r.CpuShares; s != 0 && (s < minShares || s > maxShares) {
		v.failf(res+"cpu_shares", s, "is not within %d to %d", minShares, maxShares)
	}
	if w := r.CpuWeight; w != 0 && (w < minWeight || w > maxWeight) {
		v.failf(res+"cpu_weight", w, "is not within %d to %d", minWeight, maxWeight)
	}
	switch q := r.CpuQuota; {
	case q < unlimited:
		v.failf(res+"cpu_quota", q, "is below -1 (-1 means no limit)")
	case q > 0 && q < minQuota:
		v.failf(res+"cpu_quota", q, "is below the kernel's minimum of %d microseconds", minQuota)
	}
	if p := r.CpuPeriod; p != 0 && (p < minPeriod || p > maxPeriod) {
		v.failf(res+"cpu_period", p, "is not within %d to %d microseconds", minPeriod, maxPeriod)
	}
	// The kernel takes a burst only up to the quota it extends.
	if b := r.CpuBurst; b != nil && *b > 0 && r.CpuQuota > 0 && *b > uint64(r.CpuQuota) {
		v.failf(res+"cpu_burst", *b, "exceeds cpu_quota %d", r.CpuQuota)
	}
	switch rt := r.CpuRtRuntime; {
	case rt < unlimited:
		v.failf(res+"cpu_rt_quota", rt, "is below -1 (-1 means no limit)")
	case rt > 0 && r.CpuRtPeriod > 0 && uint64(rt) > r.CpuRtPeriod:
		v.failf(res+"cpu_rt_quota", rt, "exceeds cpu_rt_period %d", r.CpuRtPeriod)
	}
	if i := r.CPUIdle; i != nil && *i != 0 && *i != 1 {
		v.failf(res+"cpu_idle", *i, "is not 0 or 1")
	}
	if s := r.CpusetCpus; s != "" {
		v.cpuList(res+"cpuset_cpus", s, v.m.cpus, "cpu")
	}
	if s := r.CpusetMems; s != "" {
		v.cpuList(res+"cpuset_mems", s, v.m.nodes, "memory node")
	}
}

const minBlkioWeight, maxBlkioWeight = 10, 1000

func (v *checker) blkioWeight(field string, w uint16) {
	if w != 0 && (w < minBlkioWeight || w > maxBlkioWeight) {
		v.failf(field, w, "is not within %d to %d", minBlkioWeight, maxBlkioWeight)
	}
}

func (v *checker) blockDevice(field string, major, minor int64) {
	if major < 0 || major > maxMajor {
		v.failf(field+".major", major, "is not a major number (0 to %d)", maxMajor)
	}
	if minor < 0 || minor > maxMinor {
		v.failf(field+".minor", minor, "is not a minor number (0 to %d)", maxMinor)
	}
}

func (v *checker) blkio(r *cgroups.Resources) {
	v.blkioWeight(res+"blkio_weight", r.BlkioWeight)
	v.blkioWeight(res+"blkio_leaf_weight", r.BlkioLeafWeight)
	for i, d := range r.BlkioWeightDevice {
		f := fmt.Sprintf(res+"blkio_weight_device[%d]", i)
		if d == nil {
			v.failf(f, nil, "is null")
			continue
		}
		v.blockDevice(f, d.Major, d.Minor)
		v.blkioWeight(f+".weight", d.Weight)
		v.blkioWeight(f+".leafWeight", d.LeafWeight)
	}
	for _, t := range []struct {
		field string
		devs  []*cgroups.ThrottleDevice
	}{
		{"blkio_throttle_read_bps_device", r.BlkioThrottleReadBpsDevice},
		{"blkio_throttle_write_bps_device", r.BlkioThrottleWriteBpsDevice},
		{"blkio_throttle_read_iops_device", r.BlkioThrottleReadIOPSDevice},
		{"blkio_throttle_write_iops_device", r.BlkioThrottleWriteIOPSDevice},
	} {
		for i, d := range t.devs {
			f := fmt.Sprintf("%s%s[%d]", res, t.field, i)
			if d == nil {
				v.failf(f, nil, "is null")
				continue
			}
			v.blockDevice(f, d.Major, d.Minor)
		}
	}
}

func (v *checker) hugetlb(r *cgroups.Resources) {
	for i, h := range r.HugetlbLimit {
		f := fmt.Sprintf(res+"hugetlb_limit[%d]", i)
		if h == nil {
			v.failf(f, nil, "is null")
			continue
		}
		f += ".page_size"
		switch {
		case !isPageSizeName(h.Pagesize):
			v.failf(f, h.Pagesize, `is not a page size like "2MB" or "1GB"`)
		case len(v.m.hugePages) == 0:
			v.failf(f, h.Pagesize, "is not available: this machine has no huge pages")
		case !slices.Contains(v.m.hugePages, h.Pagesize):
			v.failf(f, h.Pagesize, "is not a huge page size of this machine (%s)", strings.Join(v.m.hugePages, ", "))
		}
	}
}

// isPageSizeName accepts the kernel's spelling, which the controller's
// file names carry ("hugetlb.2MB.limit_in_bytes"): digits, then KB, MB or
// GB.
func isPageSizeName(s string) bool {
	for _, unit := range []string{"KB", "MB", "GB"} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			_, err := strconv.ParseUint(n, 10, 64)
			return err == nil && n[0] != '0'
		}
	}
	return false
}

// unifiedCgroupFiles are the cgroup.* files a container may tune; the
// others move processes, change the tree or only report.
var unifiedCgroupFiles = map[string]bool{
	"cgroup.max.depth":       true,
	"cgroup.max.descendants": true,
}

func (v *checker) unified(u map[string]string) {
	if len(u) == 0 {
		return
	}
	if !v.m.cgroup2 {
		// runc's words, which engines and scripts look for.
		v.failf(res+"unified", nil, "invalid configuration: cannot use unified on cgroup v1 (this host has cgroup v1 controllers; unified needs cgroup v2 alone)")
	}
	for _, k := range slices.Sorted(maps.Keys(u)) {
		f := fmt.Sprintf("%sunified %q", res, k)
		ctrl, file, ok := strings.Cut(k, ".")
		switch {
		case strings.ContainsAny(k, "/\x00") || strings.Contains(k, ".."):
			v.failf(f, nil, `is not a file of the cgroup: it has a "/" or ".."`)
		case !ok || ctrl == "" || file == "" || strings.HasSuffix(file, "."):
			v.failf(f, nil, `is not a "controller.file" name`)
		case ctrl == "cgroup" && !unifiedCgroupFiles[k]:
			v.failf(f, nil, "is not a file a container may set (of cgroup.*, only cgroup.max.depth and cgroup.max.descendants)")
		}
	}
}

func (v *checker) deviceRules(r *cgroups.Resources) {
	for i, d := range r.Devices {
		f := fmt.Sprintf(res+"devices[%d]", i)
		if d == nil {
			v.failf(f, nil, "is null")
			continue
		}
		if !d.Type.CanCgroup() {
			v.failf(f+".type", string(rune(d.Type)), "is not a device type of a cgroup rule (a, b or c)")
		}
		if d.Major < -1 {
			v.failf(f+".major", d.Major, "is below -1 (-1 means any)")
		}
		if d.Minor < -1 {
			v.failf(f+".minor", d.Minor, "is below -1 (-1 means any)")
		}
		if !validPermissions(string(d.Permissions)) || d.Permissions == "" {
			v.failf(f+".permissions", string(d.Permissions), `is not a combination of "r", "w" and "m"`)
		}
	}
}
