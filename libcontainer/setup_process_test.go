package libcontainer

import (
	"reflect"
	"testing"

	"github.com/corral-oci/corral/libcontainer/configs"
)

func TestMergeRlimits(t *testing.T) {
	nofile := func(n uint64) configs.Rlimit { return configs.Rlimit{Type: 7, Soft: n, Hard: n} }
	nproc := func(n uint64) configs.Rlimit { return configs.Rlimit{Type: 6, Soft: n, Hard: n} }
	core := configs.Rlimit{Type: 4}
	for _, tc := range []struct {
		name       string
		base, over []configs.Rlimit
		want       []configs.Rlimit
	}{
		{"nothing", nil, nil, nil},
		{"base only", []configs.Rlimit{nofile(1024)}, nil, []configs.Rlimit{nofile(1024)}},
		{"over only", nil, []configs.Rlimit{nproc(10)}, []configs.Rlimit{nproc(10)}},
		{"replaced", []configs.Rlimit{nofile(1024), core}, []configs.Rlimit{nofile(64)}, []configs.Rlimit{core, nofile(64)}},
		{"added", []configs.Rlimit{nofile(1024)}, []configs.Rlimit{nproc(10)}, []configs.Rlimit{nofile(1024), nproc(10)}},
		{"all replaced", []configs.Rlimit{nofile(1), nproc(1)}, []configs.Rlimit{nproc(2), nofile(2)}, []configs.Rlimit{nproc(2), nofile(2)}},
	} {
		base := append([]configs.Rlimit(nil), tc.base...)
		got := mergeRlimits(base, tc.over)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if !reflect.DeepEqual(base, tc.base) {
			t.Errorf("%s: the base changed to %v", tc.name, base)
		}
	}
}

// A process takes the container's settings, and its own where it sets
// them.
func TestNewProcessSetup(t *testing.T) {
	umask, own := uint32(0o027), uint32(0o077)
	cfg := &configs.Config{
		Capabilities:    &configs.Capabilities{Bounding: []string{"CAP_KILL"}},
		NoNewPrivileges: true,
		Rlimits:         []configs.Rlimit{{Type: 7, Soft: 1024, Hard: 1024}},
		Umask:           &umask,
		AppArmorProfile: "container",
		ProcessLabel:    "system_u:system_r:container_t:s0",
		Scheduler:       &configs.Scheduler{Policy: "SCHED_BATCH"},
		IOPriority:      &configs.IOPriority{Class: "IOPRIO_CLASS_BE", Priority: 4},
		ExecCPUAffinity: &configs.CPUAffinity{Initial: "0"},
		MemoryPolicy:    &configs.MemoryPolicy{Mode: "MPOL_BIND", Nodes: "0"},
		Personality:     &configs.Personality{Domain: "LINUX32"},
	}
	p := &Process{Args: []string{"sh"}, Env: []string{"A=1"}, Cwd: "/tmp", User: "1:2", AdditionalGroups: []string{"3"}, ConsoleWidth: 80, ConsoleHeight: 24}
	got := newProcessSetup(cfg, p)
	want := processSetup{
		Args: p.Args, Env: p.Env, Cwd: "/tmp", User: "1:2", AdditionalGroups: []string{"3"},
		Capabilities: cfg.Capabilities, NoNewPrivileges: true, Rlimits: cfg.Rlimits, Umask: &umask,
		AppArmorProfile: "container", Label: cfg.ProcessLabel, Scheduler: cfg.Scheduler,
		IOPriority: cfg.IOPriority, CPUAffinity: cfg.ExecCPUAffinity, MemoryPolicy: cfg.MemoryPolicy, ConsoleWidth: 80, ConsoleHeight: 24,
		Personality: cfg.Personality,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the container's settings:\n%+v\nwant\n%+v", got, want)
	}
	// The container's execCPUAffinity is not init's.
	first := &Process{Args: p.Args, Init: true}
	if got := newProcessSetup(cfg, first); got.CPUAffinity != nil {
		t.Errorf("init takes the container's exec_cpu_affinity %+v", got.CPUAffinity)
	}

	no := false
	p.Capabilities = &configs.Capabilities{Bounding: []string{"CAP_CHOWN"}}
	p.NoNewPrivileges = &no
	p.Rlimits = []configs.Rlimit{{Type: 7, Soft: 8, Hard: 8}}
	p.Umask = &own
	p.AppArmorProfile, p.Label = "exec", "system_u:system_r:exec_t:s0"
	p.Scheduler = &configs.Scheduler{Policy: "SCHED_IDLE"}
	p.IOPriority = &configs.IOPriority{Class: "IOPRIO_CLASS_IDLE"}
	p.CPUAffinity = &configs.CPUAffinity{Final: "1"}
	got = newProcessSetup(cfg, p)
	want.Capabilities, want.NoNewPrivileges, want.Rlimits, want.Umask = p.Capabilities, false, p.Rlimits, &own
	want.AppArmorProfile, want.Label = "exec", p.Label
	want.Scheduler, want.IOPriority, want.CPUAffinity = p.Scheduler, p.IOPriority, p.CPUAffinity
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the process's own settings:\n%+v\nwant\n%+v", got, want)
	}
}
