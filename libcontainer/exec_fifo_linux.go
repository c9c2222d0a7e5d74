package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/faults"
	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/procstat"
)

// The exec fifo is how a created container is started, by any process:
// init blocks opening it for writing until a reader comes, writes
// fifoStarted right before it execs the program, and otherwise writes why
// it could not. Its write end closes on exec.
const fifoStarted = '0'

// Exec starts the program of a created container.
func (c *Container) Exec() error {
	st, status, unlock, err := c.lockedStatus()
	if err != nil {
		return err
	}
	defer unlock()
	if status != Created {
		return fmt.Errorf("start container %q: %w (it is %s)", c.id, ErrNotCreated, status)
	}
	faults.Point("start:before-fifo")
	err = c.awaitStart(st)
	faults.Point("start:fifo-read")
	phase.Mark("start:exec-done")
	os.Remove(filepath.Join(c.dir, execFifoName))
	if err != nil {
		return fmt.Errorf("start container %q: %w", c.id, err)
	}
	if hooks := st.Config.Hooks[configs.Poststart]; len(hooks) > 0 {
		// The spec makes a failed poststart hook a warning only.
		if err := st.Config.Hooks.Run(configs.Poststart, ociState(st, Running)); err != nil {
			slog.Warn("poststart hook failed", "id", c.id, "error", err)
		}
	}
	return nil
}

// awaitStart opens the exec fifo and reads init's answer. If init dies
// before it opens its end, the open would block forever: a watcher of
// init's pidfd then opens a write end to release it.
func (c *Container) awaitStart(st *State) error {
	pidfd, err := openInitPidfd(st)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	cancel, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(cancel)

	path := filepath.Join(c.dir, execFifoName)
	type result struct {
		b   []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		f, err := os.OpenFile(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			res <- result{err: err}
			return
		}
		// init is released: from now on the container is not created,
		// even if this runtime dies before reading its answer.
		os.Remove(path)
		b, err := io.ReadAll(f)
		f.Close()
		res <- result{b, err}
	}()
	died := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}, {Fd: int32(cancel), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if err == unix.EINTR {
				continue
			}
			if fds[0].Revents != 0 {
				close(died)
			}
			return
		}
	}()
	var r result
	select {
	case r = <-res:
	case <-died:
		if w, err := os.OpenFile(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
			w.Close()
		}
		r = <-res
	}
	// The watcher must be done with both fds before they are closed.
	unix.Write(cancel, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	<-watched
	if r.err != nil {
		return fmt.Errorf("exec fifo: %w", r.err)
	}
	switch {
	case len(r.b) == 0:
		return errors.New("container init exited before it could start the program")
	case r.b[0] != fifoStarted:
		return errors.New(string(r.b))
	case len(r.b) > 1:
		return errors.New(string(r.b[1:]))
	}
	return nil
}

// openInitPidfd returns a pidfd of init, checked to be init and not a
// process that reused its pid.
func openInitPidfd(st *State) (int, error) {
	pidfd, err := unix.PidfdOpen(st.InitProcessPid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return -1, ErrStopped
		}
		return -1, fmt.Errorf("pidfd_open %d: %w", st.InitProcessPid, err)
	}
	// Checked after pidfd_open: if the start time still matches, the
	// pidfd was opened on init and not on a process that reused its pid.
	ps, err := procstat.Read(st.InitProcessPid)
	if err != nil || ps.StartTime != st.InitProcessStartTime {
		unix.Close(pidfd)
		return -1, ErrStopped
	}
	return pidfd, nil
}
