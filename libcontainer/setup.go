package libcontainer

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// setupMode says what the re-executed child is.
type setupMode string

const (
	// modeInit builds the container and waits for start.
	modeInit setupMode = "init"
	// modeExec runs an extra process in a running container.
	modeExec setupMode = "exec"
)

// setup is the Config message: everything the child needs, so that it
// reads nothing from the host once it runs.
type setup struct {
	Mode setupMode `json:"mode"`
	ID   string    `json:"id"`
	// Config is the container's, for init only; it travels as
	// InitConfig, without what only the runtime uses.
	Config     *configs.Config `json:"-"`
	InitConfig *configs.Config `json:"init_config,omitempty"`
	Process    processSetup    `json:"process"`
	// OomScoreAdj is the container's, for init and exec'd processes.
	OomScoreAdj *int `json:"oom_score_adj,omitempty"`

	// FDs of the child, numbered as it sees them.
	FifoFD          int `json:"fifo_fd,omitempty"`
	ConsoleSocketFD int `json:"console_socket_fd,omitempty"`
	// PreservedFDs is how many fds from 3 up the process keeps.
	PreservedFDs int `json:"preserved_fds,omitempty"`

	// RunHooks asks init to stop before pivot_root for the runtime's
	// prestart, createRuntime and createContainer hooks.
	RunHooks bool `json:"run_hooks,omitempty"`
	// State is what startContainer hooks read on stdin.
	State *specs.State `json:"state,omitempty"`

	// CgroupPaths are the container's cgroups on the host, for cgroup
	// mounts inside it.
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	// CgroupMounts are the host's cgroup v1 hierarchies, for a cgroup
	// mount inside the container: the runtime has read them already,
	// and init would read and parse the host's mountinfo again.
	CgroupMounts []cgroupMount `json:"cgroup_mounts,omitempty"`

	// UnshareCgroupNS asks init for a new cgroup namespace: it can only
	// be made once init is in the container's cgroup.
	UnshareCgroupNS bool `json:"unshare_cgroup_ns,omitempty"`

	// IDMappedMounts are the child's fds of the idmapped bind mounts the
	// runtime made, detached, by mount destination.
	IDMappedMounts map[string]int `json:"idmapped_mounts,omitempty"`

	// UserNS is true when the process runs in a user namespace, where
	// device nodes cannot be made and must be bind-mounted.
	UserNS bool `json:"user_ns,omitempty"`
}

// cgroupMount is a cgroup v1 hierarchy of the host.
type cgroupMount struct {
	Mountpoint string   `json:"mountpoint"`
	Subsystems []string `json:"subsystems"`
}

// processSetup is the part of a Process the child applies.
type processSetup struct {
	Args             []string              `json:"args"`
	Env              []string              `json:"env,omitempty"`
	Cwd              string                `json:"cwd,omitempty"`
	User             string                `json:"user,omitempty"`
	AdditionalGroups []string              `json:"additional_groups,omitempty"`
	Capabilities     *configs.Capabilities `json:"capabilities,omitempty"`
	NoNewPrivileges  bool                  `json:"no_new_privileges,omitempty"`
	Rlimits          []configs.Rlimit      `json:"rlimits,omitempty"`
	Umask            *uint32               `json:"umask,omitempty"`
	AppArmorProfile  string                `json:"apparmor_profile,omitempty"`
	Label            string                `json:"label,omitempty"`
	Scheduler        *configs.Scheduler    `json:"scheduler,omitempty"`
	IOPriority       *configs.IOPriority   `json:"io_priority,omitempty"`
	CPUAffinity      *configs.CPUAffinity  `json:"cpu_affinity,omitempty"`
	Terminal         bool                  `json:"terminal,omitempty"`
	ConsoleWidth     uint16                `json:"console_width,omitempty"`
	ConsoleHeight    uint16                `json:"console_height,omitempty"`
	// SeccompBPF is the container's filter compiled by the runtime
	// (seccomp.Filter's binary form): the child loads it without
	// libseccomp.
	SeccompBPF  []byte               `json:"seccomp_bpf,omitempty"`
	Personality *configs.Personality `json:"personality,omitempty"`
}

// newProcessSetup merges the container's settings with the overrides of p.
func newProcessSetup(c *configs.Config, p *Process) processSetup {
	ps := processSetup{
		Args:             p.Args,
		Env:              p.Env,
		Cwd:              p.Cwd,
		User:             p.User,
		AdditionalGroups: p.AdditionalGroups,
		Capabilities:     c.Capabilities,
		NoNewPrivileges:  c.NoNewPrivileges,
		Rlimits:          mergeRlimits(c.Rlimits, p.Rlimits),
		Umask:            c.Umask,
		AppArmorProfile:  c.AppArmorProfile,
		Label:            c.ProcessLabel,
		Scheduler:        c.Scheduler,
		IOPriority:       c.IOPriority,
		CPUAffinity:      c.ExecCPUAffinity,
		Terminal:         p.ConsoleSocket != nil,
		ConsoleWidth:     p.ConsoleWidth,
		ConsoleHeight:    p.ConsoleHeight,
		Personality:      c.Personality,
	}
	if p.Capabilities != nil {
		ps.Capabilities = p.Capabilities
	}
	if p.NoNewPrivileges != nil {
		ps.NoNewPrivileges = *p.NoNewPrivileges
	}
	if p.Umask != nil {
		ps.Umask = p.Umask
	}
	if p.AppArmorProfile != "" {
		ps.AppArmorProfile = p.AppArmorProfile
	}
	if p.Label != "" {
		ps.Label = p.Label
	}
	if p.Scheduler != nil {
		ps.Scheduler = p.Scheduler
	}
	if p.IOPriority != nil {
		ps.IOPriority = p.IOPriority
	}
	if p.CPUAffinity != nil {
		ps.CPUAffinity = p.CPUAffinity
	}
	return ps
}

// mergeRlimits returns base with the limits of over replacing those of the
// same type.
func mergeRlimits(base, over []configs.Rlimit) []configs.Rlimit {
	if len(over) == 0 {
		return base
	}
	out := make([]configs.Rlimit, 0, len(base)+len(over))
	for _, b := range base {
		replaced := false
		for _, o := range over {
			if o.Type == b.Type {
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, b)
		}
	}
	return append(out, over...)
}

// encodeConfig fills InitConfig before the setup is sent: the Config
// without the cgroup (the runtime makes it and puts init in it) and the
// seccomp profile (init gets the compiled filter).
func (s *setup) encodeConfig() {
	if s.Config == nil {
		return
	}
	cfg := *s.Config
	cfg.Cgroups, cfg.Seccomp = nil, nil
	s.InitConfig = &cfg
}

// decodeConfig takes Config from InitConfig in the child.
func (s *setup) decodeConfig() error {
	if s.InitConfig == nil {
		return fmt.Errorf("%s setup without a config", s.Mode)
	}
	s.Config, s.InitConfig = s.InitConfig, nil
	return nil
}
