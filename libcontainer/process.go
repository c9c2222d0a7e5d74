package libcontainer

import (
	"errors"
	"io"
	"os"
	"sync"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Process is a program run in a container: its first (Init true) or an
// additional one started in a running container.
type Process struct {
	// Args are the program and its arguments; Args[0] is looked up in
	// the PATH of Env inside the container.
	Args []string

	// Env is the environment, "KEY=value".
	Env []string

	// User is "name", "uid", "uid:gid", "name:group" or "uid:group",
	// resolved in the container's /etc/passwd and /etc/group. Empty
	// means root.
	User string

	// AdditionalGroups are group names or gids added to the user's.
	AdditionalGroups []string

	// Cwd is the working directory inside the container; "/" if empty.
	Cwd string

	// Stdin, Stdout and Stderr of the process. An *os.File is handed to
	// the process as is; anything else is connected through a pipe.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// ExtraFiles are passed as fds 3, 4, ... of the process.
	ExtraFiles []*os.File

	// ConsoleSocket, when set, gives the process a new terminal: the
	// master end of its pty is sent over this unix socket.
	ConsoleSocket *os.File

	// ConsoleWidth and ConsoleHeight size the terminal.
	ConsoleWidth, ConsoleHeight uint16

	// PidfdSocket, when set, receives a pidfd of the process.
	PidfdSocket *os.File

	// Capabilities override the container's for this process.
	Capabilities *configs.Capabilities

	// NoNewPrivileges overrides the container's setting when set.
	NoNewPrivileges *bool

	// AppArmorProfile and Label override the container's LSM labels.
	AppArmorProfile string
	Label           string

	// Rlimits are set in addition to (and over) the container's.
	Rlimits []configs.Rlimit

	// Umask overrides the container's umask.
	Umask *uint32

	// Scheduler and IOPriority override the container's.
	Scheduler  *configs.Scheduler
	IOPriority *configs.IOPriority

	// CPUAffinity pins the process, over the container's
	// ExecCPUAffinity, which only processes exec'd in the container
	// take. Without either the process runs on the cpus of the
	// container's cpuset (all without one), whatever the runtime's
	// own affinity.
	CPUAffinity *configs.CPUAffinity

	// SubCgroupPaths puts an exec'd process in a sub-cgroup of the
	// container's, keyed by controller ("" on cgroup v2).
	SubCgroupPaths map[string]string

	// Init marks the container's first process.
	Init bool

	// IgnorePaused lets an additional process start in a paused
	// container. It is in every cgroup of the container before it runs,
	// but for the cgroup v1 freezer, which it joins right after its exec:
	// it may run a moment, within the container's limits, then waits for
	// the container to resume. On cgroup v2, where the freezer and the
	// limits are one cgroup, it is born frozen and Run returns once the
	// container resumes.
	IgnorePaused bool

	mu  sync.Mutex
	run *running
}

// ErrNotStarted is returned by the methods of a Process that has not been
// started by this program.
var ErrNotStarted = errors.New("process has not been started")

// Pid returns the host pid of the process.
func (p *Process) Pid() (int, error) {
	r, err := p.running()
	if err != nil {
		return -1, err
	}
	return r.proc.Pid, nil
}

// Wait waits for the process to exit and for its output to be copied.
func (p *Process) Wait() (*os.ProcessState, error) {
	r, err := p.running()
	if err != nil {
		return nil, err
	}
	return r.wait()
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error {
	r, err := p.running()
	if err != nil {
		return err
	}
	return r.proc.Signal(sig)
}

func (p *Process) running() (*running, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return nil, ErrNotStarted
	}
	return p.run, nil
}
