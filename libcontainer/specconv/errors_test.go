package specconv

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func withUserNS(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
}

// TestConvertErrors checks that each bad input is refused with an error
// that starts with the JSON path of the field at fault.
func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*specs.Spec)
		opts   func(*CreateOpts)
		want   string
	}{
		{"version", func(s *specs.Spec) { s.Version = "2.0.0" }, nil, `ociVersion: "2.0.0" is not a supported version`},
		{"no root", func(s *specs.Spec) { s.Root = nil }, nil, "root: missing"},
		{"empty root", func(s *specs.Spec) { s.Root.Path = "" }, nil, "root.path: empty"},
		{"no linux", func(s *specs.Spec) { s.Linux = nil }, nil, "linux.namespaces: a mount namespace is required"},
		{"no mount namespace", func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:4] }, nil, "linux.namespaces: a mount namespace is required"},
		{"unknown namespace", func(s *specs.Spec) { s.Linux.Namespaces[2].Type = "foo" }, nil, `linux.namespaces[2].type: unknown namespace type "foo"`},
		{"duplicate namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces[:5], specs.LinuxNamespace{Type: "pid"})
		}, nil, `linux.namespaces[5].type: duplicate namespace "pid"`},
		{"relative namespace path", func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "netns" }, nil, `linux.namespaces[1].path: "netns" is not absolute`},
		{"rootless without user namespace", nil, func(o *CreateOpts) { o.RootlessEUID = true }, "linux.namespaces: running without root needs a user namespace"},
		{"user namespace without uid maps", func(s *specs.Spec) {
			withUserNS(s)
			s.Linux.UIDMappings = nil
		}, nil, "linux.uidMappings: a new user namespace needs uid mappings"},
		{"user namespace without gid maps", func(s *specs.Spec) {
			withUserNS(s)
			s.Linux.GIDMappings = nil
		}, nil, "linux.gidMappings: a new user namespace needs gid mappings"},
		{"maps without user namespace", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, nil, "linux.uidMappings: set without a user namespace"},
		{"gid maps without user namespace", func(s *specs.Spec) {
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, nil, "linux.gidMappings: set without a user namespace"},
		{"empty map", func(s *specs.Spec) {
			withUserNS(s)
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{HostID: 5})
		}, nil, "linux.uidMappings[1].size: must be positive"},
		{"overflowing map", func(s *specs.Spec) {
			withUserNS(s)
			s.Linux.GIDMappings[0] = specs.LinuxIDMapping{HostID: 1<<32 - 1, Size: 2}
		}, nil, "linux.gidMappings[0]: range of 2 ids"},

		{"empty destination", func(s *specs.Spec) { s.Mounts[1].Destination = "" }, nil, "mounts[1].destination: empty"},
		{"no type", func(s *specs.Spec) { s.Mounts[3].Type = "" }, nil, "mounts[3].type: empty, and the mount is not a bind mount"},
		{"bind without source", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/a", Options: []string{"rbind"}})
		}, nil, "mounts[7].source: empty, but a bind mount needs one"},
		{"empty option", func(s *specs.Spec) { s.Mounts[1].Options[2] = "" }, nil, "mounts[1].options[2]: empty"},
		{"idmap without mappings", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/a", Source: "/a", Options: []string{"bind", "idmap"}})
		}, nil, "mounts[7].options: idmap without uidMappings and gidMappings needs the container's user namespace mappings"},
		{"idmap on a tmpfs", func(s *specs.Spec) {
			withUserNS(s)
			s.Mounts[1].Options = append(s.Mounts[1].Options, "idmap")
		}, nil, "mounts[1].options: an idmapped mount must be a bind mount"},
		{"mount uid maps without gid maps", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/a", Source: "/a", Options: []string{"bind"}, UIDMappings: []specs.LinuxIDMapping{{Size: 1}}})
		}, nil, "mounts[7].gidMappings: empty, but uidMappings are set"},
		{"mount gid maps without uid maps", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/a", Source: "/a", Options: []string{"bind"}, GIDMappings: []specs.LinuxIDMapping{{Size: 1}}})
		}, nil, "mounts[7].uidMappings: empty, but gidMappings are set"},
		{"mount map of size 0", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{
				Destination: "/a", Source: "/a", Options: []string{"bind"},
				UIDMappings: []specs.LinuxIDMapping{{Size: 1}}, GIDMappings: []specs.LinuxIDMapping{{Size: 0}},
			})
		}, nil, "mounts[7].gidMappings[0].size: must be positive"},

		{"device without path", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Type: "c", Major: 1, Minor: 1}}
		}, nil, "linux.devices[0].path: empty"},
		{"relative device path", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "dev/fuse", Type: "c", Major: 10, Minor: 229}}
		}, nil, `linux.devices[0].path: "dev/fuse" is not absolute`},
		{"device twice", func(s *specs.Spec) {
			d := specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}
			s.Linux.Devices = []specs.LinuxDevice{d, d}
		}, nil, `linux.devices[1].path: "/dev/fuse" is listed twice`},
		{"device type", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "x"}}
		}, nil, `linux.devices[0].type: unknown device type "x"`},
		{"device major", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "c", Major: -1}}
		}, nil, "linux.devices[0].major: -1 is not a device number"},
		{"device minor", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "b", Minor: 1 << 40}}
		}, nil, "linux.devices[0].minor: 1099511627776 is not a device number"},
		{"device rule type", func(s *specs.Spec) { s.Linux.Resources.Devices[0].Type = "p" }, nil, `linux.resources.devices[0].type: unknown device type "p"`},
		{"device rule access", func(s *specs.Spec) { s.Linux.Resources.Devices[0].Access = "xq" }, nil, `linux.resources.devices[0].access: "xq" has none of r, w and m`},
		{"device rule major", func(s *specs.Spec) { s.Linux.Resources.Devices[0].Major = i64(-2) }, nil, "linux.resources.devices[0].major: -2 is not a device number"},
		{"device rule minor", func(s *specs.Spec) { s.Linux.Resources.Devices[0].Minor = i64(1 << 33) }, nil, "linux.resources.devices[0].minor: 8589934592 is not a device number"},

		{"swappiness", func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Swappiness: u64(101)}
		}, nil, "linux.resources.memory.swappiness: 101 is above 100"},
		{"weight device", func(s *specs.Spec) {
			s.Linux.Resources.BlockIO = &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{}}}
		}, nil, "linux.resources.blockIO.weightDevice[0]: sets neither weight nor leafWeight"},
		{"rdma", func(s *specs.Spec) {
			s.Linux.Resources.Rdma = map[string]specs.LinuxRdma{"mlx": {}}
		}, nil, `linux.resources.rdma["mlx"]: sets neither hcaHandles nor hcaObjects`},
		{"no cgroup name", nil, func(o *CreateOpts) { o.CgroupName = "" }, "linux.cgroupsPath: empty, and no container id"},
		{"no scope name", nil, func(o *CreateOpts) { o.CgroupName, o.UseSystemdCgroup = "", true }, "linux.cgroupsPath: empty, and no container id"},
		{"systemd path", func(s *specs.Spec) { s.Linux.CgroupsPath = "/a/b" }, func(o *CreateOpts) { o.UseSystemdCgroup = true },
			`linux.cgroupsPath: "/a/b" is not "slice:prefix:name"`},
		{"systemd slice", func(s *specs.Spec) { s.Linux.CgroupsPath = "/sys:p:n" }, func(o *CreateOpts) { o.UseSystemdCgroup = true },
			`linux.cgroupsPath: "/sys:p:n": parent "/sys" is not a systemd slice`},
		{"systemd name", func(s *specs.Spec) { s.Linux.CgroupsPath = "a.slice:p:" }, func(o *CreateOpts) { o.UseSystemdCgroup, o.CgroupName = true, "" },
			`linux.cgroupsPath: "a.slice:p:": no name`},

		{"seccomp default action", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"}
		}, nil, `linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_FOO"`},
		{"seccomp notify default", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}
		}, nil, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
		{"seccomp default errno", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: ptrTo(uint(1))}
		}, nil, "linux.seccomp.defaultErrnoRet: set, but SCMP_ACT_ALLOW takes no errno"},
		{"seccomp arch", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_Z80"}}
		}, nil, `linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_Z80"`},
		{"seccomp flag", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"X"}}
		}, nil, `linux.seccomp.flags[0]: unknown flag "X"`},
		{"seccomp metadata", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerMetadata: "m"}
		}, nil, "linux.seccomp.listenerMetadata: set without a listenerPath"},
		{"seccomp names", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Action: specs.ActErrno}}}
		}, nil, "linux.seccomp.syscalls[0].names: empty"},
		{"seccomp empty name", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"a", ""}, Action: specs.ActErrno}}}
		}, nil, "linux.seccomp.syscalls[0].names[1]: empty"},
		{"seccomp action", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"a"}, Action: "X"}}}
		}, nil, `linux.seccomp.syscalls[0].action: unknown seccomp action "X"`},
		{"seccomp errno", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"a"}, Action: specs.ActKill, ErrnoRet: ptrTo(uint(1))}}}
		}, nil, "linux.seccomp.syscalls[0].errnoRet: set, but SCMP_ACT_KILL takes no errno"},
		{"seccomp notify without listener", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"a"}, Action: specs.ActNotify}}}
		}, nil, "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"},
		{"seccomp arg index", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"a"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}}
		}, nil, "linux.seccomp.syscalls[0].args[0].index: 6 is not below 6"},
		{"seccomp arg op", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"a"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_X"}}}}}
		}, nil, `linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_X"`},

		{"memory policy without a mode", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{}
		}, nil, `linux.memoryPolicy.mode: invalid memory policy mode ""`},
		{"memory policy mode", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}
		}, nil, `linux.memoryPolicy.mode: invalid memory policy mode "INTERLEAVE"`},
		{"memory policy flag", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes, "badflag"}}
		}, nil, `linux.memoryPolicy.flags[1]: invalid memory policy flag "badflag"`},
		{"memory policy nodes", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-9876543210"}
		}, nil, `linux.memoryPolicy.nodes: invalid memory policy nodes "0-9876543210": memory node 9876543210 is above 4095`},
		{"memory policy node list", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1-0"}
		}, nil, `linux.memoryPolicy.nodes: invalid memory policy nodes "1-0": range "1-0" runs backwards`},
		{"rootfs propagation", func(s *specs.Spec) { s.Linux.RootfsPropagation = "rsomething" }, nil, `linux.rootfsPropagation: unknown propagation "rsomething"`},
		{"masked path", func(s *specs.Spec) { s.Linux.MaskedPaths[3] = "proc/keys" }, nil, `linux.maskedPaths[3]: "proc/keys" is not absolute`},
		{"readonly path", func(s *specs.Spec) { s.Linux.ReadonlyPaths[0] = "" }, nil, `linux.readonlyPaths[0]: "" is not absolute`},
		{"personality domain", func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: "BSD"}
		}, nil, `linux.personality.domain: unknown domain "BSD"`},
		{"personality flags", func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX", Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
		}, nil, `linux.personality.flags[0]: unsupported flag "ADDR_NO_RANDOMIZE"`},
		{"time offsets without namespace", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, nil, "linux.timeOffsets: set without a new time namespace"},
		{"time offsets clock", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
		}, nil, `linux.timeOffsets: unknown clock "realtime"`},
		{"time offsets nanoseconds", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1e9}}
		}, nil, "linux.timeOffsets.boottime.nanosecs: 1000000000 is not below one second"},
		{"intelRdt closID", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "../x"} }, nil, `linux.intelRdt.closID: "../x" is not a resctrl group name`},
		{"intelRdt l3", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f\nMB:0=1"} }, nil, "linux.intelRdt.l3CacheSchema:"},
		{"intelRdt mb", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{MemBwSchema: "0=50"} }, nil, `linux.intelRdt.memBwSchema: "0=50" is not one line starting with "MB:"`},
		{"intelRdt schemata", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{Schemata: []string{"a", "b\n"}} }, nil, "linux.intelRdt.schemata[1]:"},
		{"net device without namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = slicesDeleteType(s.Linux.Namespaces, specs.NetworkNamespace)
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth0": {}}
		}, nil, "linux.netDevices: set without a network namespace"},
		{"net device host name", func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"a/b": {}}
		}, nil, `linux.netDevices["a/b"]: "a/b" is not a network interface name`},
		{"net device name", func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth0": {Name: "averyveryverylongname"}}
		}, nil, `linux.netDevices["eth0"].name: "averyveryverylongname" is not a network interface name`},

		{"oom score", func(s *specs.Spec) { s.Process.OOMScoreAdj = ptrTo(1001) }, nil, "process.oomScoreAdj: 1001 is outside [-1000, 1000]"},
		{"umask", func(s *specs.Spec) { s.Process.User.Umask = u32(0o1000) }, nil, "process.user.umask: 01000 is not a umask"},
		{"rlimit type", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_FOO"}}
		}, nil, `process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"`},
		{"rlimit duplicate", func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOFILE"})
		}, nil, `process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"`},
		{"rlimit soft above hard", func(s *specs.Spec) {
			s.Process.Rlimits[0].Soft = 2048
		}, nil, "process.rlimits[0].soft: 2048 is above the hard limit 1024"},
		{"scheduler policy", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_X"} }, nil, `process.scheduler.policy: unknown policy "SCHED_X"`},
		{"scheduler flag", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"X"}}
		}, nil, `process.scheduler.flags[0]: unknown flag "X"`},
		{"scheduler nice", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Nice: 20} }, nil, "process.scheduler.nice: 20 is outside [-20, 19]"},
		{"scheduler realtime priority", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedRR} }, nil, "process.scheduler.priority: 0 is outside [1, 99] for SCHED_RR"},
		{"scheduler other priority", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Priority: 3}
		}, nil, "process.scheduler.priority: 3, but SCHED_BATCH takes priority 0"},
		{"scheduler deadline", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 30, Deadline: 20}
		}, nil, "process.scheduler: SCHED_DEADLINE needs 0 < runtime (30) <= deadline (20) <= period (0)"},
		{"io priority class", func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "X"} }, nil, `process.ioPriority.class: unknown class "X"`},
		{"io priority", func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 8}
		}, nil, "process.ioPriority.priority: 8 is outside [0, 7]"},
		{"cpu affinity initial", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-"} }, nil, `process.execCPUAffinity.initial: "0-": "" is not a cpu number`},
		{"cpu affinity final", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "3-1"} }, nil, `process.execCPUAffinity.final: "3-1": range "3-1" runs backwards`},
		{"cpu affinity huge", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "0-99999999"} }, nil, `process.execCPUAffinity.final: "0-99999999": cpu 99999999 is above 8191`},

		{"hook path", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/ok"}, {Path: "hook"}}}
		}, nil, `hooks.createContainer[1].path: "hook" is not absolute`},
		{"hook timeout", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/x", Timeout: ptrTo(0)}}}
		}, nil, "hooks.poststop[0].timeout: 0 is not positive"},
		{"hook timeout overflow", func(s *specs.Spec) {
			//lint:ignore SA1019 prestart hooks are still part of the spec
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/x", Timeout: ptrTo(1 << 62)}}}
		}, nil, "hooks.prestart[0].timeout: 4611686018427387904 seconds is too long"},
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
			if err == nil {
				t.Fatalf("no error, config %+v", c)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q\n  does not start with %q", err, tt.want)
			}
			// The path is a value as well as a prefix, for callers
			// that report it about another object.
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(tt.want, fe.Field+":") {
				t.Errorf("error %q is not the FieldError of %q", err, strings.SplitN(tt.want, ":", 2)[0])
			}
		})
	}
}

