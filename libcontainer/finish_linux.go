package libcontainer

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/capabilities"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
	"github.com/corral-oci/corral/libcontainer/nsenter"
	"github.com/corral-oci/corral/libcontainer/seccomp"
)

// finishProcess is the end of every setup, for init and exec'd processes
// alike: the process's attributes, its user and capabilities, seccomp,
// fds and cwd, then (for init) the wait for start, and exec.
func finishProcess(sock *os.File, s *setup, procfs *os.File) error {
	ps := &s.Process
	// An exec'd process's report pipe (spawnProgram) is made before the
	// seccomp filter, which may not allow pipe2.
	var report [2]int
	if s.Mode == modeExec {
		if err := unix.Pipe2(report[:], unix.O_CLOEXEC); err != nil {
			return step("exec", fmt.Errorf("pipe: %w", err))
		}
	}
	// The runtime wrote oom_score_adj before the bootstrap joined a user
	// namespace, where a negative one is refused.
	if err := setProcessAttrs(nil, ps); err != nil {
		return err
	}
	u, err := lookupUser(ps)
	if err != nil {
		return step("user", err)
	}
	env := processEnv(ps.Env, u.home)
	cwdEntered, err := enterCwdPrivileged(ps.Cwd)
	if err != nil {
		return step("cwd", err)
	}
	var caps *capabilities.Caps
	if ps.Capabilities != nil {
		if caps, err = capabilities.New(ps.Capabilities); err != nil {
			return step("capabilities", err)
		}
	}
	var filter *seccomp.Filter
	if len(ps.SeccompBPF) > 0 {
		filter = new(seccomp.Filter)
		if err := filter.UnmarshalBinary(ps.SeccompBPF); err != nil {
			return step("seccomp", err)
		}
	}
	// LSM labels take effect at the next exec: an exec'd process's is
	// the program's; init's wait mode writes init's (lsmattr_linux.go).
	if s.Mode == modeExec && s.ProcFD > 0 {
		err := writeLSMAttrs(s.ProcFD, lsmAttrs(s.ProcFD, ps))
		unix.Close(s.ProcFD)
		if err != nil {
			return err
		}
	}
	if caps != nil {
		// The bounding set shrinks only with CAP_SETPCAP, which the
		// change of user drops; KEEPCAPS keeps the permitted set
		// across it for caps.Apply.
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return step("capabilities", err)
		}
		if err := caps.ApplyBounding(); err != nil {
			return step("capabilities", err)
		}
	}
	if filter != nil && !ps.NoNewPrivileges {
		// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN,
		// which the change of user may drop.
		if err := loadSeccomp(sock, filter); err != nil {
			return err
		}
	}
	if err := giveStdio(ps.Terminal, u.uid); err != nil {
		return step("stdio", err)
	}
	if s.Mode == modeInit {
		// init opens the exec fifo as the user it becomes; the fifo is
		// the container root's until then, mode 0600.
		if err := unix.Fchownat(s.FifoFD, "", u.uid, u.gid, unix.AT_EMPTY_PATH); err != nil {
			return step("init", fmt.Errorf("chown exec fifo: %w", err))
		}
	}
	if err := changeUser(u); err != nil {
		return step("user", err)
	}
	if caps != nil {
		if err := caps.Apply(); err != nil {
			return step("capabilities", err)
		}
	}
	umask := uint32(0o022)
	if ps.Umask != nil {
		umask = *ps.Umask
	}
	unix.Umask(int(umask))
	if err := enterCwd(ps.Cwd, cwdEntered); err != nil {
		return step("cwd", err)
	}
	exe, err := lookPath(ps.Args[0], env)
	if err != nil {
		return step("exec", err)
	}
	// With no_new_privs the filter is the last step before execve: the C
	// code that execs loads it (lastFilter), so that nothing the profile
	// may deny runs after it (issue 18).
	var last *seccomp.Filter
	if ps.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return step("no_new_privileges", err)
		}
		if filter != nil && lastFilter(s, filter) {
			last = filter
		} else if filter != nil {
			if err := loadSeccomp(sock, filter); err != nil {
				return err
			}
		}
	}
	phase.Mark("init:credentials-set")
	// Only stdio and the fds the caller asked to pass reach the program
	// (an exec'd program's process closes the others itself).
	if s.Mode == modeInit {
		if err := closeOnExecFrom(3 + s.PreservedFDs); err != nil {
			return step("fds", err)
		}
	}
	if s.Mode == modeInit {
		return execWaiter(sock, s, procfs, exe, env, last)
	}
	return step("exec", spawnProgram(sock, s, exe, env, report, last))
}

