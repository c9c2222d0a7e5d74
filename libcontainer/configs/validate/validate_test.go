package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/intelrdt"
)

func ptr[T any](v T) *T { return &v }

// goodConfig is a small config that uses most fields and must pass on any
// Linux host: the paths it names are its own temporary directories and
// files every Linux system has.
func goodConfig(tb testing.TB) *configs.Config {
	tb.Helper()
	return &configs.Config{
		Rootfs: tb.TempDir(),
		Mounts: []*configs.Mount{
			{Source: "proc", Destination: "/proc", Device: "proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
			{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755"},
			{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
			{Source: "cgroup", Destination: "/sys/fs/cgroup", Device: "cgroup", Flags: unix.MS_RDONLY},
			{
				Source: tb.TempDir(), Destination: "/data/../srv/data", Device: "bind",
				Flags: unix.MS_BIND | unix.MS_REC | unix.MS_NOATIME, ClearedFlags: unix.MS_NOSUID | unix.MS_RDONLY,
				PropagationFlags: []int{unix.MS_PRIVATE | unix.MS_REC},
				RecAttr:          &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOATIME, Attr_clr: unix.MOUNT_ATTR__ATIME},
			},
			{Source: "/proc/cpuinfo", Destination: "/proc/cpuinfo", Device: "bind", Flags: unix.MS_BIND},
			{Source: "tmpfs", Destination: "/run", Device: "tmpfs", TmpCopyUp: true},
		},
		Devices: []*devices.Device{
			{Rule: devices.Rule{Type: 'c', Major: 1, Minor: 3, Permissions: "rwm", Allow: true}, Path: "/dev/null", FileMode: 0o666},
			{Rule: devices.Rule{Type: 'p'}, Path: "/dev/fifo", FileMode: 0o600},
		},
		Hostname:   "box-1.example",
		Domainname: "(none)",
		Namespaces: configs.Namespaces{
			{Type: configs.NEWNS}, {Type: configs.NEWPID}, {Type: configs.NEWUTS},
			{Type: configs.NEWIPC}, {Type: configs.NEWNET},
		},
		Capabilities: &configs.Capabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Effective:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Inheritable: []string{"CAP_NET_BIND_SERVICE"},
			Ambient:     []string{"CAP_NET_BIND_SERVICE"},
		},
		Networks: []*configs.Network{{Type: "loopback"}},
		Cgroups: &configs.Cgroup{
			Path: "/corral/test",
			Resources: &configs.Resources{
				Memory: 4 << 20, MemorySwap: 8 << 20, MemoryReservation: -1,
				CpuShares: 1024, CpuQuota: 50000, CpuPeriod: 100000, CpuBurst: ptr(uint64(10000)),
				CpusetCpus: "0", CpusetMems: "0",
				PidsLimit:   ptr(int64(-1)),
				BlkioWeight: 500,
				Devices: []*devices.Rule{
					{Type: 'a', Major: -1, Minor: -1, Permissions: "rwm"},
					{Type: 'c', Major: 1, Minor: 3, Permissions: "mwr", Allow: true},
				},
			},
		},
		Rlimits:       []configs.Rlimit{{Type: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 4096}, {Type: unix.RLIMIT_CORE, Soft: ^uint64(0), Hard: ^uint64(0)}},
		OomScoreAdj:   ptr(100),
		MaskPaths:     []string{"/proc/kcore", "/sys/firmware"},
		ReadonlyPaths: []string{"/proc/sys"},
		Sysctl: map[string]string{
			"net.ipv4.ip_forward":               "1",
			"net/ipv4/conf/eth0.100/forwarding": "1",
			"kernel.shmmax":                     "65536",
			"fs.mqueue.msg_max":                 "10",
			"kernel.hostname":                   "box-1.example",
		},
		Seccomp: &configs.Seccomp{
			DefaultAction:   configs.Errno,
			DefaultErrnoRet: ptr(uint(unix.EPERM)),
			Architectures:   []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"},
			Flags:           []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
			Syscalls: []*configs.Syscall{
				{Name: "read", Action: configs.Allow},
				{Name: "personality", Action: configs.Allow, Args: []*configs.Arg{{Index: 0, Value: 8, Op: configs.EqualTo}}},
				{Name: "mkdir", Action: configs.Errno, ErrnoRet: ptr(uint(unix.EACCES))},
				{Name: "openat2", Action: configs.Notify},
			},
			ListenerPath: "/run/agent.sock",
		},
		Hooks: configs.Hooks{
			configs.Prestart: {configs.NewCommandHook(configs.Command{Path: "/bin/true", Timeout: ptr(time.Second)})},
			configs.Poststop: {&configs.CommandHook{Command: configs.Command{Path: "/bin/true"}}},
		},
		Labels:            []string{"bundle=/srv/bundle"},
		Umask:             ptr(uint32(0o022)),
		Personality:       &configs.Personality{Domain: "LINUX"},
		Scheduler:         &configs.Scheduler{Policy: "SCHED_OTHER", Nice: 5, Flags: []string{"SCHED_FLAG_RESET_ON_FORK"}},
		IOPriority:        &configs.IOPriority{Class: "IOPRIO_CLASS_BE", Priority: 4},
		ExecCPUAffinity:   &configs.CPUAffinity{Initial: "0", Final: "0"},
		RootPropagation:   unix.MS_PRIVATE | unix.MS_REC,
		ParentDeathSignal: int(unix.SIGKILL),
		NetDevices:        map[string]*configs.NetDevice{"dummy0": {Name: "eth1"}, "dummy1": nil},
	}
}

// errs flattens what Validate returned and checks that each one is an
// *Error that matches ErrInvalid and names its field.
func errs(t *testing.T, err error) []*Error {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error does not match ErrInvalid: %v", err)
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	var out []*Error
	for _, e := range list {
		var ve *Error
		if !errors.As(e, &ve) {
			t.Errorf("%v is a %T, not an *Error", e, e)
			continue
		}
		if !errors.Is(e, ErrInvalid) {
			t.Errorf("%v does not match ErrInvalid", e)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, ve.Field+": ") {
			t.Errorf("%q does not start with its field %q", msg, ve.Field)
		}
		if msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
			t.Errorf("%q is not lowercase without a final period", msg)
		}
		out = append(out, ve)
	}
	return out
}

