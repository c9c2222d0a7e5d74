package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/intelrdt"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
	"github.com/corral-oci/corral/libcontainer/internal/posenc"
	"github.com/corral-oci/corral/libcontainer/internal/procstat"
)

// execProcess starts p as an additional process of the running (or
// created) container, as `runc exec` does.
func (c *Container) execProcess(p *Process) error {
	if len(p.Args) == 0 {
		return opError("exec in", c.id, errors.New("process.args is empty"))
	}
	ch, st, err := c.prepareExec(p)
	if err != nil {
		return opError("exec in", c.id, err)
	}
	if err := c.runExec(ch, st); err != nil {
		return opError("exec in", c.id, err)
	}
	r := &running{proc: ch.os}
	ch.io.started(r)
	p.mu.Lock()
	p.run = r
	p.mu.Unlock()
	return nil
}

// prepareExec checks the container can take a process and opens, under
// the lock, init's namespaces: once open they stay valid even if init
// dies, so the rest runs without blocking other operations.
func (c *Container) prepareExec(p *Process) (*child, *State, error) {
	st, status, unlock, err := c.lockedStatus()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	switch {
	case status == Stopped:
		return nil, nil, ErrStopped
	case status == Paused && !p.IgnorePaused:
		return nil, nil, ErrPaused
	}
	cfg := &st.Config
	if sc := p.Scheduler; sc != nil && sc.Policy == "SCHED_DEADLINE" && cfg.Cgroups != nil && cfg.Cgroups.Resources != nil && cfg.Cgroups.Resources.CpusetCpus != "" {
		// As Validate for init: sched_setattr(2) would refuse it.
		return nil, nil, fmt.Errorf("process.scheduler: process scheduler can't be used together with AllowedCPUs (the container's cpuset %q): the kernel refuses SCHED_DEADLINE to a task that may not run on every CPU", cfg.Cgroups.Resources.CpusetCpus)
	}
	s := &setup{
		Mode:         modeExec,
		ID:           c.id,
		Process:      newProcessSetup(cfg, p),
		OomScoreAdj:  cfg.OomScoreAdj,
		PreservedFDs: len(p.ExtraFiles),
		UserNS:       cfg.Namespaces.Contains(configs.NEWUSER),
	}
	ch, err := newChild(p, s)
	if err != nil {
		return nil, nil, err
	}
	if p.ConsoleSocket != nil {
		s.ConsoleSocketFD = ch.lendFile(p.ConsoleSocket)
	}
	if s.Process.AppArmorProfile != "" || s.Process.Label != "" {
		proc, err := openHostProcfs()
		if err != nil {
			ch.close()
			return nil, nil, err
		}
		s.ProcFD = ch.addFile(proc)
	}
	if err := c.joinInit(ch, st, status == Paused); err != nil {
		ch.close()
		return nil, nil, err
	}
	// After the cgroups: the bootstrap joins the resctrl groups in
	// this order, the control group before its monitoring group.
	ch.msg.Cgroups = append(ch.msg.Cgroups, intelrdt.TasksFiles(cfg.IntelRdt, c.id, st.IntelRdtPath)...)
	return ch, st, nil
}

