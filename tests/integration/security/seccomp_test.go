package security

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// TestSeccompErrno: a denied syscall gets the errno the rule asks for,
// here 42 (ENOMSG, which nothing else returns from mkdirat) and EACCES,
// under a default that allows everything else.
func TestSeccompErrno(t *testing.T) {
	guardMounts(t)
	rootfs := newRootfs(t)
	installSyscaller(t, rootfs)
	cfg := newConfig(t, rootfs)
	cfg.Seccomp = &configs.Seccomp{
		DefaultAction: configs.Allow,
		Syscalls: []*configs.Syscall{
			{Name: "mkdirat", Action: configs.Errno, ErrnoRet: ptr(uint(42))},
			{Name: "mkdir", Action: configs.Errno, ErrnoRet: ptr(uint(42))},
			{Name: "rmdir", Action: configs.Errno, ErrnoRet: ptr(uint(unix.EACCES))},
			{Name: "unlinkat", Action: configs.Errno, ErrnoRet: ptr(uint(unix.EACCES)),
				Args: []*configs.Arg{{Index: 2, Value: unix.AT_REMOVEDIR, Op: configs.MaskEqualTo, ValueTwo: unix.AT_REMOVEDIR}}},
		},
	}
	out := sh(t, cfg, `syscaller mkdir /tmp/denied; mkdir /tmp/denied2 2>&1; rmdir /tmp 2>&1; echo done`)
	for _, want := range []string{"errno=42\n", "No message of desired type", "Permission denied", "done"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(rootfs, "tmp", "denied")); err == nil {
		t.Error("the denied mkdirat created the directory")
	}
}

// allowlist is enough for busybox, a static Go program and corral's init
// after it loads the filter (it chowns the exec fifo, changes user and
// capabilities, checks the cwd and execs); the highest number it names
// is epoll_pwait2 (441). mkdirat and acct are left out on purpose.
var allowlist = strings.Fields(`
	read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction
	rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select
	sched_yield mremap msync mincore madvise dup dup2 pause nanosleep getitimer alarm
	setitimer getpid sendfile socket connect accept sendto recvfrom sendmsg recvmsg shutdown
	bind listen getsockname getpeername socketpair setsockopt getsockopt clone fork vfork
	execve exit wait4 kill uname fcntl flock fsync fdatasync truncate ftruncate getdents
	getcwd chdir fchdir rename rmdir creat link unlink symlink readlink chmod fchmod chown
	fchown lchown umask gettimeofday getrlimit getrusage sysinfo times getuid getgid setuid
	setgid geteuid getegid setpgid getppid getpgrp setsid setreuid setregid getgroups
	setgroups setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid getsid capget
	capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend sigaltstack utime
	personality statfs fstatfs getpriority setpriority sched_setparam sched_getparam
	sched_setscheduler sched_getscheduler sched_get_priority_max sched_get_priority_min
	prctl arch_prctl setrlimit sync gettid tkill time futex sched_setaffinity
	sched_getaffinity set_tid_address fadvise64 clock_gettime clock_getres clock_nanosleep
	exit_group epoll_wait epoll_ctl tgkill utimes waitid openat newfstatat unlinkat
	renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll set_robust_list
	get_robust_list splice tee utimensat epoll_pwait eventfd fallocate accept4 eventfd2
	epoll_create1 dup3 pipe2 preadv pwritev prlimit64 getrandom memfd_create execveat statx
	getdents64 fchownat mknodat getcpu restart_syscall timer_create timer_settime
	timer_gettime timer_delete timerfd_create timerfd_settime timerfd_gettime signalfd4
	rseq clone3 close_range openat2 pidfd_open pidfd_send_signal faccessat2 epoll_pwait2`)

// TestSeccompUnknownNewSyscallGetsENOSYS: under a default that denies
// with EPERM, a syscall the profile does not name answers EPERM, but one
// newer than every syscall it names answers ENOSYS, so that a libc that
// tries a new syscall first falls back to the old one. cachestat (451)
// and mseal (462) exist on this kernel and are newer than the allowlist;
// 1000 is no syscall at all.
func TestSeccompUnknownNewSyscallGetsENOSYS(t *testing.T) {
	guardMounts(t)
	rootfs := newRootfs(t)
	installSyscaller(t, rootfs)
	cfg := newConfig(t, rootfs)
	cfg.Seccomp = &configs.Seccomp{DefaultAction: configs.Errno, DefaultErrnoRet: ptr(uint(unix.EPERM))}
	for _, name := range allowlist {
		cfg.Seccomp.Syscalls = append(cfg.Seccomp.Syscalls, &configs.Syscall{Name: name, Action: configs.Allow})
	}
	out := sh(t, cfg, `for nr in 451 462 1000; do echo "$nr $(syscaller raw $nr)"; done; `+
		`echo "acct $(syscaller raw 163)"; echo "mkdirat $(syscaller mkdir /tmp/denied)"`)
	for _, want := range []string{"451 errno=38\n", "462 errno=38\n", "1000 errno=38\n", "acct errno=1\n", "mkdirat errno=1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q (errno 38 is ENOSYS, 1 EPERM):\n%s", want, out)
		}
	}
}

