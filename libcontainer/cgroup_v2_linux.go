package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/cgroups"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// The cpu controller's proportional share has two scales: cpu.shares on
// cgroup v1 (2 to 262144, default 1024) and cpu.weight on cgroup v2 (1 to
// 10000, default 100). The OCI spec, and so every engine, speaks shares;
// the cgroup managers write only the one of their version and leave the
// conversion to their caller.
//
// The conversion is the one runc uses since 1.3.2 (and crun since 1.23),
// the cgroups library's ConvertCPUSharesToCgroupV2Value: a curve in
// log2(shares) through both ends and through the defaults, 1024 shares to
// weight 100. The kernel gives a v1 group of 1024 shares the load weight
// of a v2 group of weight 100 (the nice-0 weight, sched_weight_from_cgroup),
// so a container keeps its standing beside the host's services; the
// linear map of runc 1.1 and 1.2 made 1024 shares weight 39. Figures:
// 2 -> 1, 256 -> 35, 512 -> 59, 1024 -> 100, 2048 -> 174, 262144 -> 10000.
const (
	minShares, maxShares = 2, 262144
	minWeight, maxWeight = 1, 10000
)

// sharesToWeight converts cpu.shares to cpu.weight; 0 (unset) stays 0,
// values past the shares range take the weight range's ends.
func sharesToWeight(shares uint64) uint64 {
	return cgroups.ConvertCPUSharesToCgroupV2Value(shares)
}

// weightToShares converts cpu.weight back to cpu.shares: the most shares
// that sharesToWeight maps onto weight, so that the round trip keeps the
// weight and the defaults meet (100 is 1024, where the curve is exact and
// the ceiling of the forward conversion gives 1012 to 1024 weight 100).
// The curve rises by at most one weight a share, so every weight has
// shares; it is monotonic, so a bisection finds them.
func weightToShares(weight uint64) uint64 {
	switch {
	case weight == 0:
		return 0
	case weight >= maxWeight:
		return maxShares
	}
	// The least shares past weight, less one.
	lo, hi := uint64(minShares), uint64(maxShares)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if sharesToWeight(mid) <= weight {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}

// managerResources returns the resources to hand a cgroup manager: r, or
// a copy with the proportional CPU share in the scale of this host's
// cgroup version when r gives it only in the other one. A weight given
// beside shares is the caller's choice for cgroup v2 and wins there.
func managerResources(r *configs.Resources) *configs.Resources {
	return resourcesFor(r, cgroups.IsCgroup2UnifiedMode())
}

// resourcesFor is managerResources for a host of cgroup v2 alone (v2) or
// of cgroup v1 controllers.
func resourcesFor(r *configs.Resources, v2 bool) *configs.Resources {
	if r == nil {
		return nil
	}
	switch {
	case v2 && r.CpuShares != 0 && r.CpuWeight == 0:
		c := *r
		c.CpuWeight = sharesToWeight(r.CpuShares)
		return &c
	case !v2 && r.CpuWeight != 0 && r.CpuShares == 0:
		c := *r
		c.CpuShares = weightToShares(r.CpuWeight)
		return &c
	}
	return r
}

// setIOWeightDevices sets the per-device I/O weights that the cgroup v2
// managers write only to BFQ's io.bfq.weight, and drop without a word
// when the kernel has no BFQ: there, io.weight (the iocost controller)
// takes them, in its scale. The kernel refuses a device on which iocost
// is not enabled (io.cost.qos of the root cgroup); that error names the
// field, rather than the weight being lost.
func setIOWeightDevices(m cgroups.Manager, r *configs.Resources) error {
	if len(r.BlkioWeightDevice) == 0 || !cgroups.IsCgroup2UnifiedMode() {
		return nil
	}
	dir, ok := m.GetPaths()[""]
	if !ok {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "io.bfq.weight")); err == nil {
		return nil // the manager wrote them there
	}
	for i, d := range r.BlkioWeightDevice {
		if d.Weight == 0 {
			continue
		}
		line := fmt.Sprintf("%d:%d %d", d.Major, d.Minor, cgroups.ConvertBlkIOToIOWeightValue(d.Weight))
		if err := cgroups.WriteFile(dir, "io.weight", line); err != nil {
			return fmt.Errorf("cgroups.resources.blkio_weight_device[%d]: device %d:%d: no BFQ, and io.weight refuses %q (is iocost enabled for the device in io.cost.qos?): %w",
				i, d.Major, d.Minor, line, err)
		}
	}
	return nil
}

// setResources sets r in m's cgroup: what the manager writes, in this
// host's scale, and what it leaves out.
func setResources(m cgroups.Manager, r *configs.Resources) error {
	if err := m.Set(managerResources(r)); err != nil {
		return err
	}
	return setIOWeightDevices(m, r)
}

// delegateFiles lists the files of a cgroup that its delegatee must own
// besides the directory: what the kernel names in /sys/kernel/cgroup/delegate
// (cgroup.procs, cgroup.threads, cgroup.subtree_control, memory.oom.group,
// memory.reclaim on 6.x), or the three that every cgroup v2 kernel has when
// it is older than that file.
func delegateFiles() []string {
	b, err := os.ReadFile("/sys/kernel/cgroup/delegate")
	if err != nil {
		return []string{"cgroup.procs", "cgroup.subtree_control", "cgroup.threads"}
	}
	return strings.Fields(string(b))
}

// chownCgroup delegates the cgroup v2 directory dir to uid: the directory,
// so that it can make sub-cgroups, and the files that move processes and
// enable controllers below it, but not the limits set from above, which
// stay root's. A file the cgroup lacks (memory.oom.group without the
// memory controller) is skipped. The systemd managers do the same for
// their units themselves.
func chownCgroup(dir string, uid int) error {
	if err := os.Chown(dir, uid, -1); err != nil {
		return fmt.Errorf("cgroups.owner_uid: chown %s to %d: %w", dir, uid, err)
	}
	for _, name := range delegateFiles() {
		err := os.Chown(filepath.Join(dir, name), uid, -1)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cgroups.owner_uid: chown %s to %d: %w", filepath.Join(dir, name), uid, err)
		}
	}
	return nil
}
