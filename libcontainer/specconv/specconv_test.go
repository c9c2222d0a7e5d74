package specconv

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

func convert(t *testing.T, spec *specs.Spec) *configs.Config {
	t.Helper()
	c, err := CreateLibcontainerConfig(&CreateOpts{CgroupName: "ctr", Spec: spec})
	if err != nil {
		t.Fatalf("CreateLibcontainerConfig: %v", err)
	}
	return c
}

func cwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestExampleRoundTrip(t *testing.T) {
	b, err := json.Marshal(Example())
	if err != nil {
		t.Fatal(err)
	}
	spec, err := LoadSpec(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("LoadSpec of Example: %v", err)
	}
	if !reflect.DeepEqual(spec, Example()) {
		t.Errorf("Example does not survive JSON:\n got %+v\nwant %+v", spec, Example())
	}
	c := convert(t, spec)

	if want := filepath.Join(cwd(t), "rootfs"); c.Rootfs != want || !c.Readonlyfs {
		t.Errorf("rootfs = %q readonly %v, want %q readonly", c.Rootfs, c.Readonlyfs, want)
	}
	if c.Version != specs.Version || c.Hostname != "corral" {
		t.Errorf("version %q hostname %q", c.Version, c.Hostname)
	}
	nss := []configs.NamespaceType{configs.NEWPID, configs.NEWNET, configs.NEWIPC, configs.NEWUTS, configs.NEWNS}
	// runc's rule: a cgroup namespace on a host of cgroup v2 alone.
	if cgroups.IsCgroup2UnifiedMode() {
		nss = append(nss, configs.NEWCGROUP)
	}
	for _, ns := range nss {
		if !c.Namespaces.IsPrivate(ns) {
			t.Errorf("namespace %s missing", ns)
		}
	}
	if len(c.Namespaces) != len(nss) {
		t.Errorf("namespaces = %v, want %v", c.Namespaces, nss)
	}
	if len(c.Mounts) != 7 {
		t.Fatalf("got %d mounts, want 7", len(c.Mounts))
	}
	sys := c.Mounts[5]
	if sys.Destination != "/sys" || sys.Device != "sysfs" || sys.Flags != unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV|unix.MS_RDONLY {
		t.Errorf("/sys mount = %+v", sys)
	}
	if pts := c.Mounts[2]; pts.Data != "newinstance,ptmxmode=0666,mode=0620,gid=5" || pts.Flags != unix.MS_NOSUID|unix.MS_NOEXEC {
		t.Errorf("/dev/pts mount = %+v", pts)
	}
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	if want := (&configs.Capabilities{Bounding: caps, Effective: caps, Permitted: caps}); !reflect.DeepEqual(c.Capabilities, want) {
		t.Errorf("capabilities = %+v", c.Capabilities)
	}
	if want := []configs.Rlimit{{Type: unix.RLIMIT_NOFILE, Hard: 1024, Soft: 1024}}; !reflect.DeepEqual(c.Rlimits, want) {
		t.Errorf("rlimits = %+v", c.Rlimits)
	}
	if !c.NoNewPrivileges {
		t.Error("noNewPrivileges lost")
	}
	if !slices.Contains(c.MaskPaths, "/proc/kcore") || !slices.Contains(c.ReadonlyPaths, "/proc/sys") {
		t.Errorf("masked %v readonly %v", c.MaskPaths, c.ReadonlyPaths)
	}
	if len(c.Networks) != 1 || c.Networks[0].Type != "loopback" {
		t.Errorf("networks = %+v", c.Networks)
	}
	if c.Cgroups == nil || c.Cgroups.Path != "/corral/ctr" || c.Cgroups.Name != "" || c.Cgroups.Systemd {
		t.Errorf("cgroup = %+v", c.Cgroups)
	}
	// Every default node is created.
	var paths []string
	for _, d := range c.Devices {
		paths = append(paths, d.Path)
	}
	want := []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/urandom", "/dev/random"}
	if !slices.Equal(paths, want) {
		t.Errorf("devices = %v, want %v", paths, want)
	}
	// The config must store and load as JSON (state.json).
	if _, err := json.Marshal(c); err != nil {
		t.Errorf("config does not marshal: %v", err)
	}
}