// joinInit fills the bootstrap message with init's namespaces, user
// namespace first.
func (c *Container) joinInit(ch *child, st *State, paused bool) error {
	cfg := &st.Config
	pid := st.InitProcessPid
	for _, t := range configs.NamespaceTypes() {
		if !cfg.Namespaces.Contains(t) {
			continue
		}
		f, err := openNamespace("/proc/"+strconv.Itoa(pid)+"/ns/"+t.File(), t)
		if err != nil {
			return err
		}
		if t == configs.NEWUSER && sameNamespace(f, t) {
			// setns into our own user namespace is refused.
			f.Close()
			continue
		}
		if t == configs.NEWPID {
			// Joined by the setup's locked thread, for the program's
			// process alone (initExec): a process whose children
			// would be in another pid namespace cannot make threads.
			ch.setup.PidNSFD = ch.addFile(f)
			continue
		}
		ch.msg.Join = append(ch.msg.Join, bootstrap.Join{Type: t.CloneFlag(), FD: int32(ch.addFile(f))})
	}
	// The namespaces are init's only if init is still the process that
	// had that pid when we opened them.
	if ps, err := procstat.Read(pid); err != nil || ps.StartTime != st.InitProcessStartTime {
		return ErrStopped
	}
	ch.msg.Root = cfg.Namespaces.Contains(configs.NEWUSER)
	// No fork into the pid namespace: the setup, which holds the
	// runtime's privileges on every thread, stays out of the
	// container's sight. The program's process is cloned into it when
	// setup is done (spawnProgram). A joined time namespace applies at
	// once.
	ch.msg.Fork = false
	if st.Config.Cgroups == nil || len(st.CgroupPaths) == 0 {
		return nil
	}
	// As for init (see cgroup.prepare): v1 hierarchies joined by the
	// bootstrap itself, the unified one by clone3 or, failing that,
	// after the start.
	dirs, err := cgroupDirs(st.CgroupPaths, ch.proc.SubCgroupPaths)
	if err != nil {
		return err
	}
	// In a paused container's v1 freezer cgroup the setup would freeze
	// before it could exec: that hierarchy alone is joined once the
	// program runs. Every other one (devices, pids, memory...) is joined
	// before anything of the process runs, so that nothing it does
	// escapes the container's limits. On cgroup v2 the freezer is the
	// cgroup itself, which holds the limits too: the process is born in
	// it, frozen, and the exec completes when the container resumes.
	late := ""
	if paused {
		late = dirs["freezer"]
	}
	for ctrl, dir := range dirs {
		// A hierarchy the freezer is co-mounted with is the freezer's.
		if ctrl != "" && (late == "" || dir != late) {
			ch.msg.Cgroups = append(ch.msg.Cgroups, filepath.Join(dir, "tasks"))
		}
	}
	sort.Strings(ch.msg.Cgroups)
	if late != "" {
		ch.joinAfterExec = func(pid int) error {
			if err := cgroups.WriteCgroupProc(late, pid); err != nil {
				return fmt.Errorf("join cgroup %s: %w", late, err)
			}
			return nil
		}
	}
	if unified, ok := dirs[""]; ok {
		fd, err := unix.Open(unified, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open cgroup %s: %w", unified, err)
		}
		ch.cgroupFD = fd
		// The container's own cgroup may no longer take processes, with
		// no sub-cgroup asked for: see joinNonLeaf.
		own := ch.proc.SubCgroupPaths[""] == ""
		ch.joinCgroup = func(pid int) error {
			err := cgroups.WriteCgroupProc(unified, pid)
			if err != nil && own && errors.Is(err, unix.EBUSY) {
				return joinNonLeaf(unified, st.InitProcessPid, pid, err)
			}
			if err != nil {
				return fmt.Errorf("join cgroup %s: %w", unified, err)
			}
			return nil
		}
	}
	return nil
}

// joinNonLeaf puts an exec'd process that its container's cgroup v2
// refused (EBUSY: the container enabled controllers for sub-cgroups of
// its own, as systemd or a nested runtime in it does, and cgroup v2 has
// no processes beside such sub-cgroups) into init's cgroup instead,
// which is a leaf of the container's tree. runc does the same when the
// process asked for no sub-cgroup (exec --cgroup): it reads init's cgroup
// from /proc/<init>/cgroup and writes the pid there. Clone3 into the
// cgroup fails alike, so the child reaches this after its start (see
// child.start), before it runs anything of its own.
func joinNonLeaf(dir string, initPid, pid int, busy error) error {
	alt, err := initCgroupDir(dir, initPid)
	if err != nil {
		return fmt.Errorf("join cgroup %s: %w; and init's cgroup instead: %w", dir, busy, err)
	}
	if err := cgroups.WriteCgroupProc(alt, pid); err != nil {
		return fmt.Errorf("join cgroup %s: %w; and init's cgroup %s instead: %w", dir, busy, alt, err)
	}
	slog.Debug("the container's cgroup is not a leaf; exec joined init's cgroup", "cgroup", dir, "init cgroup", alt)
	return nil
}

// initCgroupDir returns the cgroup v2 directory of init, which must be
// dir or below it: init may have moved itself, never out of its cgroup
// namespace, but its cgroup is checked rather than trusted.
func initCgroupDir(dir string, initPid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(initPid) + "/cgroup")
	if err != nil {
		return "", err
	}
	var rel string
	for _, l := range strings.Split(string(b), "\n") {
		if r, ok := strings.CutPrefix(l, "0::"); ok {
			rel = r
		}
	}
	if rel == "" {
		return "", fmt.Errorf("init (pid %d) has no cgroup v2 line in /proc/%d/cgroup", initPid, initPid)
	}
	mnt := "/sys/fs/cgroup"
	if !cgroups.IsCgroup2UnifiedMode() {
		mnt = "/sys/fs/cgroup/unified"
	}
	alt := filepath.Join(mnt, rel)
	if !strings.HasPrefix(alt, dir+"/") {
		return "", fmt.Errorf("init's cgroup %s is not below the container's", alt)
	}
	return alt, nil
}

