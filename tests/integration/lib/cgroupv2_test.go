package lib

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/configs/validate"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// needCgroup2 skips a test that is about the files of cgroup v2 alone.
func needCgroup2(t *testing.T) {
	t.Helper()
	if !cgroups.IsCgroup2UnifiedMode() {
		t.Skip("needs a pure cgroup v2 host (run by tests/vm/cgroup2.sh)")
	}
}

// cgroupFile reads a file of the container's cgroup, trimmed.
func cgroupFile(t *testing.T, cfg *configs.Config, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cgroupDir(cfg), name))
	if err != nil {
		t.Fatalf("read the cgroup's %s: %v", name, err)
	}
	return strings.TrimSpace(string(b))
}

// loopMajor:loopMinor is a block device of the VM, for the per-device limits:
// loop0 (7:0) exists once the loop driver is loaded, with or without a
// file behind it.
const loopMajor, loopMinor = 7, 0

// TestCgroupV2Fields sets each resource field on cgroup v2 and reads the
// file of the container's cgroup that it must set: none is dropped.
func TestCgroupV2Fields(t *testing.T) {
	needCgroup2(t)
	if _, err := os.Stat("/sys/dev/block/7:0"); err != nil {
		t.Skipf("no block device 7:0 for the per-device limits (load the loop module): %v", err)
	}
	hugeSize := ""
	if _, err := os.Stat("/sys/kernel/mm/hugepages/hugepages-2048kB"); err == nil {
		hugeSize = "2MB"
	}
	type file struct{ name, want string }
	for _, tc := range []struct {
		name  string
		set   func(r *configs.Resources)
		files []file
	}{
		{"memory", func(r *configs.Resources) {
			r.Memory = 48 << 20
			r.MemoryReservation = 16 << 20
			r.MemorySwap = 80 << 20 // memory + swap
		}, []file{{"memory.max", "50331648"}, {"memory.low", "16777216"}, {"memory.swap.max", "33554432"}}},
		// 512 shares are weight 59 (runc's conversion), 1024 the default 100.
		{"cpu shares", func(r *configs.Resources) { r.CpuShares = 512 }, []file{{"cpu.weight", "59"}}},
		{"cpu shares default", func(r *configs.Resources) { r.CpuShares = 1024 }, []file{{"cpu.weight", "100"}}},
		{"cpu weight beside shares", func(r *configs.Resources) { r.CpuShares = 512; r.CpuWeight = 300 }, []file{{"cpu.weight", "300"}}},
		{"cpu quota", func(r *configs.Resources) {
			r.CpuQuota = 25000
			r.CpuPeriod = 50000
			r.CpuBurst = ptr(uint64(5000))
		}, []file{{"cpu.max", "25000 50000"}, {"cpu.max.burst", "5000"}}},
		{"cpu idle", func(r *configs.Resources) { r.CPUIdle = ptr(int64(1)) }, []file{{"cpu.idle", "1"}}},
		{"cpuset", func(r *configs.Resources) { r.CpusetCpus = "0"; r.CpusetMems = "0" },
			[]file{{"cpuset.cpus", "0"}, {"cpuset.mems", "0"}}},
		{"pids", func(r *configs.Resources) { r.PidsLimit = ptr(int64(77)) }, []file{{"pids.max", "77"}}},
		{"blkio weight", func(r *configs.Resources) { r.BlkioWeight = 500 },
			// No BFQ in the VM: io.weight, in its scale (1 + (500-10)*9999/990).
			[]file{{"io.weight", "default 4950"}}},
		{"blkio throttle", func(r *configs.Resources) {
			r.BlkioThrottleReadBpsDevice = []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(loopMajor, loopMinor, 1<<20)}
			r.BlkioThrottleWriteBpsDevice = []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(loopMajor, loopMinor, 2<<20)}
			r.BlkioThrottleReadIOPSDevice = []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(loopMajor, loopMinor, 100)}
			r.BlkioThrottleWriteIOPSDevice = []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(loopMajor, loopMinor, 200)}
		}, []file{{"io.max", "7:0 rbps=1048576 wbps=2097152 riops=100 wiops=200"}}},
		{"hugetlb", func(r *configs.Resources) {
			if hugeSize != "" {
				r.HugetlbLimit = []*cgroups.HugepageLimit{{Pagesize: hugeSize, Limit: 4 << 20}}
			}
		}, []file{{"hugetlb.2MB.max", "4194304"}}},
		{"unified", func(r *configs.Resources) {
			r.Unified = map[string]string{"memory.high": "41943040", "pids.max": "33"}
		}, []file{{"memory.high", "41943040"}, {"pids.max", "33"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "hugetlb" && hugeSize == "" {
				t.Skip("no 2 MiB huge pages on this machine")
			}
			cfg := newConfig(t, busybox)
			tc.set(cfg.Cgroups.Resources)
			startScript(t, cfg, `sleep 1000`)
			for _, f := range tc.files {
				if got := cgroupFile(t, cfg, f.name); got != f.want {
					t.Errorf("%s = %q, want %q", f.name, got, f.want)
				}
			}
		})
	}
}