func fieldsOf(es []*Error) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Field)
	}
	return out
}

func TestValidateGood(t *testing.T) {
	c := goodConfig(t)
	if err := Validate(c); err != nil {
		t.Fatalf("Validate(goodConfig) = %v", err)
	}
	// The JSON round trip is how configs reach the runtime.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back configs.Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := Validate(&back); err != nil {
		t.Fatalf("Validate(goodConfig after JSON) = %v", err)
	}
}

// TestBindSourceMissing: a bind source is looked up when its mount is
// made, in the config's order, since an earlier mount may put it there
// (runc's behaviour); its absence is no error at create.
func TestBindSourceMissing(t *testing.T) {
	c := goodConfig(t)
	c.Mounts[4].Source += "/missing"
	if err := Validate(c); err != nil {
		t.Fatalf("Validate with a bind source still to come = %v", err)
	}
}

// TestIDMapJoinedUserNamespace: an idmapped mount without mappings is
// mapped as the user namespace the container joins, and needs one.
func TestIDMapJoinedUserNamespace(t *testing.T) {
	c := goodConfig(t)
	c.Mounts[4].IDMapping = &configs.MountIDMapping{}
	err := Validate(c)
	if got := fieldsOf(errs(t, err)); len(got) != 1 || got[0] != "mounts[4].id_mapping.uid_mappings" {
		t.Fatalf("idmap without mappings or a user namespace joined: %v", err)
	}
	c.Namespaces.Add(configs.NEWUSER, "/proc/self/ns/user")
	if err := Validate(c); err != nil {
		t.Fatalf("idmap without mappings in a user namespace joined: %v", err)
	}
}

