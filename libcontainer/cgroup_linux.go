package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// cgroup is the container's control group while init starts.
type cgroup struct {
	m   cgroups.Manager
	res *cgroups.Resources
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
	return &cgroup{m: m, res: cc.Resources}, nil
}

// checkUnused refuses a cgroup that already holds processes: joining it
// would mix the container with strangers, and Destroy would kill them.
func (cg *cgroup) checkUnused() error {
	for ctrl, dir := range cg.m.GetPaths() {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue // not created yet
		}
		if pids := strings.Fields(string(b)); len(pids) > 0 {
			if ctrl == "" {
				ctrl = "unified"
			}
			return fmt.Errorf("cgroups: %s cgroup %s already holds processes (pid %s)", ctrl, dir, pids[0])
		}
	}
	return nil
}

// create makes the cgroup and sets its limits before anything joins it.
func (cg *cgroup) create() error {
	if err := cg.m.Apply(-1); err != nil {
		return fmt.Errorf("cgroups: create: %w", err)
	}
	return cg.set()
}

// join puts pid in the cgroup, creating it and applying its limits.
func (cg *cgroup) join(pid int) error {
	if err := cg.m.Apply(pid); err != nil {
		return fmt.Errorf("cgroups: join: %w", err)
	}
	return cg.set()
}

func (cg *cgroup) set() error {
	if err := cg.m.Set(cg.res); err != nil {
		if errors.Is(err, cgroups.ErrDevicesUnsupported) {
			return fmt.Errorf("cgroups.resources.devices: %w: import _ \"github.com/opencontainers/cgroups/devices\"", err)
		}
		return fmt.Errorf("cgroups: set resources: %w", err)
	}
	return nil
}

// prepare arranges for ch to enter the cgroup: born in it on cgroup v2,
// added right after its start elsewhere.
func (cg *cgroup) prepare(ch *child) error {
	if fd := cg.openUnifiedAfterCreate(); fd >= 0 {
		ch.cgroupFD = fd
		ch.joinCgroup = func(pid int) error { return cg.m.AddPid("", pid) }
		return nil
	}
	ch.joinCgroup = cg.join
	return nil
}

// openUnifiedAfterCreate creates the cgroup and opens it for clone3 on a
// pure cgroup v2 host; elsewhere it returns -1 and creates nothing.
func (cg *cgroup) openUnifiedAfterCreate() int {
	if !cgroups.IsCgroup2UnifiedMode() {
		return -1
	}
	if err := cg.create(); err != nil {
		return -1
	}
	return cg.openUnified()
}

// openUnified opens the cgroup v2 directory for clone3's
// CLONE_INTO_CGROUP, or returns -1 where the host is not pure cgroup v2.
func (cg *cgroup) openUnified() int {
	if !cgroups.IsCgroup2UnifiedMode() {
		return -1
	}
	fd, err := unix.Open(cg.m.Path(""), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
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

// killCgroup SIGKILLs every process in the cgroup. Frozen processes are
// thawed so they can die.
func killCgroup(m cgroups.Manager) {
	pids, err := m.GetAllPids()
	if err != nil || len(pids) == 0 {
		return
	}
	for _, pid := range pids {
		unix.Kill(pid, unix.SIGKILL)
	}
	if fs, err := m.GetFreezerState(); err == nil && fs == cgroups.Frozen {
		m.Freeze(cgroups.Thawed)
	}
}