func slicesDeleteType(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, ns := range nss {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	return out
}

func TestNilOpts(t *testing.T) {
	if _, err := CreateLibcontainerConfig(nil); err == nil {
		t.Error("nil opts accepted")
	}
	if _, err := CreateLibcontainerConfig(&CreateOpts{}); err == nil {
		t.Error("nil spec accepted")
	}
}

func TestLoadSpecErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "  \n", "empty config"},
		{"type in a list", `{"mounts":[{"destination":"/a"},{"destination":5}]}`, "mounts[1].destination: cannot decode number into string (line 1, column 48)"},
		{"nested type", "{\n \"process\": {\"user\": {\"uid\": \"x\"}}}", "process.user.uid: cannot decode string into uint32 (line 2, column 32)"},
		{"negative", `{"process":{"rlimits":[{"type":"x","hard":1}, {"type":"y","hard":-1}]}}`, "process.rlimits[1].hard: cannot decode number -1 into uint64"},
		{"array for a string", `{"mounts":[{"destination":"/a"},{"destination":[1,2]}]}`, "mounts[1].destination: cannot decode array into string"},
		{"object for a list", `{"mounts":[{"options":{"a":1}}]}`, "mounts[0].options: cannot decode object into []string"},
		{"not an object", `[]`, "config: cannot decode array into specs.Spec (line 1, column 1)"},
		{"map value", `{"annotations":{"a":1}}`, "annotations.a: cannot decode number into string"},
		{"syntax", "{\n\"a\":1,\n\"b\":]}", "invalid JSON (line 3, column 5): invalid character ']'"},
		{"truncated", `{"a":`, "invalid JSON: unexpected end of input (line 1, column 6)"},
		{"trailing brace", `{"a":1} }`, "data after the JSON object (line 1, column 9)"},
		{"second object", "{}\n\n  {}", "data after the JSON object (line 3, column 3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadSpec(strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q\n  does not start with %q", err, tt.want)
			}
		})
	}
}