// Every mode takes the nodes and flags set_mempolicy(2) accepts with it;
// nodes this machine lacks are the kernel's to judge.
func TestMemoryPolicies(t *testing.T) {
	for _, p := range []configs.MemoryPolicy{
		{Mode: "MPOL_DEFAULT"},
		{Mode: "MPOL_LOCAL"},
		{Mode: "MPOL_PREFERRED"},
		{Mode: "MPOL_PREFERRED", Nodes: "0", Flags: []string{"MPOL_F_RELATIVE_NODES"}},
		{Mode: "MPOL_BIND", Nodes: "0-7", Flags: []string{"MPOL_F_STATIC_NODES", "MPOL_F_NUMA_BALANCING"}},
		{Mode: "MPOL_INTERLEAVE", Nodes: "0,2"},
		{Mode: "MPOL_WEIGHTED_INTERLEAVE", Nodes: "0"},
		{Mode: "MPOL_PREFERRED_MANY", Nodes: "4095", Flags: []string{"MPOL_F_NUMA_BALANCING"}},
	} {
		c := goodConfig(t)
		c.MemoryPolicy = &p
		if err := Validate(c); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestValidateNil(t *testing.T) {
	if err := Validate(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate(nil) = %v, want ErrInvalid", err)
	}
}

// TestMessages pins the wording of a few errors that users will read.
func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		mutate func(*configs.Config)
		want   string
	}{
		{
			func(c *configs.Config) { c.Mounts[2].Destination = "relative/x" },
			`mounts[2].destination: "relative/x" is not an absolute path`,
		},
		{
			func(c *configs.Config) { c.Namespaces[2].Path = "/proc/self/ns/net" },
			`namespaces[2].path: "/proc/self/ns/net" is a net namespace, not a uts namespace`,
		},
		{
			func(c *configs.Config) {
				c.Namespaces = append(c.Namespaces, configs.Namespace{Type: configs.NEWUSER})
				c.GIDMappings = []configs.IDMap{{Size: 1}}
			},
			"uid_mappings: a new user namespace needs uid and gid mappings",
		},
		{
			func(c *configs.Config) { c.Namespaces.Remove(configs.NEWNET); c.Networks = nil; c.NetDevices = nil },
			`sysctl "net.ipv4.ip_forward": needs a network namespace of the container's own`,
		},
		{
			func(c *configs.Config) { c.Cgroups.Memory = 2097152; c.Cgroups.MemorySwap = 1048576 },
			"cgroups.resources.memory_swap: 1048576 is below memory 2097152",
		},
		{
			func(c *configs.Config) { c.Rootfs = "/" },
			`rootfs: "/" is the host's root directory; a container needs a root filesystem of its own`,
		},
		{
			func(c *configs.Config) { c.Mounts[1].Flags |= unix.MS_SHARED },
			"mounts[1].flags: 0x1100002 has propagation flags (shared); they belong in propagation_flags",
		},
		{
			func(c *configs.Config) { c.Capabilities.Inheritable = nil },
			`capabilities.Ambient[0]: "CAP_NET_BIND_SERVICE" is not in the inheritable set; an ambient capability must be permitted and inheritable`,
		},
		{
			func(c *configs.Config) { c.Rlimits[1].Type = unix.RLIMIT_NOFILE },
			"rlimits[1].type: 7 is RLIMIT_NOFILE again (also rlimits[0])",
		},
		{
			func(c *configs.Config) { c.Umask = ptr(uint32(0o1022)) },
			"umask: 01022 has bits beyond 0777",
		},
		{
			func(c *configs.Config) { c.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_DEFAULT", Nodes: "0-7"} },
			`memory_policy.nodes: "0-7" is an invalid memory policy: MPOL_DEFAULT takes no nodes, got 8`,
		},
	} {
		c := goodConfig(t)
		tc.mutate(c)
		got := errs(t, Validate(c))
		var msgs []string
		for _, e := range got {
			msgs = append(msgs, e.Error())
		}
		if !slices.Contains(msgs, tc.want) {
			t.Errorf("got %q, want %q among them", msgs, tc.want)
		}
	}
}

// TestAllJoined checks that Validate reports every problem, not the first.
func TestAllJoined(t *testing.T) {
	c := goodConfig(t)
	c.Rootfs = "rel"
	c.Mounts[0].Destination = "proc"
	c.OomScoreAdj = ptr(5000)
	c.Labels = append(c.Labels, "")
	got := fieldsOf(errs(t, Validate(c)))
	want := []string{"rootfs", "mounts[0].destination", "oom_score_adj", "labels[1]"}
	if !slices.Equal(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
}

func TestNamespacePathErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
		notExist   bool
	}{
		{path: file, want: "is not a namespace file (like /proc/<pid>/ns/net)"},
		// A fifo must not block the check: it is never opened for reading.
		{path: fifo, want: "is not a namespace file"},
		{path: "/proc/self/ns", want: "is not a namespace file"},
		{path: file + ".missing", want: "does not exist", notExist: true},
		{path: "/proc/self/ns/mnt", want: "is a mnt namespace, not a net namespace"},
		{path: "ns/net", want: "is not an absolute path"},
	} {
		c := goodConfig(t)
		c.Namespaces[4].Path = tc.path
		err := Validate(c)
		es := errs(t, err)
		if len(es) != 1 || es[0].Field != "namespaces[4].path" || !strings.Contains(es[0].Reason, tc.want) {
			t.Errorf("path %q: got %v, want namespaces[4].path ... %s", tc.path, err, tc.want)
		}
		if tc.notExist && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("path %q: %v does not match fs.ErrNotExist", tc.path, err)
		}
	}
}