// lastFilter reports whether the C code that execs the program loads
// the filter: init's wait mode (nsenter/wait.c), or an exec'd program's
// process (nsenter/spawn.c) unless the filter has a notify listener,
// which that process, a child of the runtime that shares no socket with
// it in a known state, cannot hand over. startContainer hooks run after
// the filter, as with runc: the wait mode loads it before it execs the
// hooks mode.
func lastFilter(s *setup, f *seccomp.Filter) bool {
	if s.Mode == modeInit {
		return true
	}
	return f.Flags()&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0
}

// spawnProgram clones, from this thread, the exec'd program's process
// into the container's pid namespace, tells the runtime its pid, and
// exits once it runs. The child reports a failure on the report pipe,
// which closes on its exec.
func spawnProgram(sock *os.File, s *setup, exe string, env []string, report [2]int, filter *seccomp.Filter) error {
	// In its pid namespace the child sees its parent, the runtime,
	// outside: as pid 0.
	parent := os.Getppid()
	if s.PidNSFD > 0 {
		parent = 0
	}
	pid, err := nsenter.Start(&nsenter.Spawn{
		Path: exe, Args: s.Process.Args, Env: env,
		FirstFD: 3 + s.PreservedFDs, ErrFD: report[1],
		Terminal: s.Process.Terminal, Parent: parent,
		Filter: filter,
	})
	unix.Close(report[1])
	if errors.Is(err, unix.ENOMEM) && s.PidNSFD > 0 {
		// alloc_pid's answer once the namespace's init is gone.
		return fmt.Errorf("clone the program's process: %w (the container's init has exited: its pid namespace takes no new process)", err)
	}
	if err != nil {
		return fmt.Errorf("clone the program's process: %w", err)
	}
	if err := initsync.Send(sock, initsync.Pid, pid); err != nil {
		return err
	}
	var b [16]byte
	n, err := unix.Read(report[0], b[:])
	for errors.Is(err, unix.EINTR) {
		n, err = unix.Read(report[0], b[:])
	}
	if err != nil {
		return fmt.Errorf("read the program's report: %w", err)
	}
	if n == 0 {
		os.Exit(0)
	}
	err = nsenter.SpawnError(b[:n])
	var errno syscall.Errno
	if errors.As(err, &errno) && err == error(errno) {
		return fmt.Errorf("exec %s: %w", s.Process.Args[0], err)
	}
	return err
}

// awaitStartAndExec tells the runtime init is ready, waits on the exec
// fifo for start, and execs. From here on errors go through the fifo to
// whoever started the container.
func awaitStartAndExec(sock *os.File, s *setup, procfs *os.File, exe string, env []string) error {
	// The runtime that created us may exit now that we are ready.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(s.Config.ParentDeathSignal), 0, 0, 0); err != nil {
		return step("init", err)
	}
	if err := initsync.Send(sock, initsync.Ready, nil); err != nil {
		return step("init", err)
	}
	fifo, err := openExecFifo(procfs, s.FifoFD)
	procfs.Close()
	if err != nil {
		return step("init", err)
	}
	phase.Mark("init:started")
	fail := func(step string, err error) error {
		msg := err.Error()
		if step != "exec" {
			// execve's error names the step itself, as runc's does.
			msg = step + ": " + msg
		}
		fmt.Fprint(fifo, msg)
		return reportedError{initsync.NewError(step, err)}
	}
	if err := runHooks(configs.StartContainer, s.Hooks.StartContainer, s.HookState, env); err != nil {
		return fail("hooks", err)
	}
	if _, err := fifo.Write([]byte{fifoStarted}); err != nil {
		return step("init", err)
	}
	phase.Mark("init:exec")
	err = execve(exe, s.Process.Args, env)
	return fail("exec", err)
}