// TestCgroupV2UpdateShares: an update converts shares as a create does,
// and the saved config keeps the shares asked for.
func TestCgroupV2UpdateShares(t *testing.T) {
	needCgroup2(t)
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Resources.CpuShares = 512
	c, _, _ := startScript(t, cfg, `sleep 1000`)
	if got := cgroupFile(t, cfg, "cpu.weight"); got != "59" {
		t.Fatalf("cpu.weight = %q after create with 512 shares, want 59", got)
	}
	newCfg := c.Config()
	res := *newCfg.Cgroups.Resources
	res.CpuShares = 2048
	cg := *newCfg.Cgroups
	cg.Resources = &res
	newCfg.Cgroups = &cg
	if err := c.Set(newCfg); err != nil {
		t.Fatal(err)
	}
	if got := cgroupFile(t, cfg, "cpu.weight"); got != "174" {
		t.Errorf("cpu.weight = %q after an update to 2048 shares, want 174", got)
	}
	if r := c.Config().Cgroups.Resources; r.CpuShares != 2048 || r.CpuWeight != 0 {
		t.Errorf("saved config: shares %d weight %d, want the 2048 shares asked for alone", r.CpuShares, r.CpuWeight)
	}
}

// TestCgroupV2DeviceWeight: a per-device weight lands in io.weight when
// the kernel has no BFQ, once iocost runs on the device; before that,
// the kernel's refusal names the field rather than the weight being lost.
func TestCgroupV2DeviceWeight(t *testing.T) {
	needCgroup2(t)
	if _, err := os.Stat("/sys/dev/block/7:0"); err != nil {
		t.Skipf("no block device 7:0 (load the loop module): %v", err)
	}
	if _, err := os.Stat("/sys/fs/cgroup/io.cost.qos"); err != nil {
		t.Skipf("the kernel has no iocost: %v", err)
	}
	set := func(r *configs.Resources) {
		r.BlkioWeightDevice = []*cgroups.WeightDevice{cgroups.NewWeightDevice(loopMajor, loopMinor, 200, 0)}
	}
	qos, _ := os.ReadFile("/sys/fs/cgroup/io.cost.qos")
	if !strings.Contains(string(qos), "7:0 enable=1") {
		cfg := newConfig(t, busybox)
		set(cfg.Cgroups.Resources)
		_, err := run(t, cfg, []string{"true"})
		if err == nil || !strings.Contains(err.Error(), "blkio_weight_device[0]") {
			t.Fatalf("a device weight without iocost on the device: got %v, want an error naming blkio_weight_device[0]", err)
		}
		if err := os.WriteFile("/sys/fs/cgroup/io.cost.qos", []byte("7:0 enable=1"), 0); err != nil {
			t.Skipf("cannot enable iocost on 7:0: %v", err)
		}
		t.Cleanup(func() { os.WriteFile("/sys/fs/cgroup/io.cost.qos", []byte("7:0 enable=0"), 0) })
	}
	cfg := newConfig(t, busybox)
	set(cfg.Cgroups.Resources)
	startScript(t, cfg, `sleep 1000`)
	// 200 in blkio's scale is 1 + (200-10)*9999/990 in io.weight's.
	if got := cgroupFile(t, cfg, "io.weight"); !strings.Contains(got, "\n7:0 1920") {
		t.Errorf("io.weight = %q, want a line 7:0 1920", got)
	}
}

