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
// signal goes to every process of its cgroup.
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
	if !st.Config.Namespaces.IsPrivate(configs.NEWPID) {
		return c.signalAll(st, sig)
	}
	return signalInit(st, sig)
}

// SignalAll sends s to every process of the container, as `kill --all`.
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
	return c.signalAll(st, sig)
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
	if st.Config.Cgroups == nil || len(st.CgroupPaths) == 0 {
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
