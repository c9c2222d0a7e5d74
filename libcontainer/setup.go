package libcontainer

import (
	"encoding/json"
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
// reads nothing from the host once it runs. It travels in posenc, which
// leaves out the fields tagged posenc:"-", and builds no JSON codec in the
// child: nothing in it needs one (TestSetupNeedsNoJSON).
type setup struct {
	Mode setupMode
	ID   string
	// Config is the container's, for init only; it travels as
	// InitConfig, without what only the runtime uses.
	Config     *configs.Config `posenc:"-"`
	InitConfig *configs.Config
	Process    processSetup
	// OomScoreAdj is the container's, for init and exec'd processes.
	OomScoreAdj *int

	// FDs of the child, numbered as it sees them.
	FifoFD int
	// ExeFD is the runtime binary the child runs from (selfexe).
	ExeFD           int
	ConsoleSocketFD int
	// PidNSFD, for an exec'd process in a pid namespace, is that
	// namespace, which the setup's locked thread joins for the
	// program's process alone (initExec); 0 for none.
	PidNSFD int
	// ProcFD, for an exec'd process with an AppArmor profile or an
	// SELinux label, is the runtime's procfs: the setup runs outside the
	// container's pid namespace, whose procfs has no thread-self for it.
	ProcFD int
	// PreservedFDs is how many fds from 3 up the process keeps.
	PreservedFDs int

	// RunHooks asks init to stop before pivot_root for the runtime's
	// prestart and createRuntime hooks.
	RunHooks bool
	// Hooks are those init runs itself, and HookState the container's
	// state they read on stdin, as JSON the runtime rendered.
	Hooks     initHooks
	HookState []byte

	// CgroupPaths are the container's cgroups on the host, for cgroup
	// mounts inside it.
	CgroupPaths map[string]string
	// CgroupMounts are the host's cgroup v1 hierarchies, for a cgroup
	// mount inside the container: the runtime has read them already,
	// and init would read and parse the host's mountinfo again.
	CgroupMounts []cgroupMount

	// UnshareCgroupNS asks init for a new cgroup namespace: it can only
	// be made once init is in the container's cgroup.
	UnshareCgroupNS bool

	// IDMappedMounts are the child's fds of the idmapped bind mounts the
	// runtime made, detached, by mount destination.
	IDMappedMounts map[string]int

	// UserNS is true when the process runs in a user namespace, where
	// device nodes cannot be made and must be bind-mounted.
	UserNS bool
}

// initHooks are the hooks that run in init, in the container's
// namespaces. Only command hooks can: a Go hook lives in the program that
// made the Config, not in init.
type initHooks struct {
	CreateContainer []configs.Command
	StartContainer  []configs.Command
}

// setHooks takes from h the hooks init runs and renders st, their stdin,
// if there are any.
func (s *setup) setHooks(h configs.Hooks, st *specs.State) error {
	var err error
	if s.Hooks.CreateContainer, err = commandHooks(h, configs.CreateContainer); err != nil {
		return err
	}
	if s.Hooks.StartContainer, err = commandHooks(h, configs.StartContainer); err != nil {
		return err
	}
	if len(s.Hooks.CreateContainer)+len(s.Hooks.StartContainer) == 0 {
		return nil
	}
	if s.HookState, err = json.Marshal(st); err != nil {
		return fmt.Errorf("encode the state for the hooks: %w", err)
	}
	return nil
}

// commandHooks returns the commands of the hooks of h at name.
func commandHooks(h configs.Hooks, name configs.HookName) ([]configs.Command, error) {
	var cmds []configs.Command
	for i, hook := range h[name] {
		var c *configs.Command
		switch hook := hook.(type) {
		case configs.CommandHook:
			c = &hook.Command
		case *configs.CommandHook:
			if hook != nil {
				c = &hook.Command
			}
		}
		if c == nil {
			return nil, fmt.Errorf("hooks.%s[%d]: a hook of type %T cannot run in the container's init: only command hooks can", name, i, hook)
		}
		cmds = append(cmds, *c)
	}
	return cmds, nil
}

// runHooks runs cmds, the hooks of the lifecycle point name, with state on
// their stdin, stopping at the first error, as configs.Hooks.Run does. A
// hook that names no environment gets env, the process's, as in runc.
func runHooks(name configs.HookName, cmds []configs.Command, state []byte, env []string) error {
	for i, c := range cmds {
		if c.Env == nil {
			c.Env = env
		}
		if err := c.RunWithState(state); err != nil {
			return fmt.Errorf("error running %s hook #%d: %w", name, i, err)
		}
	}
	return nil
}

// cgroupMount is a cgroup v1 hierarchy of the host.
type cgroupMount struct {
	Mountpoint string
	Subsystems []string
}

// processSetup is the part of a Process the child applies.
type processSetup struct {
	Args             []string
	Env              []string
	Cwd              string
	User             string
	AdditionalGroups []string
	Capabilities     *configs.Capabilities
	NoNewPrivileges  bool
	Rlimits          []configs.Rlimit
	Umask            *uint32
	AppArmorProfile  string
	Label            string
	Scheduler        *configs.Scheduler
	IOPriority       *configs.IOPriority
	CPUAffinity      *configs.CPUAffinity
	MemoryPolicy     *configs.MemoryPolicy
	Terminal         bool
	ConsoleWidth     uint16
	ConsoleHeight    uint16
	// SeccompBPF is the container's filter compiled by the runtime
	// (seccomp.Filter's binary form): the child loads it without
	// libseccomp.
	SeccompBPF  []byte
	Personality *configs.Personality
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
		MemoryPolicy:     c.MemoryPolicy,
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
	// The container's affinity is for the processes exec'd in it: the
	// runtime spec's execCPUAffinity "is not applicable to the container's
	// init process", and runc does not pin it.
	if !p.Init {
		ps.CPUAffinity = c.ExecCPUAffinity
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
