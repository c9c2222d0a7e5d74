package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Signal sends s to the container's init. When the container has no pid
// namespace of its own, init's death would not end the others, so the
// signal goes to every process of its cgroup, and SIGKILL does even once
// init is gone, as with runc: nothing else would end what is left. Any
// other signal for a container whose init is gone is ErrNotRunning. A
// signal 0 only checks that init is alive.
func (c *Container) Signal(s os.Signal) error {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return fmt.Errorf("signal %v is not a unix signal", s)
	}
	st, unlock, err := c.lockedState()
	if err != nil {
		return err
	}
	defer unlock()
	shared := !st.Config.Namespaces.IsPrivate(configs.NEWPID)
	if !initAlive(st) {
		if sig == unix.SIGKILL && shared && hasCgroup(st) {
			return c.signalAll(st, sig)
		}
		return opError("signal", c.id, ErrNotRunning)
	}
	if shared {
		return c.signalAll(st, sig)
	}
	return signalInit(st, sig)
}

// SignalAll sends s to every process of the container, as `kill --all`.
// A stopped container is no error: what is left of it in its cgroup, if
// anything, gets the signal.
func (c *Container) SignalAll(s os.Signal) error {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return fmt.Errorf("signal %v is not a unix signal", s)
	}
	st, unlock, err := c.lockedState()
	if err != nil {
		return err
	}
	defer unlock()
	if !hasCgroup(st) && !initAlive(st) {
		// Without a cgroup only init was known; it is gone.
		return nil
	}
	return c.signalAll(st, sig)
}

// hasCgroup reports whether the container's processes are found by its
// cgroup.
func hasCgroup(st *State) bool {
	return st.Config.Cgroups != nil && len(st.CgroupPaths) > 0
}

// signalInit signals init through a pidfd checked to be init's, so a
// process that reused its pid is never hit.
func signalInit(st *State, sig unix.Signal) error {
	pidfd, err := openInitPidfd(st)
	if err != nil {
		return opError("signal", st.ID, err)
	}
	defer unix.Close(pidfd)
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return opError("signal", st.ID, ErrStopped)
		}
		return opError("signal", st.ID, err)
	}
	return nil
}

// signalAll signals every process in the container's cgroup; frozen
// processes are thawed after a SIGKILL so they die.
func (c *Container) signalAll(st *State, sig unix.Signal) error {
	if !hasCgroup(st) {
		return signalInit(st, sig)
	}
	m, err := c.cgroupManager(st)
	if err != nil {
		return err
	}
	if sig == unix.SIGKILL {
		killCgroup(m)
		return nil
	}
	pids, err := m.GetAllPids()
	if err != nil {
		return opError("signal", st.ID, fmt.Errorf("list processes: %w", err))
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return opError("signal", st.ID, fmt.Errorf("pid %d: %w", pid, err))
		}
	}
	return nil
}

// Processes returns the host pids of every process in the container.
func (c *Container) Processes() ([]int, error) {
	st, unlock, err := c.lockedState()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st.Config.Cgroups == nil || len(st.CgroupPaths) == 0 {
		if initAlive(st) {
			return []int{st.InitProcessPid}, nil
		}
		return nil, nil
	}
	m, err := c.cgroupManager(st)
	if err != nil {
		return nil, err
	}
	pids, err := m.GetAllPids()
	if err != nil {
		return nil, opError("list processes of", c.id, err)
	}
	return pids, nil
}