// TestJoinedNamespaces uses the test's own namespaces, which are real
// namespace files of the right types.
func TestJoinedNamespaces(t *testing.T) {
	c := goodConfig(t)
	c.Sysctl = nil
	c.Networks = nil
	c.NetDevices = nil
	c.Hostname, c.Domainname = "", ""
	for i := range c.Namespaces {
		c.Namespaces[i].Path = "/proc/self/ns/" + c.Namespaces[i].Type.File()
	}
	c.Namespaces = append(c.Namespaces,
		configs.Namespace{Type: configs.NEWUSER, Path: "/proc/self/ns/user"},
		configs.Namespace{Type: configs.NEWCGROUP, Path: "/proc/thread-self/ns/cgroup"},
		configs.Namespace{Type: configs.NEWTIME, Path: "/proc/self/ns/time_for_children"},
	)
	if err := Validate(c); err != nil {
		t.Fatal(err)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// newNetns returns the path of a network namespace made for the test: that
// of a child process, alive until the test ends. A child, not a locked
// thread, because the goroutine might run on the main thread, whose
// namespace is the process's.
func newNetns(t *testing.T) string {
	requireRoot(t)
	cmd := exec.Command("sleep", "infinity")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a process in a new network namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
}

// pid1Netns is pid 1's network namespace, which a sandbox may hide.
func pid1Netns(t *testing.T) string {
	const p = "/proc/1/ns/net"
	if _, err := os.Stat(p); err != nil {
		t.Skip(err)
	}
	return p
}

func TestSysctlNetworkNamespace(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
		ok   bool
	}{
		{"new", func(*testing.T) string { return "" }, true},
		{"joined", newNetns, true},
		{"runtime's", func(*testing.T) string { return "/proc/self/ns/net" }, false},
		{"pid 1's", pid1Netns, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goodConfig(t)
			c.Namespaces.Add(configs.NEWNET, tc.path(t))
			got := fieldsOf(errs(t, Validate(c)))
			if tc.ok && len(got) > 0 {
				t.Fatalf("got errors for %q", got)
			}
			if !tc.ok {
				for _, f := range []string{`sysctl "net.ipv4.ip_forward"`, "networks", "net_devices"} {
					if !slices.Contains(got, f) {
						t.Errorf("no error for %s in %q", f, got)
					}
				}
			}
		})
	}
}

// fakeMachine is the host's machine with some facts replaced.
func fakeMachine(edit func(m *machine)) *machine {
	m := *hostMachine()
	edit(&m)
	return &m
}