func TestLoadSpecIgnoresUnknownFields(t *testing.T) {
	spec, err := LoadSpec(strings.NewReader(`{"ociVersion":"1.3.0","future":{"x":[1]},"root":{"path":"r","what":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Version != "1.3.0" || spec.Root.Path != "r" {
		t.Errorf("%+v", spec)
	}
}

// TestLoadSpecLegacyMonitoring: intelRdt's enableCMT and enableMBM
// (runtime-spec 1.1 to 1.2.1) ask for what enableMonitoring gives, rather
// than being dropped as unknown fields.
func TestLoadSpecLegacyMonitoring(t *testing.T) {
	for in, want := range map[string]bool{
		`{"linux":{"intelRdt":{"enableCMT":true}}}`:                          true,
		`{"linux":{"intelRdt":{"enableMBM":true,"closID":"g"}}}`:             true,
		`{"linux":{"intelRdt":{"enableCMT":false,"enableMBM":false}}}`:       false,
		`{"linux":{"intelRdt":{"enableMonitoring":true,"enableCMT":false}}}`: true,
		`{"linux":{"intelRdt":{}},"annotations":{"enableCMT":"x"}}`:          false,
	} {
		spec, err := LoadSpec(strings.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := spec.Linux.IntelRdt.EnableMonitoring; got != want {
			t.Errorf("%s: enableMonitoring %v, want %v", in, got, want)
		}
	}
}

// TestLoadProcess checks exec's reading of the bundle: only the process
// is decoded, with LoadSpec's errors, and the rest may be anything.
func TestLoadProcess(t *testing.T) {
	p, err := LoadProcess(strings.NewReader(`{"mounts":{"not":"a list"},"process":{"args":["sh"],"cwd":"/"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Args) != 1 || p.Args[0] != "sh" || p.Cwd != "/" {
		t.Errorf("%+v", p)
	}
	for _, tt := range []struct{ in, want string }{
		{`{"root":{"path":"r"}}`, "process: missing"},
		{"{\n \"process\": {\"user\": {\"uid\": \"x\"}}}", "process.user.uid: cannot decode string into uint32 (line 2, column 32)"},
		{`[]`, "config: cannot decode array into an object (line 1, column 1)"},
		{`{"process":{}} {}`, "data after the JSON object (line 1, column 16)"},
		{"", "empty config"},
	} {
		if _, err := LoadProcess(strings.NewReader(tt.in)); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("LoadProcess(%q): %v, want %q", tt.in, err, tt.want)
		}
	}
}

// linuxSpec must follow specs.Spec: a field the spec gains is a field
// LoadSpec would silently drop.
func TestLinuxSpecFollowsSpec(t *testing.T) {
	otherPlatforms := map[string]bool{"Solaris": true, "Windows": true, "VM": true, "ZOS": true, "FreeBSD": true}
	ours := reflect.TypeFor[linuxSpec]()
	theirs := reflect.TypeFor[specs.Spec]()
	for i := range theirs.NumField() {
		f := theirs.Field(i)
		if otherPlatforms[f.Name] {
			continue
		}
		o, ok := ours.FieldByName(f.Name)
		if !ok || o.Type != f.Type || o.Tag.Get("json") != f.Tag.Get("json") {
			t.Errorf("linuxSpec.%s does not match specs.Spec.%s (%s `json:%q`)", f.Name, f.Name, f.Type, f.Tag.Get("json"))
		}
	}
	if ours.NumField() != theirs.NumField()-len(otherPlatforms) {
		t.Errorf("linuxSpec has %d fields, specs.Spec %d of which %d are other platforms'", ours.NumField(), theirs.NumField(), len(otherPlatforms))
	}
}
