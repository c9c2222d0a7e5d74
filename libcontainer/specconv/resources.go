package specconv

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// defaultCgroupParent is where containers without a cgroupsPath go, so
// that they stay out of the runtime's own cgroup and are easy to find.
const defaultCgroupParent = "/corral"

// defaultScopePrefix names the systemd scope of a container without a
// cgroupsPath: "corral-<id>.scope".
const defaultScopePrefix = "corral"

// convertCgroup builds c.Cgroups from linux.cgroupsPath and
// linux.resources.
func convertCgroup(c *configs.Config, opts *CreateOpts, linux *specs.Linux) error {
	cg := &configs.Cgroup{
		Systemd: opts.UseSystemdCgroup,
		// With systemd, a runtime without root asks the user's
		// manager, which delegates the user a cgroup to write.
		Rootless:  opts.RootlessCgroups || opts.UseSystemdCgroup && opts.RootlessEUID,
		Resources: &configs.Resources{},
	}
	if err := cgroupPlace(cg, opts, linux.CgroupsPath); err != nil {
		return err
	}
	if opts.UseSystemdCgroup && opts.Spec != nil {
		// Without systemd there is no unit to set them on: ignored,
		// as runc does.
		props, err := systemdProperties(opts.Spec.Annotations)
		if err != nil {
			return err
		}
		cg.SystemdProps = props
	}
	res := linux.Resources
	if res == nil {
		res = &specs.LinuxResources{}
	}
	var err error
	if cg.Resources.Devices, err = deviceRules(res.Devices); err != nil {
		return err
	}
	if err := convertResources(cg.Resources, res); err != nil {
		return err
	}
	c.Cgroups = cg
	return nil
}

// cgroupOwner delegates the container's cgroup, as runc does, when the
// container can manage it: a cgroup namespace of its own and the cgroupfs
// mounted read-write at /sys/fs/cgroup (systemd in a container, or a
// nested runtime). The cgroup (and the files /sys/kernel/cgroup/delegate
// names) then belongs to the host uid of the process's user, the root of
// the user namespace for a container whose process runs as root there.
// Only on cgroup v2 (v2 is true): v1 delegation is not safe, and the
// runtime spec forbids it. A user without a mapping is left to
// validation, which refuses it.
func cgroupOwner(c *configs.Config, p *specs.Process, v2 bool) {
	if !v2 || c.Cgroups == nil || !c.Namespaces.IsPrivate(configs.NEWCGROUP) {
		return
	}
	rw := false
	for _, m := range c.Mounts {
		if (m.Device == "cgroup" || m.Device == "cgroup2") && filepath.Clean(m.Destination) == "/sys/fs/cgroup" && m.Flags&unix.MS_RDONLY == 0 {
			rw = true
		}
	}
	if !rw {
		return
	}
	uid := 0
	if p != nil {
		uid = int(p.User.UID)
	}
	if owner, err := c.HostUID(uid); err == nil {
		c.Cgroups.OwnerUID = &owner
	}
}

