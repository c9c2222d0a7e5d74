package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
	"github.com/corral-oci/corral/libcontainer/internal/posenc"
)

// hooksJob is what init's hooks mode does once the container is started:
// run the startContainer hooks, then exec the program. The waiter
// (nsenter/wait.c) execs this binary into that mode with the job in a
// memfd, so that Go starts again in a process whose every thread has the
// program's credentials, bounding set, no_new_privs and seccomp filter:
// none of init's first Go threads, which kept the runtime's, is left for
// a process of the container to ptrace (issue 17).
type hooksJob struct {
	Hooks []configs.Command
	// State is the container's state, the hooks' stdin.
	State []byte
	// Exe, Args and Env are the program, resolved already.
	Exe  string
	Args []string
	Env  []string
	// PreservedFDs is how many fds from 3 up the program keeps.
	PreservedFDs int
	// LSMAttrs are written, through init's procfs, right before the
	// program's exec.
	LSMAttrs []lsmAttr
}

// file writes the job to a memfd, close-on-exec.
func (j *hooksJob) file() (int, error) {
	b, err := posenc.Marshal(j)
	if err != nil {
		return -1, fmt.Errorf("encode the startContainer hooks: %w", err)
	}
	return memfdOf("startContainer hooks", b)
}

// runStartHooks is init's hooks mode: fds is bootstrap.EnvHooks's value,
// "fifo,hooks,procfs", the exec fifo that start opened, the job, and
// init's own procfs, through which it writes the exec labels. Whatever
// fails is written to the fifo, which `start` prints. It does not
// return.
func runStartHooks(fds string) {
	os.Unsetenv(bootstrap.EnvHooks)
	fifoFD, jobFD, procfs, ok := parseHooksFDs(fds)
	if !ok {
		fmt.Fprintf(os.Stderr, "init: %s=%q is not three file descriptors\n", bootstrap.EnvHooks, fds)
		os.Exit(1)
	}
	fifo := os.NewFile(uintptr(fifoFD), "exec.fifo")
	fail := func(step string, err error) {
		msg := err.Error()
		if step != "exec" {
			// execve's error names the step itself, as runc's does.
			msg = step + ": " + msg
		}
		fmt.Fprint(fifo, msg)
		os.Exit(1)
	}
	// The constructor made the process non-dumpable before Go started
	// its threads; a binary without the constructor must not go on.
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 0 {
		fail("hooks", fmt.Errorf("the hooks mode is dumpable (%d, %v): the nsenter constructor did not run", d, err))
	}
	job, err := readHooksJob(jobFD)
	if err != nil {
		fail("hooks", err)
	}
	// The fifo, the job and the binary's handle reach neither the hooks
	// nor the program.
	if err := closeOnExecFrom(3 + job.PreservedFDs); err != nil {
		fail("hooks", err)
	}
	if err := runHooks(configs.StartContainer, job.Hooks, job.State, job.Env); err != nil {
		fail("hooks", err)
	}
	if err := writeLSMAttrs(procfs, job.LSMAttrs); err != nil {
		var ie *initsync.InitError
		errors.As(err, &ie)
		fail(ie.Step, ie)
	}
	unix.Close(procfs)
	if _, err := fifo.Write([]byte{fifoStarted}); err != nil {
		fail("init", fmt.Errorf("report the start on the exec fifo: %w", err))
	}
	fail("exec", execve(job.Exe, job.Args, job.Env))
}

func parseHooksFDs(s string) (fifo, job, procfs int, ok bool) {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return 0, 0, 0, false
	}
	var fds [3]int
	for i, v := range f {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			return 0, 0, 0, false
		}
		fds[i] = n
	}
	return fds[0], fds[1], fds[2], true
}

func readHooksJob(fd int) (*hooksJob, error) {
	f := os.NewFile(uintptr(fd), "hooks")
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("read the startContainer hooks: %w", err)
	}
	b := make([]byte, st.Size)
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("read the startContainer hooks: %w", err)
	}
	var job hooksJob
	if err := posenc.Unmarshal(b, &job); err != nil {
		return nil, fmt.Errorf("decode the startContainer hooks: %w", err)
	}
	if len(job.Args) == 0 {
		return nil, fmt.Errorf("decode the startContainer hooks: no program to exec")
	}
	return &job, nil
}