// execve runs the program; its error reads as runc's does ("exec
// /run.sh: no such file or directory").
func execve(exe string, args, env []string) error {
	err := unix.Exec(exe, args, env)
	return fmt.Errorf("exec %s: %w", args[0], err)
}

// reportedError is an error of init that the process starting the
// container has already been told, through the exec fifo: init does not
// print it again.
type reportedError struct{ err *initsync.InitError }

func (e reportedError) Error() string { return e.err.Error() }
func (e reportedError) Unwrap() error { return e.err }

// loadSeccomp installs the filter, and hands a notify listener fd to the
// runtime, which passes it to the listener the config names.
func loadSeccomp(sock *os.File, f *seccomp.Filter) error {
	fd, err := seccomp.Load(f)
	if err != nil {
		return step("seccomp", err)
	}
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	if err := initsync.SendFD(sock, initsync.SeccompFD, fd); err != nil {
		return step("seccomp", err)
	}
	return step("seccomp", initsync.Expect(sock, initsync.SeccompDone, nil))
}

// enterCwdPrivileged changes to the process's working directory while
// the process is still root, with root's capabilities, as runc does: a
// non-root user whose cwd is under a directory only root may enter (a
// volume below /root, or the cwd of a container that joins another's
// namespaces) starts there. A directory root is refused (a root-squashed
// NFS export, a volume owned by an id the user namespace does not map) may
// still be the user's: it reports false then, and enterCwd tries again as
// the user. Any other error is final.
func enterCwdPrivileged(cwd string) (bool, error) {
	err := unix.Chdir(cwdOrRoot(cwd))
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("process.cwd %q: %w", cwd, err)
	}
	return true, nil
}

// enterCwd changes to the process's working directory as the process's
// user, unless enterCwdPrivileged did already, and checks that it is
// inside the container: a cwd reached through a leaked fd of the host
// (/proc/self/fd/N) would be outside its root (CVE-2024-21626).
func enterCwd(cwd string, entered bool) error {
	if !entered {
		if err := unix.Chdir(cwdOrRoot(cwd)); err != nil {
			return fmt.Errorf("process.cwd %q: %w", cwd, err)
		}
	}
	wd, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("process.cwd %q is outside the container", cwd)
	}
	return nil
}

func cwdOrRoot(cwd string) string {
	if cwd == "" {
		return "/"
	}
	return cwd
}

// processEnv returns env with HOME set to the user's home when it is
// missing or empty, as runc does. Of several HOME entries the last one
// counts, and only it stays, where the first one was, as with runc, which
// keeps one entry per name.
func processEnv(env []string, home string) []string {
	first, last, n := -1, -1, 0
	for i, kv := range env {
		if strings.HasPrefix(kv, "HOME=") {
			if first < 0 {
				first = i
			}
			last = i
			n++
		}
	}
	if n == 1 && env[last] != "HOME=" {
		return env
	}
	value := "HOME=" + cmp.Or(home, "/")
	if n == 0 {
		return append(env[:len(env):len(env)], value)
	}
	if env[last] != "HOME=" {
		value = env[last]
	}
	out := make([]string, 0, len(env)-n+1)
	for i, kv := range env {
		switch {
		case i == first:
			out = append(out, value)
		case !strings.HasPrefix(kv, "HOME="):
			out = append(out, kv)
		}
	}
	return out
}