// TestCgroupV2RefusesV1Only: what cgroup v2 has no file for is refused,
// naming the field, before anything is made.
func TestCgroupV2RefusesV1Only(t *testing.T) {
	needCgroup2(t)
	for field, set := range map[string]func(r *configs.Resources){
		"memory_swappiness":  func(r *configs.Resources) { r.MemorySwappiness = ptr(uint64(10)) },
		"oom_kill_disable":   func(r *configs.Resources) { r.OomKillDisable = true },
		"cpu_rt_quota":       func(r *configs.Resources) { r.CpuRtRuntime = 1000 },
		"cpu_rt_period":      func(r *configs.Resources) { r.CpuRtPeriod = 100000 },
		"blkio_leaf_weight":  func(r *configs.Resources) { r.BlkioLeafWeight = 100 },
		"net_cls_classid_u":  func(r *configs.Resources) { r.NetClsClassid = 0x100001 },
		"net_prio_ifpriomap": func(r *configs.Resources) { r.NetPrioIfpriomap = []*cgroups.IfPrioMap{{Interface: "lo", Priority: 1}} },
		"blkio_weight_device[0].leafWeight": func(r *configs.Resources) {
			r.BlkioWeightDevice = []*cgroups.WeightDevice{cgroups.NewWeightDevice(7, 0, 0, 100)}
		},
	} {
		t.Run(strings.NewReplacer("[", "_", "]", "_").Replace(field), func(t *testing.T) {
			cfg := newConfig(t, busybox)
			set(cfg.Cgroups.Resources)
			_, err := libcontainer.Create(t.TempDir(), randomID(t), cfg)
			if !errors.Is(err, validate.ErrInvalid) || !strings.Contains(err.Error(), "cgroups.resources."+field) {
				t.Fatalf("got %v, want a validation error naming cgroups.resources.%s", err, field)
			}
			if _, err := os.Stat(cgroupDir(cfg)); err == nil {
				t.Errorf("a refused config made its cgroup %s", cgroupDir(cfg))
			}
		})
	}
}

// TestCgroupV2Rdma: an RDMA limit is written to rdma.max, and one for a
// device the kernel does not know is an error, not a limit dropped.
func TestCgroupV2Rdma(t *testing.T) {
	needCgroup2(t)
	if b, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); !strings.Contains(" "+string(b)+" ", " rdma ") {
		t.Skipf("no rdma controller: %q", b)
	}
	devs, _ := os.ReadDir("/sys/class/infiniband")
	cfg := newConfig(t, busybox)
	dev := "corral-no-such-hca"
	if len(devs) > 0 {
		dev = devs[0].Name()
	}
	cfg.Cgroups.Resources.Rdma = map[string]cgroups.LinuxRdma{dev: {HcaHandles: ptr(uint32(3)), HcaObjects: ptr(uint32(30))}}
	if len(devs) == 0 {
		_, err := run(t, cfg, []string{"true"})
		if err == nil || !strings.Contains(err.Error(), "rdma") {
			t.Fatalf("an rdma limit for a device that does not exist: got %v, want an error about rdma", err)
		}
		return
	}
	startScript(t, cfg, `sleep 1000`)
	if got := cgroupFile(t, cfg, "rdma.max"); !strings.Contains(got, dev+" hca_handle=3 hca_object=30") {
		t.Errorf("rdma.max = %q, want %s hca_handle=3 hca_object=30", got, dev)
	}
}