func TestExampleIsFresh(t *testing.T) {
	a := Example()
	a.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	a.Mounts[0].Destination = "/x"
	if b := Example(); b.Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" || b.Mounts[0].Destination != "/proc" {
		t.Error("Example shares memory between calls")
	}
	if a.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" {
		t.Error("Example shares capability lists between sets")
	}
}

func TestToRootless(t *testing.T) {
	spec := Example()
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
	ToRootless(spec)

	var users int
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			users++
			if ns.Path != "" {
				t.Errorf("user namespace keeps path %q", ns.Path)
			}
		}
	}
	if users != 1 {
		t.Errorf("%d user namespaces", users)
	}
	if !slices.Contains(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace}) {
		t.Error("network namespace dropped")
	}
	wantUID := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	wantGID := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
	if !reflect.DeepEqual(spec.Linux.UIDMappings, wantUID) || !reflect.DeepEqual(spec.Linux.GIDMappings, wantGID) {
		t.Errorf("mappings %v %v", spec.Linux.UIDMappings, spec.Linux.GIDMappings)
	}
	if spec.Linux.Resources != nil {
		t.Error("resources kept")
	}
	for _, m := range spec.Mounts {
		for _, o := range m.Options {
			if strings.HasPrefix(o, "gid=") || strings.HasPrefix(o, "uid=") {
				t.Errorf("mount %s keeps %s", m.Destination, o)
			}
		}
		if m.Destination == "/sys" && (m.Source != "/sys" || !slices.Contains(m.Options, "rbind") || !slices.Contains(m.Options, "ro")) {
			t.Errorf("/sys mount = %+v", m)
		}
	}

	c, err := CreateLibcontainerConfig(&CreateOpts{CgroupName: "ctr", Spec: spec, RootlessEUID: true, RootlessCgroups: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.RootlessEUID || !c.RootlessCgroups || !c.Cgroups.Rootless {
		t.Error("rootless flags lost")
	}
	if sys := c.Mounts[5]; sys.Device != "bind" || sys.Source != "/sys" || sys.Flags&(unix.MS_BIND|unix.MS_REC|unix.MS_RDONLY) != unix.MS_BIND|unix.MS_REC|unix.MS_RDONLY {
		t.Errorf("/sys = %+v", sys)
	}

	// A spec without a linux object gets one.
	bare := &specs.Spec{}
	ToRootless(bare)
	if bare.Linux == nil || len(bare.Linux.Namespaces) != 1 {
		t.Errorf("bare spec: %+v", bare.Linux)
	}
}

func TestAllowedDevices(t *testing.T) {
	var nodes, rules int
	for _, d := range AllowedDevices {
		if !d.Allow {
			t.Errorf("%+v is not allowed", d)
		}
		if d.Path == "" {
			rules++
			continue
		}
		nodes++
		if d.FileMode != 0o666 || d.Permissions != "rwm" || d.Type != devices.CharDevice {
			t.Errorf("node %+v", d)
		}
	}
	if nodes != 6 {
		t.Errorf("%d nodes, want the 6 default devices", nodes)
	}
	has := func(major, minor int64) bool {
		for _, d := range AllowedDevices {
			if d.Type == devices.CharDevice && d.Major == major && d.Minor == minor && d.Path == "" && d.Permissions == "rwm" {
				return true
			}
		}
		return false
	}
	for _, mm := range [][2]int64{{5, 1}, {5, 2}, {136, devices.Wildcard}} {
		if !has(mm[0], mm[1]) {
			t.Errorf("no rule for %d:%d", mm[0], mm[1])
		}
	}

	// Configs get copies.
	c := convert(t, Example())
	c.Devices[0].Major = 99
	c.Cgroups.Devices[len(c.Cgroups.Devices)-1].Major = 99
	for _, d := range AllowedDevices {
		if d.Major == 99 {
			t.Fatal("changing a config changed AllowedDevices")
		}
	}
}

// TestSpecNotModified guards the promise that conversion only reads.
func TestSpecNotModified(t *testing.T) {
	spec := fullSpec()
	before, _ := json.Marshal(spec)
	c := convert(t, spec)
	after, _ := json.Marshal(spec)
	if !bytes.Equal(before, after) {
		t.Errorf("spec changed:\n%s\n%s", before, after)
	}
	// Nor does the config share memory with it.
	c.Sysctl["kernel.x"] = "1"
	c.Capabilities.Bounding[0] = "X"
	c.Seccomp.Syscalls[0].Args[0].Value = 99
	if _, ok := spec.Linux.Sysctl["kernel.x"]; ok || spec.Process.Capabilities.Bounding[0] == "X" || spec.Linux.Seccomp.Syscalls[0].Args[0].Value == 99 {
		t.Error("config shares memory with the spec")
	}
}

func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }
func u64(v uint64) *uint64 { return &v }
func i64(v int64) *int64   { return &v }

