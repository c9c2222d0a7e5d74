package security

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// The test binary plays more parts than container init. envRole names the
// part; init() plays it before TestMain can run.
const (
	envRole = "CORRAL_SECURITY_ROLE"
	// roleExeAttack: the runtime's binary run inside a container as the
	// container's program ("#!/proc/self/exe"), which tries to write
	// itself and lingers so that an attacker can grab its /proc/<pid>/exe.
	roleExeAttack = "exe-attack"
	// roleRuntime: a runtime (a copy of this binary) that starts a
	// container, execs into it and exits, as `runc run -d` and `runc
	// exec` do; the job is the JSON file envJob names.
	roleRuntime = "runtime"
	// roleMountinfoHook: a createRuntime hook that appends the mount table
	// of the container's init, before pivot_root, and the host's, to the
	// file envOut names.
	roleMountinfoHook = "mountinfo-hook"
	// roleOvermountHook: a createRuntime hook that, inside the container's
	// mount namespace, bind-mounts decoys over procfs files (envBinds:
	// "src=dst;src=dst"), as a racing container with shared mounts would.
	roleOvermountHook = "overmount-hook"

	envJob   = "CORRAL_SECURITY_JOB"
	envOut   = "CORRAL_SECURITY_OUT"
	envBinds = "CORRAL_SECURITY_BINDS"
)

// attackLinger is how long roleExeAttack stays alive: long enough for the
// attacker's /proc scan to find it.
const attackLinger = 500 * time.Millisecond

func playRole(role string) int {
	var err error
	switch role {
	case roleExeAttack:
		err = playExeAttack()
	case roleRuntime:
		err = playRuntime(os.Getenv(envJob))
	case roleMountinfoHook:
		err = playMountinfoHook()
	case roleOvermountHook:
		err = playOvermountHook()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		return 1
	}
	return 0
}

// playExeAttack reports how the binary it runs from is protected: on a
// read-only mount, or a sealed memfd, and what opening it for writing
// gives. It does not write: in most tests it is the test binary itself.
func playExeAttack() error {
	var fs unix.Statfs_t
	rdonly := unix.Statfs("/proc/self/exe", &fs) == nil && fs.Flags&unix.ST_RDONLY != 0
	sealed := false
	if f, err := os.Open("/proc/self/exe"); err == nil {
		seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
		sealed = err == nil && seals&unix.F_SEAL_WRITE != 0
		f.Close()
	}
	write := "opened"
	if f, err := os.OpenFile("/proc/self/exe", os.O_WRONLY|os.O_APPEND, 0); err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			write = unix.ErrnoName(errno)
		} else {
			write = err.Error()
		}
	} else {
		f.Close()
	}
	fmt.Printf("SELF rdonly=%t sealed=%t write=%s\n", rdonly, sealed, write)
	time.Sleep(attackLinger)
	return nil
}

// runtimeJob is what roleRuntime does.
type runtimeJob struct {
	Root   string          `json:"root"`
	ID     string          `json:"id"`
	Config *configs.Config `json:"config"`
	Init   []string        `json:"init"`
	// Output receives the stdout and stderr of every process.
	Output string    `json:"output"`
	Execs  []execJob `json:"execs"`
}

type execJob struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
}

// playRuntime starts the job's container and its exec'd processes, waits
// for those, and leaves the container running.
func playRuntime(jobFile string) error {
	b, err := os.ReadFile(jobFile)
	if err != nil {
		return err
	}
	var job runtimeJob
	if err := json.Unmarshal(b, &job); err != nil {
		return err
	}
	out, err := os.OpenFile(job.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	c, err := libcontainer.Create(job.Root, job.ID, job.Config)
	if err != nil {
		return err
	}
	init := &libcontainer.Process{Args: job.Init, Env: []string{"PATH=/bin"}, Stdout: out, Stderr: out, Init: true}
	if err := c.Run(init); err != nil {
		return err
	}
	for _, e := range job.Execs {
		p := &libcontainer.Process{Args: e.Args, Env: e.Env, Stdout: out, Stderr: out}
		if err := c.Run(p); err != nil {
			return err
		}
		if _, err := p.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// readState decodes the OCI state a hook gets on stdin.
func readState() (*specs.State, error) {
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		return nil, err
	}
	var st specs.State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Pid <= 0 {
		return nil, fmt.Errorf("state without a pid: %s", b)
	}
	return &st, nil
}

func playMountinfoHook() error {
	st, err := readState()
	if err != nil {
		return err
	}
	info, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", st.Pid))
	if err != nil {
		return err
	}
	// The host's table at the same moment: other programs on this host
	// mount and unmount while the tests run.
	host, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(os.Getenv(envOut), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s\n---\n%s\n===\n", info, host)
	return err
}

// playOvermountHook mounts with util-linux's nsenter and mount: setns
// into a mount namespace is refused to a multi-threaded Go program.
func playOvermountHook() error {
	st, err := readState()
	if err != nil {
		return err
	}
	for _, pair := range strings.Split(os.Getenv(envBinds), ";") {
		src, dst, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("bad bind %q", pair)
		}
		// The ipc and network namespaces too: procfs looks sysctls up
		// per namespace, and a bind over the host's entry would not
		// cover the container's.
		ns := func(name string) string { return fmt.Sprintf("--%s=/proc/%d/ns/", name, st.Pid) }
		cmd := exec.Command("nsenter", ns("mount")+"mnt", ns("ipc")+"ipc", ns("net")+"net", "--", "mount", "--bind", src, dst)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", cmd, err, out)
		}
	}
	return nil
}
