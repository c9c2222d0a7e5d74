package specconv

import (
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

func TestConvertDevices(t *testing.T) {
	spec := Example()
	spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: ptrTo(os.FileMode(0o600)), UID: u32(1), GID: u32(2)},
		{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0},
		// A Go os.Stat mode: type bits must not reach mknod.
		{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: ptrTo(os.ModeDevice | os.ModeCharDevice | 0o640)},
		{Path: "/dev/pipe", Type: "p"},
		{Path: "/dev/ttyu", Type: "u", Major: 4, Minor: 1},
	}
	spec.Linux.Resources.Devices = append(spec.Linux.Resources.Devices,
		// x is no access letter: dropped with a warning, as by runc.
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Access: "rwxr"},
		specs.LinuxDeviceCgroup{Allow: false, Type: "b", Minor: i64(3)},
	)
	c := convert(t, spec)

	byPath := map[string]*devices.Device{}
	var order []string
	for _, d := range c.Devices {
		if _, dup := byPath[d.Path]; dup {
			t.Errorf("%s listed twice", d.Path)
		}
		byPath[d.Path] = d
		order = append(order, d.Path)
	}
	if want := []string{"/dev/zero", "/dev/full", "/dev/tty", "/dev/urandom", "/dev/random", "/dev/fuse", "/dev/sda", "/dev/null", "/dev/pipe", "/dev/ttyu"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if d := byPath["/dev/fuse"]; *d != (devices.Device{Rule: devices.Rule{Type: 'c', Major: 10, Minor: 229, Permissions: "rwm", Allow: true}, Path: "/dev/fuse", FileMode: 0o600, Uid: 1, Gid: 2}) {
		t.Errorf("fuse = %+v", d)
	}
	if d := byPath["/dev/sda"]; d.Type != 'b' || d.FileMode != 0o666 {
		t.Errorf("sda = %+v", d)
	}
	if d := byPath["/dev/null"]; d.FileMode != 0o640 {
		t.Errorf("null mode = %v", d.FileMode)
	}
	if d := byPath["/dev/ttyu"]; d.Type != 'c' {
		t.Errorf("unbuffered = %+v", d)
	}

	var rules []string
	for _, r := range c.Cgroups.Devices {
		s := r.CgroupString()
		if !r.Allow {
			s = "deny " + s
		}
		rules = append(rules, s)
	}
	want := []string{
		"deny a *:* rwm", // ours
		"deny a *:* rwm", // the spec's
		"c 10:* rw",
		"deny b *:3 rwm",
	}
	for _, d := range AllowedDevices {
		want = append(want, d.CgroupString())
	}
	// The spec's nodes get no rule: as with runc, the node is made and
	// linux.resources.devices decides whether it may be used.
	if !slices.Equal(rules, want) {
		t.Errorf("rules\n got %q\nwant %q", rules, want)
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestConvertResources(t *testing.T) {
	spec := Example()
	spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{
			//lint:ignore SA1019 a spec may still set kernel memory; it must be ignored
			Limit: i64(100), Reservation: i64(50), Swap: i64(200), Kernel: i64(1), KernelTCP: i64(1),
			Swappiness: u64(10), DisableOOMKiller: ptrTo(true), CheckBeforeUpdate: ptrTo(true),
		},
		CPU: &specs.LinuxCPU{
			Shares: u64(512), Quota: i64(50000), Burst: u64(1000), Period: u64(100000),
			RealtimeRuntime: i64(950), RealtimePeriod: u64(1000), Cpus: "0-1", Mems: "0", Idle: i64(1),
		},
		Pids: &specs.LinuxPids{Limit: i64(0)},
		BlockIO: &specs.LinuxBlockIO{
			Weight: u16(500), LeafWeight: u16(300),
			WeightDevice:            []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(600)}},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 1}, Rate: 1}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 2}, Rate: 2}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 3}, Rate: 3}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 4}, Rate: 4}},
		},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}},
		Network:        &specs.LinuxNetwork{ClassID: u32(0x100001), Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}},
		Rdma:           map[string]specs.LinuxRdma{"mlx5_1": {HcaHandles: u32(3)}},
		Unified:        map[string]string{"memory.high": "1G"},
	}
	r := convert(t, spec).Cgroups.Resources
	checks := []struct {
		name      string
		got, want any
	}{
		{"memory", r.Memory, int64(100)},
		{"reservation", r.MemoryReservation, int64(50)},
		{"swap", r.MemorySwap, int64(200)},
		{"swappiness", *r.MemorySwappiness, uint64(10)},
		{"oom", r.OomKillDisable, true},
		{"check before update", r.MemoryCheckBeforeUpdate, true},
		{"shares", r.CpuShares, uint64(512)},
		{"quota", r.CpuQuota, int64(50000)},
		{"burst", *r.CpuBurst, uint64(1000)},
		{"period", r.CpuPeriod, uint64(100000)},
		{"rt runtime", r.CpuRtRuntime, int64(950)},
		{"rt period", r.CpuRtPeriod, uint64(1000)},
		{"cpus", r.CpusetCpus, "0-1"},
		{"mems", r.CpusetMems, "0"},
		{"idle", *r.CPUIdle, int64(1)},
		{"pids", *r.PidsLimit, int64(0)},
		{"blkio weight", r.BlkioWeight, uint16(500)},
		{"blkio leaf weight", r.BlkioLeafWeight, uint16(300)},
		{"weight device", r.BlkioWeightDevice[0].WeightString() + "/" + r.BlkioWeightDevice[0].LeafWeightString(), "8:0 600/8:0 0"},
		{"read bps", r.BlkioThrottleReadBpsDevice[0].String(), "8:1 1"},
		{"write bps", r.BlkioThrottleWriteBpsDevice[0].String(), "8:2 2"},
		{"read iops", r.BlkioThrottleReadIOPSDevice[0].String(), "8:3 3"},
		{"write iops", r.BlkioThrottleWriteIOPSDevice[0].String(), "8:4 4"},
		{"hugetlb", *r.HugetlbLimit[0], cgroups.HugepageLimit{Pagesize: "2MB", Limit: 1 << 21}},
		{"classid", r.NetClsClassid, uint32(0x100001)},
		{"prio", r.NetPrioIfpriomap[0].CgroupString(), "eth0 5"},
		{"rdma", *r.Rdma["mlx5_1"].HcaHandles, uint32(3)},
		{"rdma objects", r.Rdma["mlx5_1"].HcaObjects == nil, true},
		{"unified", r.Unified["memory.high"], "1G"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCgroupPlace(t *testing.T) {
	tests := []struct {
		name    string
		systemd bool
		path    string
		want    configs.Cgroup
	}{
		{"default", false, "", configs.Cgroup{Path: "/corral/ctr"}},
		{"absolute", false, "/kubepods/pod1/ctr", configs.Cgroup{Path: "/kubepods/pod1/ctr"}},
		{"relative", false, "mine/ctr", configs.Cgroup{Path: "mine/ctr"}},
		{"systemd default", true, "", configs.Cgroup{Name: "ctr", ScopePrefix: "corral", Systemd: true}},
		{"systemd", true, "machine.slice:libpod:abc", configs.Cgroup{Parent: "machine.slice", ScopePrefix: "libpod", Name: "abc", Systemd: true}},
		{"systemd without slice or name", true, "::", configs.Cgroup{Name: "ctr", Systemd: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Example()
			spec.Linux.CgroupsPath = tt.path
			c, err := CreateLibcontainerConfig(&CreateOpts{CgroupName: "ctr", Spec: spec, UseSystemdCgroup: tt.systemd})
			if err != nil {
				t.Fatal(err)
			}
			got := *c.Cgroups
			got.Resources = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestMergeResources: an update changes what it gives and nothing else;
// per-device entries replace the entry of their device and keep the
// others; device rules are never touched.
func TestMergeResources(t *testing.T) {
	rule := &devices.Rule{Type: devices.CharDevice, Major: 10, Minor: 229, Permissions: "rw", Allow: true}
	res := configs.Resources{
		Memory:                     64 << 20,
		CpuShares:                  512,
		BlkioThrottleReadBpsDevice: []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 100), cgroups.NewThrottleDevice(8, 16, 200)},
		Unified:                    map[string]string{"memory.high": "1M"},
		Devices:                    []*devices.Rule{rule},
	}
	err := MergeResources(&res, &specs.LinuxResources{
		CPU:     &specs.LinuxCPU{Idle: i64(1)},
		BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 300}, {LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 7, Minor: 0}, Rate: 400}}},
		Pids:    &specs.LinuxPids{Limit: i64(0)},
		Unified: map[string]string{"pids.max": "5"},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var throttles []string
	for _, d := range res.BlkioThrottleReadBpsDevice {
		throttles = append(throttles, d.String())
	}
	switch {
	case res.Memory != 64<<20 || res.CpuShares != 512:
		t.Errorf("unset fields changed: memory %d shares %d", res.Memory, res.CpuShares)
	case res.CPUIdle == nil || *res.CPUIdle != 1 || res.PidsLimit == nil || *res.PidsLimit != 0:
		t.Errorf("cpu idle %v, pids %v", res.CPUIdle, res.PidsLimit)
	case !slices.Equal(throttles, []string{"8:0 100", "8:16 300", "7:0 400"}):
		t.Errorf("throttles %q", throttles)
	case !reflect.DeepEqual(res.Unified, map[string]string{"memory.high": "1M", "pids.max": "5"}):
		t.Errorf("unified %v", res.Unified)
	case len(res.Devices) != 1 || res.Devices[0] != rule:
		t.Errorf("device rules changed: %v", res.Devices)
	}

	res = configs.Resources{Memory: 64 << 20, MemorySwap: 128 << 20}
	if err := MergeResources(&res, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}}); err != nil {
		t.Fatal(err)
	}
	// On cgroup v1 the kernel refuses memory above memory+swap.
	wantSwap := int64(-1)
	if cgroups.IsCgroup2UnifiedMode() {
		wantSwap = 128 << 20
	}
	if res.Memory != -1 || res.MemorySwap != wantSwap {
		t.Errorf("memory -1: memory %d swap %d, want swap %d", res.Memory, res.MemorySwap, wantSwap)
	}
	if err := MergeResources(&res, &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(101)}}); err == nil {
		t.Error("swappiness 101: no error")
	}
}