// fullSpec sets a little of everything, for the tests that want a busy
// spec.
func fullSpec() *specs.Spec {
	s := Example()
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	s.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{{
			Names:  []string{"read", "write"},
			Action: specs.ActAllow,
			Args:   []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}},
		}},
	}
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(1 << 30)}
	s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}}
	s.Annotations = map[string]string{"b": "2", "a": "1"}
	return s
}

func TestConvertSeccomp(t *testing.T) {
	spec := Example()
	spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction:    specs.ActErrno,
		DefaultErrnoRet:  ptrTo(uint(38)),
		Architectures:    []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Flags:            []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		ListenerPath:     "/run/agent.sock",
		ListenerMetadata: "meta",
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: ptrTo(uint(1)), Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 0xff, ValueTwo: 8, Op: specs.OpMaskedEqual},
			}},
			{Names: []string{"mount"}, Action: specs.ActNotify},
		},
	}
	s := convert(t, spec).Seccomp
	want := &configs.Seccomp{
		DefaultAction:    configs.Errno,
		DefaultErrnoRet:  ptrTo(uint(38)),
		Architectures:    []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"},
		Flags:            []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		ListenerPath:     "/run/agent.sock",
		ListenerMetadata: "meta",
		Syscalls: []*configs.Syscall{
			{Name: "read", Action: configs.Allow},
			{Name: "write", Action: configs.Allow},
			{Name: "personality", Action: configs.Errno, ErrnoRet: ptrTo(uint(1)), Args: []*configs.Arg{{Index: 0, Value: 0xff, ValueTwo: 8, Op: configs.MaskEqualTo}}},
			{Name: "mount", Action: configs.Notify},
		},
	}
	if !reflect.DeepEqual(s, want) {
		got, _ := json.Marshal(s)
		w, _ := json.Marshal(want)
		t.Errorf("got  %s\nwant %s", got, w)
	}
}

