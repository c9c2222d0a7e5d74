package libcontainer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

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
		return opError("start", c.id, fmt.Errorf("%w (it is %s)", ErrNotCreated, status))
	}
	faultPoint("start:before-fifo")
	err = c.awaitStart(st)
	faultPoint("start:fifo-read")
	phase.Mark("start:exec-done")
	os.Remove(filepath.Join(c.dir, execFifoName))
	if err != nil {
		return opError("start", c.id, err)
	}
	if hooks := st.Config.Hooks[configs.Poststart]; len(hooks) > 0 {
		// The spec makes a failed poststart hook a warning only.
		if err := st.Config.Hooks.Run(configs.Poststart, ociState(st, Running)); err != nil {
			slog.Warn("poststart hook failed", "id", c.id, "error", err)
		}
	}
	return nil
}

// awaitStart opens the exec fifo and reads init's answer, to the end: the
// write end closes when init's exec has gone through, and an exec that
// fails writes why first. The read end is opened without blocking, which
// releases init from its open of the write end, and one poll waits for
// the answer or for init's death (init dead before it opened its end
// would never answer).
func (c *Container) awaitStart(st *State) error {
	pidfd, err := openInitPidfd(st)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	path := filepath.Join(c.dir, execFifoName)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("exec fifo: %w", err)
	}
	defer unix.Close(fd)
	// init is released: from now on the container is not created, even if
	// this runtime dies before reading its answer.
	os.Remove(path)
	answer, err := readAnswer(fd, pidfd)
	if err != nil {
		return fmt.Errorf("exec fifo: %w", err)
	}
	switch {
	case len(answer) == 0:
		return errors.New("container init exited before it could start the program")
	case answer[0] != fifoStarted:
		return errors.New(string(answer))
	case len(answer) > 1:
		return errors.New(string(answer[1:]))
	}
	return nil
}

// readAnswer reads the non-blocking fifo fd until its writer is gone: it
// closed its end (poll says so only once a writer has come and gone), or
// the process behind pidfd died.
func readAnswer(fd, pidfd int) ([]byte, error) {
	var answer []byte
	buf := make([]byte, 512)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return nil, err
		}
		// Whatever is in the fifo first: a dead writer may have answered.
		for {
			n, err := unix.Read(fd, buf)
			if n > 0 {
				answer = append(answer, buf[:n]...)
				continue
			}
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				break
			}
			if err != nil {
				return nil, err
			}
			if fds[0].Revents&unix.POLLHUP != 0 || fds[1].Revents != 0 {
				return answer, nil // end of file: the writer is gone
			}
			break // no writer yet
		}
		if fds[1].Revents != 0 {
			return answer, nil
		}
	}
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