// cgroupPlace sets where the cgroup lives. With systemd, cgroupsPath is
// "slice:prefix:name" (the unit is "<prefix>-<name>.scope" in "slice");
// otherwise it is a cgroupfs path, absolute from the cgroup root or
// relative to the runtime's own cgroup.
func cgroupPlace(cg *configs.Cgroup, opts *CreateOpts, path string) error {
	if !opts.UseSystemdCgroup {
		if path == "" {
			if opts.CgroupName == "" {
				return fieldError("linux.cgroupsPath", "empty, and no container id to name the cgroup after")
			}
			path = defaultCgroupParent + "/" + opts.CgroupName
		}
		// Path alone: the cgroups library ignores Name and Parent when
		// Path is set, and configs/validate refuses the ambiguity.
		cg.Path = path
		return nil
	}
	if path == "" {
		if opts.CgroupName == "" {
			return fieldError("linux.cgroupsPath", "empty, and no container id to name the scope after")
		}
		cg.ScopePrefix = defaultScopePrefix
		cg.Name = opts.CgroupName
		return nil
	}
	parts := strings.Split(path, ":")
	if len(parts) != 3 {
		return fieldError("linux.cgroupsPath", "%q is not \"slice:prefix:name\" as systemd cgroups need", path)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	// systemd's own unit name rules are checked where the unit is
	// made; this catches the usual mistake of a path in the slice part.
	if slice != "" && (!strings.HasSuffix(slice, ".slice") || strings.Contains(slice, "/")) {
		return fieldError("linux.cgroupsPath", "%q: parent %q is not a systemd slice", path, slice)
	}
	if name == "" {
		name = opts.CgroupName
	}
	if name == "" {
		return fieldError("linux.cgroupsPath", "%q: no name, and no container id to name the scope after", path)
	}
	cg.Parent, cg.ScopePrefix, cg.Name = slice, prefix, name
	return nil
}

// convertResources maps linux.resources except devices. Kernel memory
// limits (memory.kernel, memory.kernelTCP) are ignored: the kernel
// dropped them, and the spec marks them NOT RECOMMENDED.
func convertResources(r *configs.Resources, res *specs.LinuxResources) error {
	if m := res.Memory; m != nil {
		r.Memory = deref(m.Limit)
		r.MemoryReservation = deref(m.Reservation)
		r.MemorySwap = deref(m.Swap)
		if m.Swappiness != nil {
			if *m.Swappiness > 100 {
				return fieldError("linux.resources.memory.swappiness", "%d is above 100", *m.Swappiness)
			}
			r.MemorySwappiness = ptr(*m.Swappiness)
		}
		r.OomKillDisable = deref(m.DisableOOMKiller)
		r.MemoryCheckBeforeUpdate = deref(m.CheckBeforeUpdate)
	}
	if cpu := res.CPU; cpu != nil {
		r.CpuShares = deref(cpu.Shares)
		r.CpuQuota = deref(cpu.Quota)
		r.CpuPeriod = deref(cpu.Period)
		r.CpuRtRuntime = deref(cpu.RealtimeRuntime)
		r.CpuRtPeriod = deref(cpu.RealtimePeriod)
		r.CpusetCpus = cpu.Cpus
		r.CpusetMems = cpu.Mems
		if cpu.Burst != nil {
			r.CpuBurst = ptr(*cpu.Burst)
		}
		if cpu.Idle != nil {
			r.CPUIdle = ptr(*cpu.Idle)
		}
	}
	if p := res.Pids; p != nil && p.Limit != nil {
		// The spec and the cgroups library agree: 0 is a limit of
		// zero, negative means no limit.
		r.PidsLimit = ptr(*p.Limit)
	}
	if b := res.BlockIO; b != nil {
		if err := convertBlockIO(r, b); err != nil {
			return err
		}
	}
	for _, h := range res.HugepageLimits {
		r.HugetlbLimit = append(r.HugetlbLimit, &cgroups.HugepageLimit{Pagesize: h.Pagesize, Limit: h.Limit})
	}
	if n := res.Network; n != nil {
		r.NetClsClassid = deref(n.ClassID)
		for _, p := range n.Priorities {
			r.NetPrioIfpriomap = append(r.NetPrioIfpriomap, &cgroups.IfPrioMap{Interface: p.Name, Priority: int64(p.Priority)})
		}
	}
	if len(res.Rdma) > 0 {
		r.Rdma = make(map[string]cgroups.LinuxRdma, len(res.Rdma))
		for dev, l := range res.Rdma {
			if l.HcaHandles == nil && l.HcaObjects == nil {
				return fieldError(fmt.Sprintf("linux.resources.rdma[%q]", dev), "sets neither hcaHandles nor hcaObjects")
			}
			var out cgroups.LinuxRdma
			if l.HcaHandles != nil {
				out.HcaHandles = ptr(*l.HcaHandles)
			}
			if l.HcaObjects != nil {
				out.HcaObjects = ptr(*l.HcaObjects)
			}
			r.Rdma[dev] = out
		}
	}
	r.Unified = maps.Clone(res.Unified)
	return nil
}

func convertBlockIO(r *configs.Resources, b *specs.LinuxBlockIO) error {
	r.BlkioWeight = deref(b.Weight)
	r.BlkioLeafWeight = deref(b.LeafWeight)
	for i, wd := range b.WeightDevice {
		if wd.Weight == nil && wd.LeafWeight == nil {
			return fieldError(fmt.Sprintf("linux.resources.blockIO.weightDevice[%d]", i), "sets neither weight nor leafWeight")
		}
		r.BlkioWeightDevice = append(r.BlkioWeightDevice,
			cgroups.NewWeightDevice(wd.Major, wd.Minor, deref(wd.Weight), deref(wd.LeafWeight)))
	}
	r.BlkioThrottleReadBpsDevice = throttle(b.ThrottleReadBpsDevice)
	r.BlkioThrottleWriteBpsDevice = throttle(b.ThrottleWriteBpsDevice)
	r.BlkioThrottleReadIOPSDevice = throttle(b.ThrottleReadIOPSDevice)
	r.BlkioThrottleWriteIOPSDevice = throttle(b.ThrottleWriteIOPSDevice)
	return nil
}

func throttle(in []specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	if len(in) == 0 {
		return nil
	}
	out := make([]*cgroups.ThrottleDevice, 0, len(in))
	for _, t := range in {
		out = append(out, cgroups.NewThrottleDevice(t.Major, t.Minor, t.Rate))
	}
	return out
}

// deref is the value behind p, or the zero value that the cgroups library
// reads as "leave as is".
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// ptr copies v, so that the config never shares memory with the spec.
func ptr[T any](v T) *T { return &v }

// MergeResources applies to res, a running container's resources, the
// parts of r that are set, as `corral update --resources` does: what r
// leaves unset stays as it is. Per-device and per-name lists (weight
// devices, throttles, huge page limits, network priorities, rdma, unified
// entries) are merged by their key: the entry r gives for a device
// replaces the old one, and the others stay, as the kernel keeps them.
// Values are checked as at create.
//
// r.Devices is not applied: device rules are the container's from its
// start, and rewriting them would revoke access granted since (a device
// plugin, such as NVIDIA's, grants its devices in the cgroup itself). runc
// skips them too; engines send the whole linux.resources, devices
// included, with every update.
//
// On cgroup v1 a memory limit of -1 with no swap given lifts the
// memory+swap limit as well: the kernel refuses a memory limit above the
// memory+swap one.
func MergeResources(res *configs.Resources, r *specs.LinuxResources) error {
	var in configs.Resources
	if err := convertResources(&in, r); err != nil {
		return err
	}
	if m := r.Memory; m != nil {
		set(&res.Memory, m.Limit)
		set(&res.MemoryReservation, m.Reservation)
		set(&res.MemorySwap, m.Swap)
		if m.Limit != nil && *m.Limit == -1 && m.Swap == nil && !cgroups.IsCgroup2UnifiedMode() {
			res.MemorySwap = -1
		}
		if m.Swappiness != nil {
			res.MemorySwappiness = in.MemorySwappiness
		}
		set(&res.OomKillDisable, m.DisableOOMKiller)
		set(&res.MemoryCheckBeforeUpdate, m.CheckBeforeUpdate)
	}
	if c := r.CPU; c != nil {
		set(&res.CpuShares, c.Shares)
		set(&res.CpuQuota, c.Quota)
		set(&res.CpuPeriod, c.Period)
		set(&res.CpuRtRuntime, c.RealtimeRuntime)
		set(&res.CpuRtPeriod, c.RealtimePeriod)
		if c.Burst != nil {
			res.CpuBurst = in.CpuBurst
		}
		if c.Idle != nil {
			res.CPUIdle = in.CPUIdle
		}
		if c.Cpus != "" {
			res.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			res.CpusetMems = c.Mems
		}
	}
	if b := r.BlockIO; b != nil {
		set(&res.BlkioWeight, b.Weight)
		set(&res.BlkioLeafWeight, b.LeafWeight)
		res.BlkioWeightDevice = mergeBy(res.BlkioWeightDevice, in.BlkioWeightDevice, func(d *cgroups.WeightDevice) [2]int64 { return [2]int64{d.Major, d.Minor} })
		throttleKey := func(d *cgroups.ThrottleDevice) [2]int64 { return [2]int64{d.Major, d.Minor} }
		res.BlkioThrottleReadBpsDevice = mergeBy(res.BlkioThrottleReadBpsDevice, in.BlkioThrottleReadBpsDevice, throttleKey)
		res.BlkioThrottleWriteBpsDevice = mergeBy(res.BlkioThrottleWriteBpsDevice, in.BlkioThrottleWriteBpsDevice, throttleKey)
		res.BlkioThrottleReadIOPSDevice = mergeBy(res.BlkioThrottleReadIOPSDevice, in.BlkioThrottleReadIOPSDevice, throttleKey)
		res.BlkioThrottleWriteIOPSDevice = mergeBy(res.BlkioThrottleWriteIOPSDevice, in.BlkioThrottleWriteIOPSDevice, throttleKey)
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		res.PidsLimit = in.PidsLimit
	}
	res.HugetlbLimit = mergeBy(res.HugetlbLimit, in.HugetlbLimit, func(h *cgroups.HugepageLimit) string { return h.Pagesize })
	if n := r.Network; n != nil {
		set(&res.NetClsClassid, n.ClassID)
		res.NetPrioIfpriomap = mergeBy(res.NetPrioIfpriomap, in.NetPrioIfpriomap, func(p *cgroups.IfPrioMap) string { return p.Interface })
	}
	for dev, l := range in.Rdma {
		if res.Rdma == nil {
			res.Rdma = make(map[string]cgroups.LinuxRdma, len(in.Rdma))
		}
		res.Rdma[dev] = l
	}
	for k, v := range in.Unified {
		if res.Unified == nil {
			res.Unified = make(map[string]string, len(in.Unified))
		}
		res.Unified[k] = v
	}
	return nil
}

// set copies *v to *dst when v is set.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// mergeBy returns old with each entry of updates in place of the old
// entry of the same key, and the updates with a new key appended. The
// result shares no entry with old's backing array.
func mergeBy[E any, K comparable](old, updates []*E, key func(*E) K) []*E {
	if len(updates) == 0 {
		return old
	}
	out := slices.Clone(old)
	for _, u := range updates {
		if i := slices.IndexFunc(out, func(e *E) bool { return key(e) == key(u) }); i >= 0 {
			out[i] = u
		} else {
			out = append(out, u)
		}
	}
	return out
}
