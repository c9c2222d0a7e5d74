package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/intelrdt"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
	"github.com/corral-oci/corral/libcontainer/internal/procstat"
)

// Run starts p in the container. For the first process (p.Init) it is
// Start followed by Exec; otherwise p is an additional process in the
// running container.
func (c *Container) Run(p *Process) error {
	if !p.Init {
		return c.execProcess(p)
	}
	if err := c.Start(p); err != nil {
		return err
	}
	return c.Exec()
}

// Start builds the container around its first process p (p.Init must be
// set) and leaves it waiting, in the created state, for Exec.
func (c *Container) Start(p *Process) error {
	if !p.Init {
		return opError("start", c.id, errors.New("the process is not Init; use Run for an additional process"))
	}
	if len(p.Args) == 0 {
		return opError("start", c.id, errors.New("process.args is empty"))
	}
	st, unlock, err := c.lockedState()
	if err != nil {
		return err
	}
	defer unlock()
	if st.Config.Rootfs == "" {
		return opError("start", c.id, errors.New("it has no config (its creation was interrupted); delete it"))
	}
	if st.InitProcessPid != 0 {
		status, err := c.status(st)
		if err != nil {
			return err
		}
		if status != Stopped {
			return opError("start", c.id, fmt.Errorf("%w (%s)", ErrRunning, status))
		}
		return opError("start", c.id, errors.New("it has already run; destroy it and create it again"))
	}
	if err := c.startInit(st, p); err != nil {
		return opError("start", c.id, err)
	}
	return nil
}

// startInit spawns init and drives its setup up to the created state. On
// failure everything it made is removed.
func (c *Container) startInit(st *State, p *Process) (retErr error) {
	cfg := &st.Config
	phase.Mark("start:begin")
	cg, err := c.takeCgroup(cfg)
	if err != nil {
		return err
	}
	if cg != nil && os.Geteuid() != 0 {
		if cg, err = rootlessCgroup(cg, cfg); err != nil {
			return err
		}
	}
	phase.Mark("start:cgroup-manager")
	fifo, err := c.makeExecFifo()
	if err != nil {
		return err
	}
	defer fifo.Close()
	defer func() {
		if retErr != nil {
			os.Remove(filepath.Join(c.dir, execFifoName))
		}
	}()

	s := &setup{
		Mode:         modeInit,
		ID:           c.id,
		Config:       cfg,
		Process:      newProcessSetup(cfg, p),
		OomScoreAdj:  cfg.OomScoreAdj,
		PreservedFDs: len(p.ExtraFiles),
		UserNS:       cfg.Namespaces.Contains(configs.NEWUSER),
	}
	ch, err := newChild(p, s)
	if err != nil {
		return err
	}
	s.FifoFD = ch.addFile(fifo)
	ch.chownFiles = append(ch.chownFiles, fifo)
	if p.ConsoleSocket != nil {
		s.ConsoleSocketFD = ch.lendFile(p.ConsoleSocket)
	}
	if err := c.initBootstrap(ch, cfg); err != nil {
		ch.close()
		return err
	}
	if err := prepareIDMappedMounts(ch, cfg); err != nil {
		ch.close()
		return err
	}
	if cg != nil {
		if err := cg.checkUnused(); err != nil {
			ch.close()
			return err
		}
		if err := cg.checkUnfrozen(); err != nil {
			ch.close()
			return err
		}
		defer func() {
			if retErr != nil {
				cg.destroy()
			}
		}()
		if err := cg.prepare(ch); err != nil {
			ch.close()
			return err
		}
		phase.Mark("start:cgroup-made")
	}
	if cfg.IntelRdt != nil {
		// As the cgroup v1 hierarchies: the bootstrap writes itself to
		// the group's tasks before anything else, and what it forks
		// inherits the group.
		rdt, err := intelrdt.NewManager(cfg.IntelRdt, c.id)
		if err != nil {
			ch.close()
			return err
		}
		tasks, err := rdt.Prepare()
		if err != nil {
			ch.close()
			return err
		}
		defer func() {
			if retErr != nil {
				rdt.Undo()
			}
		}()
		ch.msg.Cgroups = append(ch.msg.Cgroups, tasks...)
		st.IntelRdtPath = rdt.Path()
	}
	err = ch.start()
	if ch.cgroupFD >= 0 {
		unix.Close(ch.cgroupFD)
	}
	if err != nil {
		return err
	}
	faultPoint("init:spawned")
	defer func() {
		if retErr != nil {
			ch.kill()
			if st.InitProcessPid != 0 {
				st.InitProcessPid, st.InitProcessStartTime = 0, 0
				c.saveState(st)
			}
		}
	}()
	// Before init's setup, so that hooks see the devices; a failure
	// from here on returns them while init's namespace still holds them.
	netDevs, err := moveNetDevices(cfg, ch.pid)
	if err != nil {
		return err
	}
	defer func() { netDevs.done(retErr != nil) }()
	if cg != nil {
		s.CgroupPaths = cg.m.GetPaths()
		if s.CgroupMounts, err = hostCgroupMounts(cfg); err != nil {
			return err
		}
	}
	state := ociState(st, Created)
	state.Pid = ch.pid
	state.Status = specs.StateCreating
	if err := s.setHooks(cfg.Hooks, state); err != nil {
		return err
	}
	s.RunHooks = len(cfg.Hooks[configs.Prestart])+len(cfg.Hooks[configs.CreateRuntime]) > 0
	// The filter is only in the setup: it is fetched (or compiled) while
	// the child starts.
	if err := c.precompileSeccomp(&s.Process, cfg.Seccomp); err != nil {
		return err
	}
	// init works on its setup while its identity is saved. A runtime
	// killed before the save leaves init to die with it (its parent
	// death signal holds until ready) and a state without a pid.
	if err := ch.sendSetup(); err != nil {
		return err
	}
	if err := c.recordInit(st, ch.pid, cg); err != nil {
		return err
	}
	faultPoint("init:recorded")
	if err := c.waitReady(ch, st, state); err != nil {
		return err
	}
	faultPoint("init:ready")
	if cg != nil {
		// init is set up: it makes no more tasks before its exec.
		if err := cg.setPidsLimit(); err != nil {
			return err
		}
	}
	phase.Mark("start:ready")
	ch.sock.Close()
	if p.PidfdSocket != nil {
		if err := sendPidfd(p.PidfdSocket, ch.pid); err != nil {
			return err
		}
	}
	c.startedInit(p, ch)
	return nil
}