// defaultPath is the PATH used when the process's environment has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath finds the program as the process will exec it: in the PATH of
// its own environment, with the permissions of its user.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := executable(name); err != nil {
			return "", fmt.Errorf("process.args[0] %q: %w", name, err)
		}
		return name, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	var firstErr error
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + name
		err := executable(p)
		if err == nil {
			return p, nil
		}
		if firstErr == nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", fmt.Errorf("process.args[0] %q: %w", name, firstErr)
	}
	return "", fmt.Errorf("process.args[0] %q: executable file not found in $PATH", name)
}

func executable(path string) error {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("%s is a directory", path)
	}
	return unix.Faccessat(unix.AT_FDCWD, path, unix.X_OK, unix.AT_EACCESS)
}

// changeUser switches every thread to the user, groups first. Every
// thread, not only the one that execs: until execve ends them, the Go
// runtime's other threads are part of a process in the container, and a
// thread left as root, with root's capabilities, would be there for a
// process of the container allowed to ptrace (CAP_SYS_PTRACE) to take.
// Changing only the exec'ing thread would make every start faster, and
// would leave those threads as root.
func changeUser(u *execUser) error {
	if sameCredentials(u) {
		return nil
	}
	if err := syscall.Setgroups(u.groups); err != nil {
		// A user namespace with setgroups denied keeps the groups it has;
		// that is only an error if groups were asked for.
		if !errors.Is(err, unix.EPERM) || len(u.groups) > 0 {
			return fmt.Errorf("setgroups %v: %w", u.groups, err)
		}
	}
	if err := syscall.Setresgid(u.gid, u.gid, u.gid); err != nil {
		return fmt.Errorf("setgid %d: %w%s", u.gid, err, unmappedHint(err))
	}
	if err := syscall.Setresuid(u.uid, u.uid, u.uid); err != nil {
		return fmt.Errorf("setuid %d: %w%s", u.uid, err, unmappedHint(err))
	}
	return nil
}

// sameCredentials reports whether every thread already has u's ids and
// groups, as a container run as root by root usually does: each change is
// a broadcast that stops every thread (with musl, one thread after
// another). This thread's credentials are every thread's: the bootstrap
// changes them, if at all, before there are other threads, and nothing
// else changes them before changeUser.
func sameCredentials(u *execUser) bool {
	r, e, s := unix.Getresuid()
	if r != u.uid || e != u.uid || s != u.uid {
		return false
	}
	r, e, s = unix.Getresgid()
	if r != u.gid || e != u.gid || s != u.gid {
		return false
	}
	groups, err := unix.Getgroups()
	return err == nil && slices.Equal(groups, u.groups)
}

func unmappedHint(err error) string {
	if errors.Is(err, unix.EINVAL) {
		return " (the id is not mapped in the container's user namespace)"
	}
	return ""
}

// closeOnExecFrom marks every fd from first on close-on-exec. close_range
// does it in one call, but the seccomp filter is loaded by now, and a
// profile written before Linux 5.9 (Docker's default until 2020) does not
// list it: corral's stub answers ENOSYS, another profile its default
// errno. Then each fd of /proc/self/fd gets FD_CLOEXEC through fcntl,
// which every profile allows, as runc does it.
func closeOnExecFrom(first int) error {
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	ents, rerr := os.ReadDir("/proc/self/fd")
	if rerr != nil {
		return fmt.Errorf("close fds before exec: close_range: %w; then %w", err, rerr)
	}
	for _, e := range ents {
		fd, perr := strconv.Atoi(e.Name())
		if perr != nil || fd < first {
			continue
		}
		// The fd of the directory read is closed by now: EBADF.
		if _, ferr := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); ferr != nil && ferr != unix.EBADF {
			return fmt.Errorf("close fds before exec: fcntl %d FD_CLOEXEC: %w", fd, ferr)
		}
	}
	return nil
}
