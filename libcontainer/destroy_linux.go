package libcontainer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/intelrdt"
)

// killTimeout bounds the wait for a killed init: a process stuck in
// uninterruptible sleep must not hang Destroy forever.
const killTimeout = 10 * time.Second

// Destroy kills every process of the container, removes its cgroup and
// state directory, and runs the poststop hooks. It is idempotent: a
// container that is already gone is not an error.
func (c *Container) Destroy() error {
	unlock, err := c.lock()
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	phase.Mark("destroy:begin")
	st, err := c.refreshState()
	if err != nil {
		// A state file that does not decode (written by something else
		// than the runtime: the runtime's writes are atomic) leaves
		// nothing to find processes or cgroups by: remove what there is.
		slog.Warn("destroy: unreadable state, removing the state directory only", "id", c.id, "error", err)
		st = nil
	}
	if st != nil {
		if err := c.teardown(st); err != nil {
			return opError("destroy", c.id, err)
		}
		// Once its processes are gone: a group left with tasks would
		// hand them to the default group.
		if err := intelrdt.Remove(st.Config.IntelRdt, c.id, st.IntelRdtPath); err != nil {
			return opError("destroy", c.id, err)
		}
	}
	faultPoint("destroy:torn-down")
	phase.Mark("destroy:torn-down")
	defer phase.Mark("destroy:done")
	if err := os.RemoveAll(c.dir); err != nil {
		return opError("destroy", c.id, fmt.Errorf("remove state: %w", err))
	}
	if st != nil && st.InitProcessPid != 0 && len(st.Config.Hooks[configs.Poststop]) > 0 {
		if err := st.Config.Hooks.Run(configs.Poststop, ociState(st, Stopped)); err != nil {
			return opError("destroy", c.id, err)
		}
	}
	return nil
}

// teardown kills init and everything in the cgroup, and removes the
// cgroup. A container without a recorded init (its start failed, or its
// runtime died mid-create) kills nothing: the cgroup, found from the
// config, is removed only if nothing is left in it.
//
// With a pid namespace of its own, killing init kills everything in it,
// and the kernel holds init until each of them is reaped. Some may be
// children of a runtime that is spawning them (an exec, whose bootstrap
// forks into the namespace): that runtime reaps them once it learns
// their pid from the bootstrap, which is then in the cgroup too, but
// outside the namespace. Killing that bootstrap early would leave its
// child a zombie no one knows to reap, and init stuck; so such a
// container gets the cgroup-wide kill only as a last resort.
func (c *Container) teardown(st *State) error {
	var m cgroups.Manager
	if st.Config.Cgroups != nil {
		var err error
		if m, err = c.cgroupManager(st); err != nil {
			return err
		}
	}
	if st.InitProcessPid == 0 {
		if m == nil {
			return nil
		}
		return removeUnrecordedCgroup(m, c.id)
	}
	ownPidNS := st.Config.Namespaces.IsPrivate(configs.NEWPID)
	killedInit := false
	if initAlive(st) {
		killedInit = true
		if pidfd, err := openInitPidfd(st); err == nil {
			unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
			if m != nil {
				if ownPidNS {
					thawCgroup(m)
				} else {
					killCgroup(m)
				}
			}
			err := waitPidfd(pidfd, killTimeout)
			unix.Close(pidfd)
			if err != nil {
				return fmt.Errorf("init %d: %w", st.InitProcessPid, err)
			}
		}
	}
	if m == nil {
		return nil
	}
	// The usual end, nothing left in the cgroup, takes one rmdir per
	// hierarchy. A cgroup of the systemd driver goes with its unit,
	// which only Destroy stops.
	removed := !st.Config.Cgroups.Systemd && rmdirEach(m)
	if !removed {
		// Whatever the state said: a cgroup frozen when init died (a
		// pause that met init exiting) holds what is left in it,
		// killed or not.
		thawCgroup(m)
		// Once init was dead before we came, its namespace is gone:
		// what is left (an exec's setup, outside it) has no child
		// there to reap.
		if !ownPidNS || !killedInit {
			killCgroup(m)
		}
	}
	faultPoint("destroy:killed")
	phase.Mark("destroy:killed")
	if !removed {
		if err := removeCgroupOnceEmpty(m, ownPidNS); err != nil {
			return err
		}
	}
	c.removeExecFifo()
	return nil
}

// removeCgroupOnceEmpty removes the cgroup once no process is left in it,
// killing what is left after a second (at once without a pid namespace of
// its own, where nothing else ends them). Destroy is only tried on an
// empty cgroup: on a busy one it retries each hierarchy for a second, and
// would spend the whole timeout in its first call.
func removeCgroupOnceEmpty(m cgroups.Manager, ownPidNS bool) error {
	start := time.Now()
	for {
		dir, pid := anyMember(m)
		if pid == 0 {
			err := m.Destroy()
			if err == nil {
				return nil
			}
			if time.Since(start) > killTimeout {
				return fmt.Errorf("remove cgroup: %w", err)
			}
		} else if time.Since(start) > killTimeout {
			return fmt.Errorf("remove cgroup: pid %d is still in %s after SIGKILL", pid, dir)
		}
		if !ownPidNS || time.Since(start) > time.Second {
			killCgroup(m)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *Container) removeExecFifo() {
	os.Remove(c.dir + "/" + execFifoName)
}

// waitPidfd waits for the process to exit.
func waitPidfd(pidfd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return errors.New("did not exit after SIGKILL (stuck in the kernel?)")
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// rmdirEach removes each hierarchy's directory of the cgroup once, the
// usual end of a container: empty, no sub-cgroups. It reports whether
// all are gone; what is left is for m.Destroy.
func rmdirEach(m cgroups.Manager) bool {
	gone := true
	for _, dir := range m.GetPaths() {
		if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
			gone = false
		}
	}
	return gone
}

// anyMember returns a process of the cgroup or of a sub-cgroup, in any
// hierarchy, and where it is; 0 if there is none.
func anyMember(m cgroups.Manager) (string, int) {
	for _, dir := range m.GetPaths() {
		if pids, _ := cgroups.GetAllPids(dir); len(pids) > 0 {
			return dir, pids[0]
		}
	}
	return "", 0
}