func TestMachineDependent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      func(*machine)
		mutate func(*configs.Config)
		fields []string
	}{
		{
			name: "hugetlb size the machine has",
			m:    func(m *machine) { m.hugePages = []string{"2MB", "1GB"} },
			mutate: func(c *configs.Config) {
				c.Cgroups.HugetlbLimit = []*cgroups.HugepageLimit{{Pagesize: "2MB", Limit: 1 << 30}}
			},
		},
		{
			name:   "hugetlb size the machine lacks",
			m:      func(m *machine) { m.hugePages = []string{"2MB", "1GB"} },
			mutate: func(c *configs.Config) { c.Cgroups.HugetlbLimit = []*cgroups.HugepageLimit{{Pagesize: "16GB"}} },
			fields: []string{"cgroups.resources.hugetlb_limit[0].page_size"},
		},
		{
			name:   "hugetlb without huge pages",
			m:      func(m *machine) { m.hugePages = nil },
			mutate: func(c *configs.Config) { c.Cgroups.HugetlbLimit = []*cgroups.HugepageLimit{{Pagesize: "2MB"}} },
			fields: []string{"cgroups.resources.hugetlb_limit[0].page_size"},
		},
		{
			name:   "cpus beyond the machine",
			m:      func(m *machine) { m.cpus = list{{0, 3}} },
			mutate: func(c *configs.Config) { c.Cgroups.CpusetCpus = "2-5"; c.ExecCPUAffinity.Final = "4" },
			fields: []string{"cgroups.resources.cpuset_cpus", "exec_cpu_affinity.final"},
		},
		{
			name:   "cpus unknown",
			m:      func(m *machine) { m.cpus = nil },
			mutate: func(c *configs.Config) { c.Cgroups.CpusetCpus = "0-1023" },
		},
		{
			name:   "nodes beyond the machine",
			m:      func(m *machine) { m.nodes = list{{0, 0}} },
			mutate: func(c *configs.Config) { c.Cgroups.CpusetMems = "0-1" },
			fields: []string{"cgroups.resources.cpuset_mems"},
		},
		{
			name: "unified on cgroup v2",
			m:    func(m *machine) { m.cgroup2 = true },
			mutate: func(c *configs.Config) {
				c.Cgroups.Unified = map[string]string{"memory.high": "max", "io.bfq.weight": "100", "cgroup.max.depth": "3"}
			},
		},
		{
			name: "unified keys",
			m:    func(m *machine) { m.cgroup2 = true },
			mutate: func(c *configs.Config) {
				c.Cgroups.Unified = map[string]string{"memory": "1", "../x.y": "1", "cgroup.procs": "1", "cpu.": "1", ".max": "1"}
			},
			fields: []string{
				`cgroups.resources.unified ".max"`, `cgroups.resources.unified "../x.y"`, `cgroups.resources.unified "cgroup.procs"`,
				`cgroups.resources.unified "cpu."`, `cgroups.resources.unified "memory"`,
			},
		},
		{
			name:   "unified on cgroup v1",
			m:      func(m *machine) { m.cgroup2 = false },
			mutate: func(c *configs.Config) { c.Cgroups.Unified = map[string]string{"memory.high": "max"} },
			fields: []string{"cgroups.resources.unified"},
		},
		{
			name: "a kernel without time namespaces",
			m: func(m *machine) {
				m.namespaces = map[string]bool{"mnt": true, "pid": true, "uts": true, "ipc": true, "net": true}
			},
			mutate: func(c *configs.Config) { c.Namespaces.Add(configs.NEWTIME, "") },
			fields: []string{"namespaces[5].type"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goodConfig(t)
			tc.mutate(c)
			got := fieldsOf(errs(t, check(c, fakeMachine(tc.m))))
			slices.Sort(got)
			slices.Sort(tc.fields)
			if !slices.Equal(got, tc.fields) {
				t.Errorf("fields = %q, want %q", got, tc.fields)
			}
		})
	}
}

// TestIntelRdt: the fields of linux.intelRdt the kernel would refuse are
// named; on a host without resctrl, any linux.intelRdt is refused, the
// error saying so, rather than accepted and ignored.
func TestIntelRdt(t *testing.T) {
	_, rootErr := intelrdt.Root()
	for _, tc := range []struct {
		name   string
		rdt    configs.IntelRdt
		fields []string
	}{
		{"empty", configs.IntelRdt{}, nil},
		{"default group", configs.IntelRdt{ClosID: "/"}, nil},
		{"closID", configs.IntelRdt{ClosID: "../x"}, []string{"intel_rdt.closID"}},
		{"closID dot", configs.IntelRdt{ClosID: "."}, []string{"intel_rdt.closID"}},
		{"schemas", configs.IntelRdt{L3CacheSchema: "L3:0", MemBwSchema: "L3:0=f", Schemata: []string{"L2:0=3", "", "MB:x=1"}},
			[]string{"intel_rdt.l3_cache_schema", "intel_rdt.memBwSchema", "intel_rdt.schemata[1]", "intel_rdt.schemata[2]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goodConfig(t)
			rdt := tc.rdt
			c.IntelRdt = &rdt
			want := tc.fields
			if rootErr != nil {
				want = append(want, "intel_rdt")
			}
			err := Validate(c)
			if want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			got := fieldsOf(errs(t, err))
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("fields = %q, want %q (%v)", got, want, err)
			}
			if rootErr != nil && !strings.Contains(err.Error(), "intel_rdt: linux.intelRdt cannot be honoured: no resctrl filesystem is mounted") {
				t.Errorf("error %q does not say why linux.intelRdt is refused", err)
			}
		})
	}
}

// Fuzz inputs are JSON configs as a CLI would read them from a bundle.
func FuzzValidate(f *testing.F) {
	b, err := json.Marshal(goodConfig(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var c configs.Config
		if json.Unmarshal(data, &c) != nil {
			return
		}
		err := Validate(&c)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("%v does not match ErrInvalid", err)
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	c := goodConfig(b)
	for b.Loop() {
		if err := Validate(c); err != nil {
			b.Fatal(err)
		}
	}
}