// cgroupDirs returns, per controller, the container's cgroup directory,
// or the sub-cgroup asked for that controller ("" for all). A controller
// the container's cgroup does not have (any, on cgroup v2, where there
// is one path for all) is refused, as runc does: the process would
// silently stay out of the sub-cgroup asked for.
func cgroupDirs(paths, sub map[string]string) (map[string]string, error) {
	for ctrl := range sub {
		if _, ok := paths[ctrl]; !ok && ctrl != "" {
			var have []string
			for c := range paths {
				if c != "" {
					have = append(have, c)
				}
			}
			if len(have) == 0 {
				return nil, fmt.Errorf("sub-cgroup of controller %q: the container's cgroup is one cgroup v2 hierarchy; give the path alone", ctrl)
			}
			sort.Strings(have)
			return nil, fmt.Errorf("sub-cgroup of unknown controller %q (the container's cgroup has %s)", ctrl, strings.Join(have, ", "))
		}
	}
	dirs := make(map[string]string, len(paths))
	for ctrl, dir := range paths {
		s, ok := sub[ctrl]
		if !ok {
			s = sub[""]
		}
		path := filepath.Join(dir, s)
		if path != dir && !strings.HasPrefix(path, dir+"/") {
			return nil, fmt.Errorf("sub-cgroup %q of %s is outside the container's cgroup", s, ctrl)
		}
		dirs[ctrl] = path
	}
	return dirs, nil
}

// runExec starts the child and waits until the program runs: the setup
// sends the pid of the program's process, which it cloned, and exits
// once that has exec'd, or an error comes first. Both are our children.
func (c *Container) runExec(ch *child, st *State) error {
	err := ch.start()
	if ch.cgroupFD >= 0 {
		unix.Close(ch.cgroupFD)
	}
	if err != nil {
		return err
	}
	faultPoint("exec:spawned")
	// The filter is only in the setup: it is fetched (or compiled) while
	// the child starts.
	if err := c.precompileSeccomp(&ch.setup.Process, st.Config.Seccomp); err != nil {
		ch.kill()
		return err
	}
	if err := ch.sendSetup(); err != nil {
		ch.kill()
		return err
	}
	for {
		m, err := initsync.Recv(ch.sock)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			err = ch.exitError("exec", err)
			ch.kill()
			return err
		}
		if m.Kind == initsync.SeccompFD {
			if err := forwardSeccompFD(ch, st); err != nil {
				ch.kill()
				return err
			}
			continue
		}
		if m.Kind == initsync.Pid && ch.os == ch.cmd.Process {
			if err := ch.programStarted(m); err != nil {
				ch.kill()
				return err
			}
			continue
		}
		ch.kill()
		return fmt.Errorf("exec: unexpected %s message", m.Kind)
	}
	ch.sock.Close()
	if err := ch.reapSetup(); err != nil {
		ch.kill()
		return err
	}
	if ch.joinAfterExec != nil {
		if err := ch.joinAfterExec(ch.pid); err != nil {
			ch.kill()
			return err
		}
	}
	if ch.proc.PidfdSocket != nil {
		if err := sendPidfd(ch.proc.PidfdSocket, ch.pid); err != nil {
			return err
		}
	}
	return nil
}

// programStarted takes the pid of the program's process from the setup:
// from here on it is the process the caller waits for and signals.
func (ch *child) programStarted(m *initsync.Message) error {
	var pid int
	if err := posenc.Unmarshal(m.Data, &pid); err != nil {
		return fmt.Errorf("exec: pid of the program's process: %w", err)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("exec: find the program's process %d: %w", pid, err)
	}
	ch.pid, ch.os = pid, p
	return nil
}

// reapSetup collects the setup process once its end of the socket
// closed: it exits 0 once the program runs.
func (ch *child) reapSetup() error {
	if ch.os == ch.cmd.Process {
		return ch.exitError("exec", io.EOF)
	}
	st, err := ch.cmd.Process.Wait()
	if err != nil {
		return fmt.Errorf("exec: wait for the setup: %w", err)
	}
	if !st.Success() {
		return fmt.Errorf("exec: setup %s", describeExit(st))
	}
	return nil
}

// sameNamespace reports whether f is the namespace of type t this process
// is in.
func sameNamespace(f *os.File, t configs.NamespaceType) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Stat("/proc/self/ns/"+t.File(), &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}