func TestConvertFields(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*specs.Spec)
		opts   func(*CreateOpts)
		check  func(*testing.T, *configs.Config)
	}{
		{
			name:   "hostname and domainname",
			mutate: func(s *specs.Spec) { s.Hostname, s.Domainname = "h", "example.org" },
			check: func(t *testing.T, c *configs.Config) {
				if c.Hostname != "h" || c.Domainname != "example.org" {
					t.Errorf("%q %q", c.Hostname, c.Domainname)
				}
			},
		},
		{
			name:   "absolute root, writable",
			mutate: func(s *specs.Spec) { s.Root = &specs.Root{Path: "/srv/root"} },
			check: func(t *testing.T, c *configs.Config) {
				if c.Rootfs != "/srv/root" || c.Readonlyfs {
					t.Errorf("%q %v", c.Rootfs, c.Readonlyfs)
				}
			},
		},
		{
			name: "namespaces joined by path, and user mappings",
			mutate: func(s *specs.Spec) {
				s.Linux.Namespaces = []specs.LinuxNamespace{
					{Type: specs.MountNamespace},
					{Type: specs.NetworkNamespace, Path: "/run/netns/test"},
					{Type: specs.UserNamespace},
					{Type: specs.TimeNamespace},
				}
				s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65535}}
				s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
			},
			check: func(t *testing.T, c *configs.Config) {
				want := configs.Namespaces{{Type: configs.NEWNS}, {Type: configs.NEWNET, Path: "/run/netns/test"}, {Type: configs.NEWUSER}, {Type: configs.NEWTIME}}
				if !reflect.DeepEqual(c.Namespaces, want) {
					t.Errorf("namespaces %v", c.Namespaces)
				}
				if len(c.Networks) != 0 {
					t.Errorf("a joined network namespace got networks %v", c.Networks)
				}
				if want := []configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65535}}; !reflect.DeepEqual(c.UIDMappings, want) {
					t.Errorf("uid maps %v", c.UIDMappings)
				}
				if want := []configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}}; !reflect.DeepEqual(c.GIDMappings, want) {
					t.Errorf("gid maps %v", c.GIDMappings)
				}
			},
		},
		{
			name: "a joined user namespace needs no mappings",
			mutate: func(s *specs.Spec) {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
			},
			check: func(t *testing.T, c *configs.Config) {
				if c.Namespaces.PathOf(configs.NEWUSER) != "/proc/1/ns/user" {
					t.Errorf("namespaces %v", c.Namespaces)
				}
			},
		},
		{
			name: "hooks",
			mutate: func(s *specs.Spec) {
				h := func(p string) []specs.Hook {
					return []specs.Hook{{Path: p, Args: []string{p, "x"}, Env: []string{"A=1"}, Timeout: ptrTo(3)}}
				}
				s.Hooks = &specs.Hooks{
					//lint:ignore SA1019 prestart hooks are still part of the spec
					Prestart: h("/p"), CreateRuntime: h("/cr"), CreateContainer: h("/cc"),
					StartContainer: h("/sc"), Poststart: h("/ps"), Poststop: append(h("/st"), specs.Hook{Path: "/st2"}),
				}
			},
			check: func(t *testing.T, c *configs.Config) {
				three := 3 * time.Second
				for name, path := range map[configs.HookName]string{
					configs.Prestart: "/p", configs.CreateRuntime: "/cr", configs.CreateContainer: "/cc",
					configs.StartContainer: "/sc", configs.Poststart: "/ps", configs.Poststop: "/st",
				} {
					want := configs.NewCommandHook(configs.Command{Path: path, Args: []string{path, "x"}, Env: []string{"A=1"}, Timeout: &three})
					if len(c.Hooks[name]) == 0 || !reflect.DeepEqual(c.Hooks[name][0], want) {
						t.Errorf("%s: %+v", name, c.Hooks[name])
					}
				}
				if len(c.Hooks[configs.Poststop]) != 2 || c.Hooks[configs.Poststop][1].(configs.CommandHook).Timeout != nil {
					t.Errorf("poststop: %+v", c.Hooks[configs.Poststop])
				}
			},
		},
		{
			name: "linux misc",
			mutate: func(s *specs.Spec) {
				s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
				s.Linux.RootfsPropagation = "rslave"
				s.Linux.MaskedPaths = []string{"/proc/x"}
				s.Linux.ReadonlyPaths = []string{"/proc/y"}
				s.Linux.MountLabel = "system_u:object_r:container_file_t:s0"
				s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
				s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10, Nanosecs: 5}, "boottime": {Secs: -3}}
				s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "g", L3CacheSchema: "L3:0=f", MemBwSchema: "MB:0=50", Schemata: []string{"L2:0=3"}, EnableMonitoring: true}
				s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "ctr%d"}, "dummy0": {}}
			},
			check: func(t *testing.T, c *configs.Config) {
				if c.Sysctl["net.ipv4.ip_forward"] != "1" || c.RootPropagation != unix.MS_SLAVE|unix.MS_REC {
					t.Errorf("sysctl %v propagation %#x", c.Sysctl, c.RootPropagation)
				}
				if !slices.Equal(c.MaskPaths, []string{"/proc/x"}) || !slices.Equal(c.ReadonlyPaths, []string{"/proc/y"}) {
					t.Errorf("masked %v readonly %v", c.MaskPaths, c.ReadonlyPaths)
				}
				if c.MountLabel != "system_u:object_r:container_file_t:s0" {
					t.Errorf("mount label %q", c.MountLabel)
				}
				if c.Personality == nil || c.Personality.Domain != "LINUX32" {
					t.Errorf("personality %+v", c.Personality)
				}
				if c.TimeOffsets["monotonic"] != (specs.LinuxTimeOffset{Secs: 10, Nanosecs: 5}) || c.TimeOffsets["boottime"].Secs != -3 {
					t.Errorf("time offsets %v", c.TimeOffsets)
				}
				want := &configs.IntelRdt{ClosID: "g", L3CacheSchema: "L3:0=f", MemBwSchema: "MB:0=50", Schemata: []string{"L2:0=3"}, EnableMonitoring: true}
				if !reflect.DeepEqual(c.IntelRdt, want) {
					t.Errorf("intelRdt %+v", c.IntelRdt)
				}
				if len(c.NetDevices) != 2 || c.NetDevices["eth1"].Name != "ctr%d" || c.NetDevices["dummy0"].Name != "" {
					t.Errorf("net devices %v", c.NetDevices)
				}
			},
		},
		{
			name: "process",
			mutate: func(s *specs.Spec) {
				p := s.Process
				p.OOMScoreAdj = ptrTo(-500)
				p.NoNewPrivileges = false
				p.ApparmorProfile = "corral-default"
				p.SelinuxLabel = "system_u:system_r:container_t:s0"
				p.Capabilities.Inheritable = []string{"CAP_CHOWN"}
				p.Capabilities.Permitted = append(p.Capabilities.Permitted, "CAP_CHOWN")
				// CAP_KILL is permitted, not inheritable: the kernel
				// cannot raise it, and it is dropped (with a warning).
				p.Capabilities.Ambient = []string{"CAP_CHOWN", "CAP_KILL"}
				p.Rlimits = append(p.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: 10}, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: 5, Hard: 5})
				p.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10, Nice: -5, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
				p.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 4}
				p.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-3,7", Final: "4"}
				p.User.Umask = u32(0o027)
			},
			check: func(t *testing.T, c *configs.Config) {
				if *c.OomScoreAdj != -500 || c.NoNewPrivileges || c.AppArmorProfile != "corral-default" || c.ProcessLabel != "system_u:system_r:container_t:s0" {
					t.Errorf("oom %v nnp %v apparmor %q selinux %q", *c.OomScoreAdj, c.NoNewPrivileges, c.AppArmorProfile, c.ProcessLabel)
				}
				if !slices.Equal(c.Capabilities.Inheritable, []string{"CAP_CHOWN"}) || !slices.Equal(c.Capabilities.Ambient, []string{"CAP_CHOWN"}) {
					t.Errorf("caps %+v", c.Capabilities)
				}
				want := []configs.Rlimit{
					{Type: unix.RLIMIT_NOFILE, Hard: 1024, Soft: 1024},
					{Type: unix.RLIMIT_CORE, Hard: 10, Soft: 0},
					{Type: unix.RLIMIT_NPROC, Hard: 5, Soft: 5},
				}
				if !reflect.DeepEqual(c.Rlimits, want) {
					t.Errorf("rlimits %v", c.Rlimits)
				}
				if s := c.Scheduler; s == nil || s.Policy != "SCHED_FIFO" || s.Priority != 10 || s.Nice != -5 || !slices.Equal(s.Flags, []string{"SCHED_FLAG_RESET_ON_FORK"}) {
					t.Errorf("scheduler %+v", c.Scheduler)
				}
				if *c.IOPriority != (configs.IOPriority{Class: "IOPRIO_CLASS_BE", Priority: 4}) {
					t.Errorf("io priority %+v", c.IOPriority)
				}
				if *c.ExecCPUAffinity != (configs.CPUAffinity{Initial: "0-3,7", Final: "4"}) {
					t.Errorf("affinity %+v", c.ExecCPUAffinity)
				}
				if *c.Umask != 0o027 {
					t.Errorf("umask %#o", *c.Umask)
				}
			},
		},
		{
			name: "memory policy",
			mutate: func(s *specs.Spec) {
				s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-1,3",
					Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes, specs.MpolFNumaBalancing}}
			},
			check: func(t *testing.T, c *configs.Config) {
				want := &configs.MemoryPolicy{Mode: "MPOL_BIND", Nodes: "0-1,3", Flags: []string{"MPOL_F_STATIC_NODES", "MPOL_F_NUMA_BALANCING"}}
				if !reflect.DeepEqual(c.MemoryPolicy, want) {
					t.Errorf("memory policy %+v", c.MemoryPolicy)
				}
			},
		},
		{
			name: "deadline scheduler",
			mutate: func(s *specs.Spec) {
				s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10, Deadline: 20}
			},
			check: func(t *testing.T, c *configs.Config) {
				if c.Scheduler.Runtime != 10 || c.Scheduler.Deadline != 20 || c.Scheduler.Period != 0 {
					t.Errorf("scheduler %+v", c.Scheduler)
				}
			},
		},
		{
			name:   "no process",
			mutate: func(s *specs.Spec) { s.Process = nil },
			check: func(t *testing.T, c *configs.Config) {
				if c.Capabilities != nil || c.Rlimits != nil {
					t.Errorf("caps %v rlimits %v", c.Capabilities, c.Rlimits)
				}
			},
		},
		{
			name:   "annotations and version",
			mutate: func(s *specs.Spec) { s.Annotations = map[string]string{"z": "1", "a": "x=y"}; s.Version = "1.0.2-dev" },
			check: func(t *testing.T, c *configs.Config) {
				if !slices.Equal(c.Labels, []string{"a=x=y", "z=1"}) || c.Version != "1.0.2-dev" {
					t.Errorf("labels %v version %q", c.Labels, c.Version)
				}
			},
		},
		{
			name: "options",
			opts: func(o *CreateOpts) { o.NoPivotRoot, o.NoNewKeyring, o.RootlessCgroups = true, true, true },
			check: func(t *testing.T, c *configs.Config) {
				if !c.NoPivotRoot || !c.NoNewKeyring || !c.RootlessCgroups || !c.Cgroups.Rootless || c.RootlessEUID {
					t.Errorf("%+v", c)
				}
			},
		},
		{
			name:   "no mounts, no devices, no resources",
			mutate: func(s *specs.Spec) { s.Mounts = nil; s.Linux.Resources = nil; s.Linux.Devices = nil },
			check: func(t *testing.T, c *configs.Config) {
				if c.Mounts != nil || len(c.Devices) != 6 || len(c.Cgroups.Devices) != 1+len(AllowedDevices) {
					t.Errorf("mounts %v devices %d rules %d", c.Mounts, len(c.Devices), len(c.Cgroups.Devices))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Example()
			if tt.mutate != nil {
				tt.mutate(spec)
			}
			opts := &CreateOpts{CgroupName: "ctr", Spec: spec}
			if tt.opts != nil {
				tt.opts(opts)
			}
			c, err := CreateLibcontainerConfig(opts)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestUnknownCapabilities: names that are no capability are left out of
// every set, as runc does (with a warning), not refused.
func TestUnknownCapabilities(t *testing.T) {
	spec := Example()
	caps := spec.Process.Capabilities
	caps.Bounding = append(caps.Bounding, "CAP_NOSUCH")
	caps.Effective = append(caps.Effective, "CAP_FOO", "CAP_NOSUCH")
	caps.Permitted = append(caps.Permitted, "CAP_FOO")
	c := convert(t, spec)
	want := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	if got := c.Capabilities; !slices.Equal(got.Bounding, want) || !slices.Equal(got.Effective, want) || !slices.Equal(got.Permitted, want) {
		t.Errorf("capabilities %+v, want %v in each set", got, want)
	}
}
