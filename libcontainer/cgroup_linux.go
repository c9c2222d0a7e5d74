package libcontainer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// cgroup is the container's control group while init starts.
type cgroup struct {
	m   cgroups.Manager
	res *cgroups.Resources
	// owner, when set, is the uid the cgroupfs manager's cgroup is
	// delegated to (the systemd managers delegate their units
	// themselves).
	owner *int
	// systemd is set with the systemd driver: systemd makes the cgroup,
	// as a unit around the container's first process.
	systemd bool
	// made is set once the cgroup exists with its limits.
	made bool
}

// newCgroup returns the manager of cfg's cgroup, or nil when the config
// asks for none.
func newCgroup(cfg *configs.Config) (*cgroup, error) {
	cc := cgroupConfig(cfg)
	if cc == nil {
		return nil, nil
	}
	m, err := manager.New(cc)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	cg := &cgroup{m: m, res: cc.Resources, systemd: cc.Systemd}
	if !cc.Systemd {
		cg.owner = cc.OwnerUID
	}
	return cg, nil
}

// cgroupConfig returns the cgroup of cfg with non-nil resources, as the
// cgroup managers want.
func cgroupConfig(cfg *configs.Config) *cgroups.Cgroup {
	if cfg.Cgroups == nil {
		return nil
	}
	cg := *cfg.Cgroups
	if cg.Resources == nil {
		cg.Resources = &cgroups.Resources{}
	}
	// The systemd managers make the unit's properties from these.
	cg.Resources = managerResources(cg.Resources)
	return &cg
}

// cgroupAhead is a cgroup manager being made on another goroutine.
// Making one reads the host's cgroup mounts, which is slow the first time
// in a process: Create begins it, and Start in the same process finds it
// made while the state was saved and the caller prepared Start.
type cgroupAhead struct {
	// from is the Cgroup it is made from: a state reloaded or updated
	// since has another, and gets a manager of its own.
	from *configs.Cgroup
	get  func() (*cgroup, error)
}

// newCgroupAhead begins making cfg's cgroup manager, or returns nil when
// cfg asks for no cgroup.
func newCgroupAhead(cfg *configs.Config) *cgroupAhead {
	if cfg.Cgroups == nil {
		return nil
	}
	type made struct {
		cg  *cgroup
		err error
	}
	ch := make(chan made, 1)
	go func() {
		cg, err := newCgroup(cfg)
		ch <- made{cg, err}
	}()
	return &cgroupAhead{from: cfg.Cgroups, get: sync.OnceValues(func() (*cgroup, error) {
		m := <-ch
		return m.cg, m.err
	})}
}

// takeCgroup returns the manager of cfg's cgroup: the one Create began
// making, once, if it was made from cfg's Cgroup, else a new one.
func (c *Container) takeCgroup(cfg *configs.Config) (*cgroup, error) {
	c.mu.Lock()
	ahead := c.cgroupAhead
	c.cgroupAhead = nil
	c.mu.Unlock()
	if ahead != nil && ahead.from == cfg.Cgroups {
		return ahead.get()
	}
	return newCgroup(cfg)
}

// checkUnused refuses a cgroup that already holds processes: joining it
// would mix the container with strangers, and Destroy would kill them.
func (cg *cgroup) checkUnused() error {
	if ctrl, dir, pid := firstMember(cg.m); pid != "" {
		// runc's words, which engines and scripts look for.
		return fmt.Errorf("container's cgroup is not empty: the %s cgroup %s holds pid %s", ctrl, dir, pid)
	}
	return nil
}

// firstMember finds a process in m's cgroups: the controller, the
// directory and the pid, or empty strings when they hold none (or do not
// exist).
func firstMember(m cgroups.Manager) (ctrl, dir, pid string) {
	for ctrl, dir := range m.GetPaths() {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue // not created yet
		}
		if pids := strings.Fields(string(b)); len(pids) > 0 {
			if ctrl == "" {
				ctrl = "unified"
			}
			return ctrl, dir, pids[0]
		}
	}
	return "", "", ""
}