// TestExecNonLeafCgroup: a container that moved itself to a sub-cgroup of
// its own and enabled controllers for it (as systemd in a container
// does) can no longer take a process in its cgroup (EBUSY on cgroup v2);
// an exec lands in init's cgroup instead, as with runc.
func TestExecNonLeafCgroup(t *testing.T) {
	needCgroup2(t)
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWCGROUP, "")
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: "cgroup", Destination: "/sys/fs/cgroup", Device: "cgroup2",
		Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV})
	c, _, out := startScript(t, cfg, `cd /sys/fs/cgroup && mkdir init && echo 1 > init/cgroup.procs && `+
		`echo +pids > cgroup.subtree_control && echo nested; sleep 1000`)
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Contains(out.String(), "nested") }) {
		t.Fatalf("the container did not make its sub-cgroup: %q", out.String())
	}
	if got := cgroupFile(t, cfg, "cgroup.subtree_control"); got != "pids" {
		t.Fatalf("cgroup.subtree_control = %q, want pids", got)
	}
	// The kernel's refusal the exec meets.
	err := cgroups.WriteCgroupProc(cgroupDir(cfg), os.Getpid())
	if !errors.Is(err, unix.EBUSY) {
		t.Fatalf("joining the non-leaf cgroup: %v, want EBUSY", err)
	}
	got, code := execIn(t, c, []string{"/bin/cat", "/proc/self/cgroup"})
	if code != 0 || strings.TrimSpace(got) != "0::/init" {
		t.Fatalf("exec'd process: exit %d, cgroup %q, want 0::/init", code, got)
	}
	// A sub-cgroup asked for is not replaced by init's.
	p := &libcontainer.Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}, SubCgroupPaths: map[string]string{"": "missing"}}
	if err := c.Run(p); err == nil {
		p.Wait()
		t.Fatal("exec into a sub-cgroup that does not exist succeeded")
	}
}

// TestCgroupOwnerDelegated: a container with a user namespace, a cgroup
// namespace and a read-write cgroupfs, its cgroup delegated to its root
// (cgroups.owner_uid, which specconv sets there as runc does), owns its
// cgroup directory and the files /sys/kernel/cgroup/delegate names, not
// its limits, and manages its own sub-cgroups as systemd would.
func TestCgroupOwnerDelegated(t *testing.T) {
	needCgroup2(t)
	const root = 100000
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.Namespaces.Add(configs.NEWCGROUP, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: root, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: root, Size: 65536}}
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: "cgroup", Destination: "/sys/fs/cgroup", Device: "cgroup2",
		Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV})
	cfg.Cgroups.OwnerUID = ptr(root)
	cfg.Cgroups.Resources.PidsLimit = ptr(int64(100))
	cfg.Cgroups.Resources.Memory = 64 << 20
	c, _, out := startScript(t, cfg, `cd /sys/fs/cgroup && mkdir init && echo 1 > init/cgroup.procs && `+
		`echo +pids +memory > cgroup.subtree_control && echo 20 > init/pids.max && echo delegated; `+
		`echo 200 > pids.max 2>/dev/null || echo limits-refused; sleep 1000`)
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Contains(out.String(), "limits-refused") }) {
		t.Fatalf("the container did not manage its cgroup (or could raise its limit): %q", out.String())
	}
	dir := cgroupDir(cfg)
	delegate, err := os.ReadFile("/sys/kernel/cgroup/delegate")
	if err != nil {
		t.Fatalf("the kernel lists no files to delegate: %v", err)
	}
	owned := append([]string{"."}, strings.Fields(string(delegate))...)
	for _, name := range owned {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, name), &st); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if st.Uid != root {
			t.Errorf("%s is owned by %d, want the container's root %d", name, st.Uid, root)
		}
	}
	for _, name := range []string{"pids.max", "memory.max", "cgroup.type"} {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, name), &st); err != nil || st.Uid != 0 {
			t.Errorf("%s: owner %d (%v), want root: a limit set from above stays the host's", name, st.Uid, err)
		}
	}
	if got := cgroupFile(t, cfg, "init/pids.max"); got != "20" {
		t.Errorf("the container's sub-cgroup has pids.max %q, want 20", got)
	}
	// An exec lands in init's cgroup: the container's own is no leaf.
	if got, _ := execIn(t, c, []string{"/bin/cat", "/proc/self/cgroup"}); strings.TrimSpace(got) != "0::/init" {
		t.Errorf("exec'd process in %q, want 0::/init", got)
	}
}
