package validate

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

type badCase struct {
	name   string
	mutate func(t *testing.T, c *configs.Config)
	// fields are exactly the fields reported, in any order.
	fields []string
}

// The indices below refer to goodConfig: mounts 0 proc, 1 /dev, 2 /sys,
// 3 cgroup, 4 bind, 5 /proc/cpuinfo, 6 /run tmpcopyup; namespaces 0 NEWNS,
// 1 NEWPID, 2 NEWUTS, 3 NEWIPC, 4 NEWNET; seccomp syscalls 0 read,
// 1 personality, 2 mkdir, 3 openat2 (notify).
var badCases = []badCase{
	// rootfs
	{"rootfs unset", func(_ *testing.T, c *configs.Config) { c.Rootfs = "" }, []string{"rootfs"}},
	{"rootfs relative", func(_ *testing.T, c *configs.Config) { c.Rootfs = "rootfs" }, []string{"rootfs"}},
	{"rootfs is /", func(_ *testing.T, c *configs.Config) { c.Rootfs = "/.//" }, []string{"rootfs"}},
	{"rootfs missing", func(_ *testing.T, c *configs.Config) { c.Rootfs += "/missing" }, []string{"rootfs"}},
	{"rootfs a file", func(t *testing.T, c *configs.Config) { c.Rootfs = writeFile(t) }, []string{"rootfs"}},
	{"rootfs links to /", func(t *testing.T, c *configs.Config) {
		c.Rootfs = filepath.Join(t.TempDir(), "root")
		if err := os.Symlink("/", c.Rootfs); err != nil {
			t.Fatal(err)
		}
	}, []string{"rootfs"}},

	// namespaces
	{"namespace type unknown", func(_ *testing.T, c *configs.Config) {
		c.Namespaces = append(c.Namespaces, configs.Namespace{Type: "NEWFOO"})
	}, []string{"namespaces[5].type"}},
	{"namespace twice", func(_ *testing.T, c *configs.Config) {
		c.Namespaces = append(c.Namespaces, configs.Namespace{Type: configs.NEWPID})
	}, []string{"namespaces[5].type"}},
	{"no mount namespace", func(_ *testing.T, c *configs.Config) { c.Namespaces.Remove(configs.NEWNS) }, []string{"namespaces"}},
	{"namespace of another type", func(_ *testing.T, c *configs.Config) {
		c.Namespaces[1].Path = "/proc/self/ns/ipc"
	}, []string{"namespaces[1].path"}},

	// user namespace
	{"new user namespace without mappings", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Add(configs.NEWUSER, "")
	}, []string{"uid_mappings", "gid_mappings"}},
	{"mappings without user namespace", func(_ *testing.T, c *configs.Config) {
		c.UIDMappings = []configs.IDMap{{Size: 1}}
		c.GIDMappings = []configs.IDMap{{Size: 1}}
	}, []string{"uid_mappings", "gid_mappings"}},
	{"mappings for a joined user namespace", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Add(configs.NEWUSER, "/proc/self/ns/user")
		c.UIDMappings = []configs.IDMap{{Size: 1}}
	}, []string{"uid_mappings"}},
	{"bad mappings", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Add(configs.NEWUSER, "")
		c.UIDMappings = []configs.IDMap{
			{ContainerID: 0, HostID: 100000, Size: 65536},
			{ContainerID: 1000, HostID: 0, Size: 1},            // container ids overlap [0]
			{ContainerID: 70000, HostID: 100001, Size: 1},      // host ids overlap [0]
			{ContainerID: -1, HostID: 1 << 32, Size: 0},        // three bad fields
			{ContainerID: 1<<32 - 2, HostID: 1 << 20, Size: 2}, // runs past the end
		}
		c.GIDMappings = []configs.IDMap{{Size: 65536}}
	}, []string{
		"uid_mappings[1].container_id", "uid_mappings[2].host_id",
		"uid_mappings[3].container_id", "uid_mappings[3].host_id", "uid_mappings[3].size",
		"uid_mappings[4].size",
	}},
	{"too many mappings", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Add(configs.NEWUSER, "")
		c.UIDMappings = []configs.IDMap{{Size: 1}}
		for i := range maxExtents + 1 {
			c.GIDMappings = append(c.GIDMappings, configs.IDMap{ContainerID: int64(i), HostID: int64(i), Size: 1})
		}
	}, []string{"gid_mappings"}},
	{"rootless without user namespace", func(_ *testing.T, c *configs.Config) {
		c.RootlessEUID = true
		c.NetDevices = nil // refused apart, below
	}, []string{"rootless_euid"}},

	// UTS
	{"hostname without UTS namespace", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Remove(configs.NEWUTS)
		delete(c.Sysctl, "kernel.hostname")
	}, []string{"hostname", "domainname"}},
	{"hostname in a joined UTS namespace", func(_ *testing.T, c *configs.Config) {
		c.Namespaces[2].Path = "/proc/self/ns/uts"
		c.Domainname = ""
	}, []string{"hostname", `sysctl "kernel.hostname"`}},
	{"hostname characters", func(_ *testing.T, c *configs.Config) {
		c.Hostname = "a b"
		delete(c.Sysctl, "kernel.hostname")
	}, []string{"hostname"}},
	{"hostname too long", func(_ *testing.T, c *configs.Config) {
		c.Hostname = string(make([]byte, 65))
		for i := range 65 {
			c.Hostname = c.Hostname[:i] + "a" + c.Hostname[i+1:]
		}
		delete(c.Sysctl, "kernel.hostname")
	}, []string{"hostname"}},
	{"domainname with a space", func(_ *testing.T, c *configs.Config) { c.Domainname = "my domain" }, []string{"domainname"}},

	// time namespace
	{"time offsets without time namespace", func(_ *testing.T, c *configs.Config) {
		c.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
	}, []string{"time_offsets"}},
	{"time offsets", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Add(configs.NEWTIME, "")
		c.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {}, "boottime": {Nanosecs: 1e9}, "monotonic": {Secs: -5}}
	}, []string{"time_offsets", "time_offsets.boottime.nanosecs"}},

	// sysctl
	{"net sysctl without network namespace", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Remove(configs.NEWNET)
		c.Networks, c.NetDevices = nil, nil
	}, []string{`sysctl "net.ipv4.ip_forward"`, `sysctl "net/ipv4/conf/eth0.100/forwarding"`}},
	{"ipc sysctl without IPC namespace", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Remove(configs.NEWIPC)
		c.Sysctl["kernel.sem"] = "1 2 3 4"
		c.Sysctl["kernel/msgmax"] = "8192"
	}, []string{`sysctl "fs.mqueue.msg_max"`, `sysctl "kernel.sem"`, `sysctl "kernel.shmmax"`, `sysctl "kernel/msgmax"`}},
	{"hostname sysctl contradicts", func(_ *testing.T, c *configs.Config) {
		c.Sysctl["kernel.hostname"] = "other"
		c.Sysctl["kernel.domainname"] = "other"
	}, []string{`sysctl "kernel.hostname"`, `sysctl "kernel.domainname"`}},
	{"sysctls not namespaced", func(_ *testing.T, c *configs.Config) {
		c.Sysctl["vm.swappiness"] = "10"
		c.Sysctl["kernel.pid_max"] = "10"
		c.Sysctl["kernel"] = "1"
	}, []string{`sysctl "kernel"`, `sysctl "kernel.pid_max"`, `sysctl "vm.swappiness"`}},
	{"sysctl names", func(_ *testing.T, c *configs.Config) {
		c.Sysctl["net..ipv4"] = "1"
		c.Sysctl["net/ipv4/../../vm/x"] = "1"
		c.Sysctl[".net.x"] = "1"
		c.Sysctl["net.ipv4 x"] = "1"
		c.Sysctl[""] = "1"
	}, []string{`sysctl ""`, `sysctl ".net.x"`, `sysctl "net..ipv4"`, `sysctl "net.ipv4 x"`, `sysctl "net/ipv4/../../vm/x"`}},

	// network
	{"network type", func(_ *testing.T, c *configs.Config) {
		c.Networks = append(c.Networks, &configs.Network{Type: "veth"}, nil)
	}, []string{"networks[1].type", "networks[2]"}},
	{"net devices", func(_ *testing.T, c *configs.Config) {
		c.NetDevices["a/b"] = nil
		c.NetDevices["averyveryverylongname"] = nil
		c.NetDevices["eth0"] = &configs.NetDevice{Name: ".."}
	}, []string{"net_devices", "net_devices", `net_devices "eth0".name`}},
	{"net device names in the container", func(_ *testing.T, c *configs.Config) {
		c.NetDevices["dummy2"] = &configs.NetDevice{Name: "eth1"} // dummy0's
		c.NetDevices["eth1"] = nil                                // dummy0's too
		c.NetDevices["dummy3"] = &configs.NetDevice{Name: "e%d%d"}
		c.NetDevices["dummy4"] = &configs.NetDevice{Name: "e%s"}
		c.NetDevices["e%d"] = nil
		// Templates never clash: the kernel picks free names.
		c.NetDevices["dummy5"] = &configs.NetDevice{Name: "net%d"}
		c.NetDevices["dummy6"] = &configs.NetDevice{Name: "net%d"}
	}, []string{`net_devices "dummy2"`, `net_devices "eth1"`, `net_devices "dummy3".name`, `net_devices "dummy4".name`, "net_devices"}},

	{"net devices rootless", func(_ *testing.T, c *configs.Config) {
		c.Namespaces.Add(configs.NEWUSER, "")
		c.UIDMappings = []configs.IDMap{{HostID: 1000, Size: 1}}
		c.GIDMappings = []configs.IDMap{{HostID: 1000, Size: 1}}
		c.RootlessEUID = true
	}, []string{"net_devices"}},

	// mounts
	{"mount destination escapes", func(_ *testing.T, c *configs.Config) {
		c.Mounts[4].Destination = "/srv/../../etc"
	}, []string{"mounts[4].destination"}},
	{"mount destination unset", func(_ *testing.T, c *configs.Config) { c.Mounts[1].Destination = "" }, []string{"mounts[1].destination"}},
	{"mount without type", func(_ *testing.T, c *configs.Config) { c.Mounts[1].Device = "" }, []string{"mounts[1].device"}},
	{"null mount", func(_ *testing.T, c *configs.Config) { c.Mounts = append(c.Mounts, nil) }, []string{"mounts[7]"}},
	{"bind source relative", func(_ *testing.T, c *configs.Config) { c.Mounts[4].Source = "data" }, []string{"mounts[4].source"}},
	{"bind by flag only", func(_ *testing.T, c *configs.Config) {
		c.Mounts[4].Device = ""
		c.Mounts[4].Source = ""
	}, []string{"mounts[4].source"}},
	{"mount flags", func(_ *testing.T, c *configs.Config) {
		c.Mounts[0].Flags |= unix.MS_SLAVE | unix.MS_NOUSER
		c.Mounts[1].Flags |= unix.MS_NOATIME
		c.Mounts[2].Flags |= unix.MS_MOVE | unix.MS_BIND
	}, []string{"mounts[0].flags", "mounts[0].flags", "mounts[1].flags", "mounts[2].flags", "mounts[2].source"}},
	{"cleared flags", func(_ *testing.T, c *configs.Config) {
		c.Mounts[0].ClearedFlags = unix.MS_NOSUID | unix.MS_NODEV
		c.Mounts[4].ClearedFlags = unix.MS_BIND
	}, []string{"mounts[0].cleared_flags", "mounts[4].cleared_flags"}},
	{"propagation flags", func(_ *testing.T, c *configs.Config) {
		c.Mounts[4].PropagationFlags = []int{unix.MS_SHARED, unix.MS_PRIVATE | unix.MS_SLAVE, unix.MS_REC, 0}
	}, []string{"mounts[4].propagation_flags[1]", "mounts[4].propagation_flags[2]", "mounts[4].propagation_flags[3]"}},
	{"relabel", func(_ *testing.T, c *configs.Config) { c.Mounts[4].Relabel = "zz" }, []string{"mounts[4].relabel"}},
	{"idmapped mount", func(_ *testing.T, c *configs.Config) {
		c.Mounts[1].IDMapping = &configs.MountIDMapping{UIDMappings: []configs.IDMap{{Size: 1}}, GIDMappings: []configs.IDMap{{Size: 1}}}
		c.Mounts[4].IDMapping = &configs.MountIDMapping{GIDMappings: []configs.IDMap{{Size: 0}}}
	}, []string{"mounts[1].id_mapping", "mounts[4].id_mapping.uid_mappings", "mounts[4].id_mapping.gid_mappings[0].size"}},
	{"rec_attr", func(_ *testing.T, c *configs.Config) {
		c.Mounts[4].RecAttr = &unix.MountAttr{
			Attr_set:    unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_IDMAP,
			Attr_clr:    unix.MOUNT_ATTR_RDONLY,
			Propagation: unix.MS_SHARED | unix.MS_REC,
			Userns_fd:   3,
		}
	}, []string{
		"mounts[4].rec_attr", "mounts[4].rec_attr.Attr_clr", "mounts[4].rec_attr.Attr_set",
		"mounts[4].rec_attr.Propagation", "mounts[4].rec_attr.Userns_fd",
	}},
	{"rec_attr partial atime", func(_ *testing.T, c *configs.Config) {
		c.Mounts[4].RecAttr = &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_NOATIME}
	}, []string{"mounts[4].rec_attr.Attr_clr"}},
	{"over /proc", func(_ *testing.T, c *configs.Config) {
		c.Mounts[0].Device = "tmpfs"
		c.Mounts[6].Destination = "/proc"
	}, []string{"mounts[0].destination", "mounts[6].destination"}},
	{"host /proc on /proc", func(_ *testing.T, c *configs.Config) {
		c.Mounts[6] = &configs.Mount{Source: "/proc", Destination: "/proc", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC}
	}, []string{"mounts[6].source"}},
	{"tmpcopyup not on a tmpfs", func(_ *testing.T, c *configs.Config) { c.Mounts[4].TmpCopyUp = true }, []string{"mounts[4].tmpcopyup"}},
	{"inside /proc", func(_ *testing.T, c *configs.Config) {
		c.Mounts[5].Destination = "/proc/sys"
		c.Mounts[1].Destination = "/proc//self/../kcore"
	}, []string{"mounts[1].destination", "mounts[5].destination"}},
	{"masked paths", func(_ *testing.T, c *configs.Config) {
		c.MaskPaths = append(c.MaskPaths, "proc/kcore", "/../x")
		c.ReadonlyPaths = append(c.ReadonlyPaths, "")
	}, []string{"mask_paths[2]", "mask_paths[3]", "readonly_paths[1]"}},
	{"root propagation", func(_ *testing.T, c *configs.Config) {
		c.RootPropagation = unix.MS_PRIVATE | unix.MS_SHARED
	}, []string{"root_propagation"}},

	// devices
	{"devices", func(_ *testing.T, c *configs.Config) {
		c.Devices = append(c.Devices,
			&devices.Device{Rule: devices.Rule{Type: 'c', Major: 1, Minor: 3}, Path: "/dev//null"},
			&devices.Device{Rule: devices.Rule{Type: 'c'}, Path: "/dev/.."},
			&devices.Device{Rule: devices.Rule{Type: 'c'}, Path: "dev/x"},
			&devices.Device{Rule: devices.Rule{Type: 'a'}, Path: "/dev/any"},
			&devices.Device{Rule: devices.Rule{Type: 'b', Major: -1, Minor: 1 << 20}, Path: "/dev/sda"},
			&devices.Device{Rule: devices.Rule{Type: 'c', Permissions: "rwx"}, Path: "/dev/y", FileMode: fs.ModeDir | 0o755},
			nil,
		)
	}, []string{
		"devices[2].path", "devices[3].path", "devices[4].path", "devices[5].type",
		"devices[6].major", "devices[6].minor", "devices[7].file_mode", "devices[7].permissions", "devices[8]",
	}},

	// cgroups
	{"cgroup path and name", func(_ *testing.T, c *configs.Config) { c.Cgroups.Name = "x" }, []string{"cgroups.path"}},
	{"cgroup without path or name", func(_ *testing.T, c *configs.Config) { c.Cgroups.Path = "" }, []string{"cgroups"}},
	{"cgroup parent without name", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.Path = ""
		c.Cgroups.Parent = "system.slice"
	}, []string{"cgroups.name"}},
	{"cgroup path climbs", func(_ *testing.T, c *configs.Config) { c.Cgroups.Path = "/a/../../b" }, []string{"cgroups.path"}},
	{"systemd parent", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.Path, c.Cgroups.Name, c.Cgroups.Parent, c.Cgroups.Systemd = "", "x", "machine", true
	}, []string{"cgroups.parent"}},
	{"systemd with a path", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.Systemd = true
	}, []string{"cgroups.path", "cgroups.name"}},
	{"memory", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.Memory, c.Cgroups.MemoryReservation, c.Cgroups.MemorySwap = -2, -3, -4
		c.Cgroups.MemorySwappiness = ptr(uint64(101))
	}, []string{
		"cgroups.resources.memory", "cgroups.resources.memory_reservation", "cgroups.resources.memory_swap",
		"cgroups.resources.memory_swappiness",
	}},
	{"unlimited", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.Memory, c.Cgroups.MemorySwap, c.Cgroups.CpuQuota, c.Cgroups.CpuRtRuntime = -1, -1, -1, -1
		c.Cgroups.PidsLimit = ptr(int64(-2))
	}, []string{"cgroups.resources.pids_limit"}},
	{"cpu", func(_ *testing.T, c *configs.Config) {
		r := c.Cgroups.Resources
		r.CpuShares, r.CpuWeight, r.CpuPeriod = 1, 10001, 999
		r.CpuQuota, r.CpuBurst = 999, ptr(uint64(1000))
		r.CpuRtRuntime, r.CpuRtPeriod = 2000, 1000
		r.CPUIdle = ptr(int64(2))
	}, []string{
		"cgroups.resources.cpu_shares", "cgroups.resources.cpu_weight", "cgroups.resources.cpu_quota",
		"cgroups.resources.cpu_period", "cgroups.resources.cpu_burst", "cgroups.resources.cpu_rt_quota",
		"cgroups.resources.cpu_idle",
	}},
	{"negative quotas", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.CpuQuota, c.Cgroups.CpuRtRuntime = -2, -2
	}, []string{"cgroups.resources.cpu_quota", "cgroups.resources.cpu_rt_quota"}},
	{"cpuset lists", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.CpusetCpus, c.Cgroups.CpusetMems = "3-1", "0-"
	}, []string{"cgroups.resources.cpuset_cpus", "cgroups.resources.cpuset_mems"}},
	{"cpuset beyond any machine", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.CpusetCpus, c.Cgroups.CpusetMems = "0,100000", " "
	}, []string{"cgroups.resources.cpuset_cpus", "cgroups.resources.cpuset_mems"}},
	{"blkio", func(_ *testing.T, c *configs.Config) {
		r := c.Cgroups.Resources
		r.BlkioWeight, r.BlkioLeafWeight = 5, 1001
		r.BlkioWeightDevice = []*cgroups.WeightDevice{nil, cgroups.NewWeightDevice(-1, 0, 9, 0)}
		r.BlkioThrottleReadBpsDevice = []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 1)}
		r.BlkioThrottleWriteIOPSDevice = []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, -1, 1), nil}
	}, []string{
		"cgroups.resources.blkio_weight", "cgroups.resources.blkio_leaf_weight",
		"cgroups.resources.blkio_weight_device[0]", "cgroups.resources.blkio_weight_device[1].major",
		"cgroups.resources.blkio_weight_device[1].weight",
		"cgroups.resources.blkio_throttle_write_iops_device[0].minor",
		"cgroups.resources.blkio_throttle_write_iops_device[1]",
	}},
	{"freezer", func(_ *testing.T, c *configs.Config) { c.Cgroups.Freezer = "frozen" }, []string{"cgroups.resources.freezer"}},
	{"hugetlb page size", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.HugetlbLimit = []*cgroups.HugepageLimit{{Pagesize: "2M"}, nil}
	}, []string{"cgroups.resources.hugetlb_limit[0].page_size", "cgroups.resources.hugetlb_limit[1]"}},
	{"ifpriomap and rdma", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.NetPrioIfpriomap = []*cgroups.IfPrioMap{{Interface: ""}, nil}
		c.Cgroups.Rdma = map[string]cgroups.LinuxRdma{"": {}}
	}, []string{"cgroups.resources.net_prio_ifpriomap[0].interface", "cgroups.resources.net_prio_ifpriomap[1]", "cgroups.resources.rdma"}},
	{"device rules", func(_ *testing.T, c *configs.Config) {
		c.Cgroups.Devices = append(c.Cgroups.Devices,
			&devices.Rule{Type: 'p', Major: -2, Minor: -2, Permissions: ""},
			&devices.Rule{Type: 'c', Permissions: "rr"},
			nil,
		)
	}, []string{
		"cgroups.resources.devices[2].type", "cgroups.resources.devices[2].major", "cgroups.resources.devices[2].minor",
		"cgroups.resources.devices[2].permissions", "cgroups.resources.devices[3].permissions", "cgroups.resources.devices[4]",
	}},

	// hooks
	{"hooks", func(_ *testing.T, c *configs.Config) {
		c.Hooks["prestart"] = append(c.Hooks["prestart"],
			configs.NewCommandHook(configs.Command{Path: "true"}),
			configs.NewCommandHook(configs.Command{Path: "/bin/true", Timeout: ptr(time.Duration(0))}),
			nil,
			(*configs.CommandHook)(nil),
		)
		c.Hooks["preStart"] = nil
	}, []string{"hooks", "hooks.prestart[1].path", "hooks.prestart[2].timeout", "hooks.prestart[3]", "hooks.prestart[4]"}},

	// process
	{"rlimits", func(_ *testing.T, c *configs.Config) {
		c.Rlimits = append(c.Rlimits,
			configs.Rlimit{Type: 16},
			configs.Rlimit{Type: -1},
			configs.Rlimit{Type: unix.RLIMIT_NPROC, Soft: 2, Hard: 1},
		)
	}, []string{"rlimits[2].type", "rlimits[3].type", "rlimits[4].soft"}},
	{"oom score", func(_ *testing.T, c *configs.Config) { c.OomScoreAdj = ptr(-1001) }, []string{"oom_score_adj"}},
	{"parent death signal", func(_ *testing.T, c *configs.Config) { c.ParentDeathSignal = 65 }, []string{"parent_death_signal"}},
	{"personality", func(_ *testing.T, c *configs.Config) {
		c.Personality = &configs.Personality{Domain: "LINUX64", Flags: []string{"x"}}
	}, []string{"personality.domain", "personality.flags"}},
	{"scheduler policy", func(_ *testing.T, c *configs.Config) { c.Scheduler.Policy = "SCHED_FAST" }, []string{"scheduler.policy"}},
	{"scheduler other", func(_ *testing.T, c *configs.Config) {
		c.Scheduler = &configs.Scheduler{Policy: "SCHED_BATCH", Nice: 20, Priority: 1, Runtime: 1, Flags: []string{"SCHED_FLAG_X"}}
	}, []string{"scheduler.nice", "scheduler.priority", "scheduler", "scheduler.flags[0]"}},
	{"scheduler fifo", func(_ *testing.T, c *configs.Config) {
		c.Scheduler = &configs.Scheduler{Policy: "SCHED_FIFO", Nice: -21}
	}, []string{"scheduler.nice", "scheduler.priority"}},
	{"scheduler deadline", func(_ *testing.T, c *configs.Config) {
		c.Scheduler = &configs.Scheduler{Policy: "SCHED_DEADLINE", Runtime: 2, Deadline: 1}
		c.Cgroups.CpusetCpus = ""
	}, []string{"scheduler.runtime"}},
	{"scheduler deadline period", func(_ *testing.T, c *configs.Config) {
		c.Scheduler = &configs.Scheduler{Policy: "SCHED_DEADLINE", Runtime: 1, Deadline: 3, Period: 2}
		c.Cgroups.CpusetCpus = ""
	}, []string{"scheduler.deadline"}},
	{"scheduler deadline unset", func(_ *testing.T, c *configs.Config) {
		c.Scheduler = &configs.Scheduler{Policy: "SCHED_DEADLINE"}
		c.Cgroups.CpusetCpus = ""
	}, []string{"scheduler.runtime"}},
	// The base config's cpuset "0": the kernel refuses SCHED_DEADLINE.
	{"scheduler deadline with a cpuset", func(_ *testing.T, c *configs.Config) {
		c.Scheduler = &configs.Scheduler{Policy: "SCHED_DEADLINE", Runtime: 1, Deadline: 2}
	}, []string{"scheduler.policy"}},
	{"io priority", func(_ *testing.T, c *configs.Config) {
		c.IOPriority = &configs.IOPriority{Class: "IOPRIO_CLASS_NONE", Priority: 8}
	}, []string{"io_priority.class", "io_priority.priority"}},
	{"exec cpu affinity", func(_ *testing.T, c *configs.Config) {
		c.ExecCPUAffinity = &configs.CPUAffinity{Initial: "a", Final: "100000"}
	}, []string{"exec_cpu_affinity.initial", "exec_cpu_affinity.final"}},
	{"memory policy mode", func(_ *testing.T, c *configs.Config) {
		c.MemoryPolicy = &configs.MemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}
	}, []string{"memory_policy.mode"}},
	{"memory policy flags", func(_ *testing.T, c *configs.Config) {
		c.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_PREFERRED", Nodes: "0", Flags: []string{"MPOL_F_RELATIVE_NODES", "badflag", "MPOL_F_STATIC_NODES"}}
	}, []string{"memory_policy.flags[1]", "memory_policy.flags"}},
	{"memory policy nodes", func(_ *testing.T, c *configs.Config) {
		c.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_BIND", Nodes: "0-9876543210"}
	}, []string{"memory_policy.nodes"}},
	{"memory policy node too high", func(_ *testing.T, c *configs.Config) {
		c.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_BIND", Nodes: "4096"}
	}, []string{"memory_policy.nodes"}},
	{"memory policy default with nodes", func(_ *testing.T, c *configs.Config) {
		c.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_DEFAULT", Nodes: "0-7"}
	}, []string{"memory_policy.nodes"}},
	{"memory policy local with flags", func(_ *testing.T, c *configs.Config) {
		c.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_LOCAL", Flags: []string{"MPOL_F_STATIC_NODES", "MPOL_F_NUMA_BALANCING"}}
	}, []string{"memory_policy.flags", "memory_policy.flags"}},
	{"memory policy bind without nodes", func(_ *testing.T, c *configs.Config) {
		c.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_BIND"}
	}, []string{"memory_policy.nodes"}},

	// capabilities
	{"capability names", func(_ *testing.T, c *configs.Config) {
		c.Capabilities.Bounding = append(c.Capabilities.Bounding, "CAP_FLY", "cap_kill")
	}, []string{"capabilities.Bounding[3]", "capabilities.Bounding[4]"}},
	{"ambient outside permitted", func(_ *testing.T, c *configs.Config) {
		c.Capabilities.Ambient = append(c.Capabilities.Ambient, "CAP_SYS_ADMIN")
	}, []string{"capabilities.Ambient[1]"}},
	{"effective outside permitted", func(_ *testing.T, c *configs.Config) {
		c.Capabilities.Effective = append(c.Capabilities.Effective, "CAP_SYS_ADMIN")
	}, []string{"capabilities.Effective[3]"}},

	// seccomp
	{"seccomp default action", func(_ *testing.T, c *configs.Config) {
		c.Seccomp.DefaultAction = 0
	}, []string{"seccomp.default_action"}},
	{"seccomp notify by default", func(_ *testing.T, c *configs.Config) {
		c.Seccomp.DefaultAction = configs.Notify
	}, []string{"seccomp.default_action", "seccomp.default_errno_ret"}},
	{"seccomp fields", func(_ *testing.T, c *configs.Config) {
		s := c.Seccomp
		s.Architectures = append(s.Architectures, "x86_64", "SCMP_ARCH_")
		s.Flags = append(s.Flags, "SECCOMP_FILTER_FLAG_NEW_LISTENER")
		s.Syscalls = append(s.Syscalls,
			nil,
			&configs.Syscall{Action: 42},
			&configs.Syscall{Name: "open", Action: configs.Allow, ErrnoRet: ptr(uint(1)), Args: []*configs.Arg{nil, {Index: 6, Op: 0}}},
			&configs.Syscall{Name: "write", Action: configs.Notify},
		)
	}, []string{
		"seccomp.architectures[2]", "seccomp.architectures[3]", "seccomp.flags[1]",
		"seccomp.syscalls[4]", "seccomp.syscalls[5].name", "seccomp.syscalls[5].action",
		"seccomp.syscalls[6].errnoRet", "seccomp.syscalls[6].args[0]", "seccomp.syscalls[6].args[1].index",
		"seccomp.syscalls[6].args[1].op", "seccomp.syscalls[7].action",
	}},
	{"seccomp notify without listener", func(_ *testing.T, c *configs.Config) {
		c.Seccomp.ListenerPath = ""
		c.Seccomp.ListenerMetadata = "x"
	}, []string{"seccomp.listener_path", "seccomp.listener_metadata"}},
	{"seccomp listener relative", func(_ *testing.T, c *configs.Config) {
		c.Seccomp.ListenerPath = "agent.sock"
	}, []string{"seccomp.listener_path"}},

	// labels
	{"empty label", func(_ *testing.T, c *configs.Config) { c.Labels = append(c.Labels, "") }, []string{"labels[1]"}},
}

func writeFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateBad(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			c := goodConfig(t)
			tc.mutate(t, c)
			err := Validate(c)
			if err == nil {
				t.Fatal("Validate passed")
			}
			got := fieldsOf(errs(t, err))
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.fields))
			if !slices.Equal(got, want) {
				t.Errorf("fields = %q\nwant %q\nerror: %v", got, want, err)
			}
		})
	}
}