// removeUnrecordedCgroup removes the cgroup of a container that has no
// recorded init: its start failed, or its runtime died before recording
// init. Nothing of the container can be left in it (the children of a
// runtime that has not recorded them die with it, by their parent death
// signal), so a cgroup that still holds processes once those have had a
// moment to die is another's, given the same cgroups path, and is left
// alone: removing it would kill them.
func removeUnrecordedCgroup(m cgroups.Manager, id string) error {
	for wait := 0; ; wait++ {
		ctrl, dir, pid := firstMember(m)
		if pid == "" {
			break
		}
		if wait == 10 {
			slog.Warn("destroy: the cgroup holds processes that are not the container's; leaving it",
				"id", id, "controller", ctrl, "cgroup", dir, "pid", pid)
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := m.Destroy(); err != nil {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	return nil
}

// create makes the cgroup and sets its limits before anything joins it.
func (cg *cgroup) create() error {
	if err := cg.m.Apply(-1); err != nil {
		return fmt.Errorf("cgroups: create: %w", err)
	}
	if dir, ok := cg.m.GetPaths()[""]; ok && cg.owner != nil {
		if err := chownCgroup(dir, *cg.owner); err != nil {
			return err
		}
	}
	return cg.set()
}

// set sets the cgroup's limits but the pids limit: init's bootstrap
// forks once into the container's pid namespace, and init's Go runtime
// starts threads (tasks, to the pids controller), which a limit of one
// task (what a pids.limit of 0 means, as with runc) would refuse.
// setPidsLimit sets it once init is ready, as runc does.
func (cg *cgroup) set() error {
	res := cg.res
	if res.PidsLimit != nil {
		r := *res
		r.PidsLimit = nil
		res = &r
	}
	if err := setResources(cg.m, res); err != nil {
		if errors.Is(err, cgroups.ErrDevicesUnsupported) {
			return fmt.Errorf("cgroups.resources.devices: %w: import _ \"github.com/opencontainers/cgroups/devices\"", err)
		}
		return fmt.Errorf("cgroups: set resources: %w", err)
	}
	return nil
}

// setPidsLimit sets the pids limit that set left out, once init is set
// up: it makes no task from then on until its exec.
func (cg *cgroup) setPidsLimit() error {
	if cg.res.PidsLimit == nil {
		return nil
	}
	if err := cg.m.Set(&cgroups.Resources{PidsLimit: cg.res.PidsLimit, SkipDevices: true}); err != nil {
		return fmt.Errorf("cgroups: set resources: pids limit: %w", err)
	}
	return nil
}

// checkUnfrozen refuses a cgroup that a freezer already holds: init
// would freeze in it at its first step, and the start hang.
func (cg *cgroup) checkUnfrozen() error {
	if cgroupFrozen(cg.m.GetPaths()) {
		return errors.New("container's cgroup unexpectedly frozen")
	}
	return nil
}

// rootlessCgroup decides the cgroup of a container started without root:
// the cgroup is made now if the user may (a delegated cgroup v2 subtree),
// else the container runs without one, unless it asks for limits, which
// only a cgroup can enforce.
func rootlessCgroup(cg *cgroup, cfg *configs.Config) (*cgroup, error) {
	if cg.systemd {
		// The user's manager makes the unit around init (see
		// prepareScope), and refuses what the user may not have.
		return cg, nil
	}
	err := cg.create()
	if err == nil {
		cg.made = true
		return cg, nil
	}
	cg.m.Destroy()
	if !errors.Is(err, os.ErrPermission) && !errors.Is(err, unix.EROFS) {
		return nil, err
	}
	if field := requestedLimit(cg.res); field != "" {
		return nil, fmt.Errorf("cgroups.resources.%s: a limit needs a cgroup this user may write (a delegated cgroup v2 subtree), and there is none: %w", field, err)
	}
	return nil, nil
}

// requestedLimit names a resource limit res asks for, or returns "".
// Device rules are not limits: without a cgroup the user namespace
// already keeps the container from making device nodes.
func requestedLimit(r *cgroups.Resources) string {
	switch {
	case r.Memory != 0:
		return "memory"
	case r.MemoryReservation != 0:
		return "memory_reservation"
	case r.MemorySwap != 0:
		return "memory_swap"
	case r.MemorySwappiness != nil:
		return "memory_swappiness"
	case r.CpuShares != 0, r.CpuWeight != 0:
		return "cpu_shares"
	case r.CpuQuota != 0, r.CpuPeriod != 0, r.CpuBurst != nil:
		return "cpu_quota"
	case r.CpuRtRuntime != 0, r.CpuRtPeriod != 0:
		return "cpu_rt_quota"
	case r.CpusetCpus != "", r.CpusetMems != "":
		return "cpuset_cpus"
	case r.CPUIdle != nil:
		return "cpu_idle"
	case r.PidsLimit != nil && *r.PidsLimit > 0:
		return "pids_limit"
	case r.BlkioWeight != 0, r.BlkioLeafWeight != 0, len(r.BlkioWeightDevice) > 0,
		len(r.BlkioThrottleReadBpsDevice) > 0, len(r.BlkioThrottleWriteBpsDevice) > 0,
		len(r.BlkioThrottleReadIOPSDevice) > 0, len(r.BlkioThrottleWriteIOPSDevice) > 0:
		return "blkio"
	case len(r.HugetlbLimit) > 0:
		return "hugetlb_limit"
	case r.OomKillDisable:
		return "oom_kill_disable"
	case len(r.NetPrioIfpriomap) > 0, r.NetClsClassid != 0:
		return "net"
	case len(r.Rdma) > 0:
		return "rdma"
	case len(r.Unified) > 0:
		return "unified"
	}
	return ""
}

// prepare makes the cgroup, sets its limits, and arranges for ch to be
// born in it (with systemd, to be put in it: see prepareScope): on cgroup
// v2 (pure, or a hybrid host's unified hierarchy) by clone3 into it, in
// each v1 hierarchy by the bootstrap moving itself
// before anything else (see join_cgroups in nsenter.c). Neither takes
// the lock whose first use after a quiet spell costs an RCU grace
// period; only the fallback, for kernels without clone3 into a cgroup,
// adds the child after its start.
//
// The cgroup is made, and its limits set, while the child execs: only the
// directory clone3 needs exists before the fork.
func (cg *cgroup) prepare(ch *child) error {
	if cg.systemd {
		cg.prepareScope(ch)
		return nil
	}
	if !cg.made {
		ch.beforeBootstrap = cg.create
	}
	paths := cg.m.GetPaths()
	ctrls := make([]string, 0, len(paths))
	for ctrl := range paths {
		ctrls = append(ctrls, ctrl)
	}
	sort.Strings(ctrls)
	for _, ctrl := range ctrls {
		if ctrl != "" {
			ch.msg.Cgroups = append(ch.msg.Cgroups, filepath.Join(paths[ctrl], "tasks"))
		}
	}
	if unified, ok := paths[""]; ok {
		if err := os.MkdirAll(unified, 0o755); err != nil {
			return fmt.Errorf("cgroups: create %s: %w", unified, err)
		}
		fd, err := unix.Open(unified, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("cgroups: open %s: %w", unified, err)
		}
		ch.cgroupFD = fd
		ch.joinCgroup = func(pid int) error {
			if err := cgroups.WriteCgroupProc(unified, pid); err != nil {
				return fmt.Errorf("cgroups: join %s: %w", unified, err)
			}
			return nil
		}
	}
	return nil
}

// destroy kills what is left in the cgroup and removes it.
func (cg *cgroup) destroy() error {
	killCgroup(cg.m)
	return cg.m.Destroy()
}

// cgroupManager returns the manager of a started container's cgroup.
func (c *Container) cgroupManager(st *State) (cgroups.Manager, error) {
	cc := cgroupConfig(&st.Config)
	if cc == nil {
		return nil, errors.New("container has no cgroup")
	}
	paths := st.CgroupPaths
	if len(paths) == 0 {
		paths = nil
	}
	m, err := manager.NewWithPaths(cc, paths)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	return m, nil
}

// killCgroup SIGKILLs every process in the cgroup, in any hierarchy (a
// process may have joined some only: an exec's bootstrap that froze as
// it joined the freezer). Frozen processes are thawed so they can die.
func killCgroup(m cgroups.Manager) {
	seen := map[int]bool{}
	for _, dir := range m.GetPaths() {
		pids, _ := cgroups.GetAllPids(dir)
		for _, pid := range pids {
			if !seen[pid] {
				seen[pid] = true
				unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
	if len(seen) > 0 {
		thawCgroup(m)
	}
}

// thawCgroup thaws a frozen cgroup, so that its killed processes can die.
func thawCgroup(m cgroups.Manager) {
	if cgroupFrozen(m.GetPaths()) {
		thaw(m)
	}
}

// cgroupFrozen reports whether a freezer holds the cgroup of paths frozen
// (or freezing): the v1 freezer hierarchy, or the unified hierarchy's
// cgroup.freeze, which on a hybrid host freezes the container too even
// though the cgroups library pauses through the v1 freezer alone. A
// process that joins a frozen cgroup stops where it is: an exec would
// hang until the cgroup is thawed. A cgroup that does not exist, or has
// no freezer, is not frozen.
func cgroupFrozen(paths map[string]string) bool {
	if dir, ok := paths["freezer"]; ok {
		// The state is the effective one: FROZEN also when an ancestor
		// froze it.
		if b, err := os.ReadFile(filepath.Join(dir, "freezer.state")); err == nil && strings.TrimSpace(string(b)) != "THAWED" {
			return true
		}
	}
	if dir, ok := paths[""]; ok {
		// cgroup.freeze is this cgroup's own request, set until the
		// freeze is complete; cgroup.events tells one made by an
		// ancestor.
		if b, err := os.ReadFile(filepath.Join(dir, "cgroup.freeze")); err == nil && strings.TrimSpace(string(b)) == "1" {
			return true
		}
		if b, err := os.ReadFile(filepath.Join(dir, "cgroup.events")); err == nil && strings.Contains("\n"+string(b), "\nfrozen 1") {
			return true
		}
	}
	return false
}

// thaw thaws the cgroup of m in every freezer: the manager's, and on a
// hybrid host the unified hierarchy's as well, which the manager leaves
// alone.
func thaw(m cgroups.Manager) error {
	if err := m.Freeze(cgroups.Thawed); err != nil {
		return err
	}
	dir, ok := m.GetPaths()[""]
	if !ok || cgroups.IsCgroup2UnifiedMode() {
		return nil
	}
	file := filepath.Join(dir, "cgroup.freeze")
	if b, err := os.ReadFile(file); err != nil || strings.TrimSpace(string(b)) != "1" {
		return nil
	}
	if err := os.WriteFile(file, []byte("0"), 0); err != nil {
		return fmt.Errorf("thaw %s: %w", dir, err)
	}
	return nil
}