// initBootstrap fills in what the C bootstrap does for init: join the
// namespaces given by path, create the others, fork into a new pid or time
// namespace.
func (c *Container) initBootstrap(ch *child, cfg *configs.Config) error {
	for _, t := range configs.NamespaceTypes() {
		if !cfg.Namespaces.Contains(t) {
			continue
		}
		path := cfg.Namespaces.PathOf(t)
		if path == "" && t == configs.NEWCGROUP {
			// Made by init once it is in its cgroup, which becomes the
			// namespace's root.
			ch.setup.UnshareCgroupNS = true
			continue
		}
		if path == "" {
			ch.msg.Unshare |= t.CloneFlag()
			continue
		}
		f, err := openNamespace(path, t)
		if err != nil {
			return err
		}
		ch.msg.Join = append(ch.msg.Join, bootstrap.Join{Type: t.CloneFlag(), FD: int32(ch.addFile(f))})
	}
	if cfg.Namespaces.IsPrivate(configs.NEWUSER) {
		ch.writeMaps = func(pid int) error { return writeIDMaps(pid, cfg) }
	}
	ch.msg.Root = cfg.Namespaces.Contains(configs.NEWUSER)
	ch.msg.Fork = cfg.Namespaces.Contains(configs.NEWPID) || cfg.Namespaces.Contains(configs.NEWTIME)
	if cfg.Namespaces.IsPrivate(configs.NEWTIME) && len(cfg.TimeOffsets) > 0 {
		// Written by the runtime, from outside: a process in a new
		// user namespace may not write them (the file is the host
		// root's), as runc does.
		ch.msg.TimeOffsets = true
		ch.timeOffsets = timeOffsets(cfg.TimeOffsets)
	}
	return nil
}

// timeOffsets renders the offsets of a new time namespace.
func timeOffsets(offsets map[string]specs.LinuxTimeOffset) string {
	var b strings.Builder
	for _, clock := range []string{"monotonic", "boottime"} {
		if o, ok := offsets[clock]; ok {
			fmt.Fprintf(&b, "%s %d %d\n", clock, o.Secs, o.Nanosecs)
		}
	}
	return b.String()
}

// recordInit saves init's identity before its setup goes on, so that a
// runtime killed from here on leaves a state that tells the truth.
func (c *Container) recordInit(st *State, pid int, cg *cgroup) error {
	ps, err := procstat.Read(pid)
	if err != nil {
		return fmt.Errorf("read start time of init %d: %w", pid, err)
	}
	st.InitProcessPid = pid
	st.InitProcessStartTime = ps.StartTime
	if cg != nil {
		st.CgroupPaths = cg.m.GetPaths()
	}
	st.NamespacePaths = make(map[configs.NamespaceType]string)
	for _, t := range configs.NamespaceTypes() {
		if st.Config.Namespaces.Contains(t) {
			st.NamespacePaths[t] = fmt.Sprintf("/proc/%d/ns/%s", pid, t.File())
		}
	}
	return c.saveState(st)
}

// waitReady answers init's requests until it is ready to start.
func (c *Container) waitReady(ch *child, st *State, state *specs.State) error {
	cfg := &st.Config
	for {
		m, err := initsync.Recv(ch.sock)
		if err != nil {
			return ch.exitError("init", err)
		}
		switch m.Kind {
		case initsync.Hooks:
			for _, name := range []configs.HookName{configs.Prestart, configs.CreateRuntime} {
				if err := cfg.Hooks.Run(name, state); err != nil {
					return err
				}
			}
			if err := initsync.Send(ch.sock, initsync.HooksDone, nil); err != nil {
				return ch.exitError("init", err)
			}
		case initsync.SeccompFD:
			if err := forwardSeccompFD(ch, st); err != nil {
				return err
			}
		case initsync.BindSource:
			if err := serveBindSource(ch.sock, ch.pid, m.Data); err != nil {
				return ch.exitError("init", err)
			}
		case initsync.Ready:
			return nil
		default:
			return fmt.Errorf("init: unexpected %s message", m.Kind)
		}
	}
}

// startedInit hands the running init to the Process it was started for.
func (c *Container) startedInit(p *Process, ch *child) {
	r := &running{proc: ch.os}
	ch.io.started(r)
	p.mu.Lock()
	p.run = r
	p.mu.Unlock()
	c.mu.Lock()
	c.initProc = p
	c.mu.Unlock()
}

// makeExecFifo creates the fifo init blocks on until Exec, and returns an
// O_PATH handle of it for init.
func (c *Container) makeExecFifo() (*os.File, error) {
	path := filepath.Join(c.dir, execFifoName)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("exec fifo %s exists: another start is under way", path)
		}
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	return f, nil
}