// notifyAgent is a seccomp agent: it receives the listener fd and the
// container's state from the runtime on a unix socket, and answers each
// notified syscall with the next of its answers.
type notifyAgent struct {
	mu      sync.Mutex
	state   *specs.ContainerProcessState
	calls   []string
	answers []libseccomp.ScmpNotifResp
	err     error
	done    chan struct{}
}

func startAgent(t *testing.T, path string, answers []libseccomp.ScmpNotifResp) *notifyAgent {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	a := &notifyAgent{answers: answers, done: make(chan struct{})}
	t.Cleanup(func() {
		l.Close()
		select {
		case <-a.done:
		case <-time.After(5 * time.Second):
			t.Error("the seccomp agent did not finish")
		}
	})
	go func() {
		defer close(a.done)
		a.fail(a.serve(l))
	}()
	return a
}

func (a *notifyAgent) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
}

func (a *notifyAgent) serve(l *net.UnixListener) error {
	conn, err := l.AcceptUnix()
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return err
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return err
	}
	fd := fds[0]
	defer unix.Close(fd)
	// The rest of the state may come in further reads.
	data := buf[:n]
	var st specs.ContainerProcessState
	for json.Unmarshal(data, &st) != nil {
		m, err := conn.Read(buf)
		if err != nil {
			return err
		}
		data = append(data, buf[:m]...)
	}
	a.mu.Lock()
	a.state = &st
	a.mu.Unlock()
	for {
		req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(fd))
		if err != nil {
			return nil // the filter's processes are gone
		}
		name, _ := req.Data.Syscall.GetName()
		a.mu.Lock()
		resp := libseccomp.ScmpNotifResp{Flags: libseccomp.NotifRespFlagContinue}
		if len(a.answers) > 0 {
			resp, a.answers = a.answers[0], a.answers[1:]
		}
		a.calls = append(a.calls, name)
		a.mu.Unlock()
		resp.ID = req.ID
		if err := libseccomp.NotifRespond(libseccomp.ScmpFd(fd), &resp); err != nil {
			return err
		}
	}
}

// TestSeccompNotify: a notify rule hands mkdirat to an agent listening
// at linux.seccomp.listenerPath. The agent gets the listener fd with the
// container's state and metadata, and its answers are what the container
// sees: an errno, a success that did nothing, and "continue", which lets
// the kernel do the call. Without no_new_privs init loads the filter in
// Go; with it, init's wait mode (nsenter/wait.c) loads it and hands the
// listener over: the test binary, dynamically linked, can exec itself
// into that mode only with its loader and libraries in the rootfs.
func TestSeccompNotify(t *testing.T) {
	for _, nnp := range []bool{false, true} {
		t.Run(map[bool]string{false: "go", true: "wait-mode"}[nnp], func(t *testing.T) {
			testSeccompNotify(t, nnp)
		})
	}
}

func testSeccompNotify(t *testing.T, nnp bool) {
	guardMounts(t)
	rootfs := newRootfs(t)
	installSyscaller(t, rootfs)
	if nnp {
		itest.InstallSharedLibs(t, rootfs)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := startAgent(t, sock, []libseccomp.ScmpNotifResp{
		{Error: 42},
		{Val: 0},
		{Flags: libseccomp.NotifRespFlagContinue},
	})
	cfg := newConfig(t, rootfs)
	cfg.Seccomp = &configs.Seccomp{
		DefaultAction:    configs.Allow,
		ListenerPath:     sock,
		ListenerMetadata: "corral-security-test",
		Syscalls: []*configs.Syscall{
			{Name: "mkdirat", Action: configs.Notify},
			{Name: "mkdir", Action: configs.Notify},
		},
	}
	cfg.NoNewPrivileges = nnp
	out := sh(t, cfg, `for d in a b c; do echo "$d $(syscaller mkdir /tmp/notify-$d)"; done`)
	for _, want := range []string{"a errno=42\n", "b errno=0\n", "c errno=0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the container did not get the agent's answer %q:\n%s", want, out)
		}
	}
	for d, want := range map[string]bool{"a": false, "b": false, "c": true} {
		if _, err := os.Stat(filepath.Join(rootfs, "tmp", "notify-"+d)); (err == nil) != want {
			t.Errorf("/tmp/notify-%s exists: %v, want %v", d, err == nil, want)
		}
	}
	agent.mu.Lock()
	defer agent.mu.Unlock()
	if agent.err != nil {
		t.Errorf("agent: %v", agent.err)
	}
	if st := agent.state; st == nil || st.Metadata != "corral-security-test" || st.Pid == 0 ||
		len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName || st.State.ID == "" {
		t.Errorf("the agent got the state %+v", agent.state)
	}
	if len(agent.calls) != 3 || agent.calls[0] != "mkdirat" {
		t.Errorf("the agent was asked about %v, want mkdirat three times", agent.calls)
	}
}
