package libcontainer

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/apparmor"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/label"
	"github.com/corral-oci/corral/libcontainer/seccomp"
)

// execWaiter ends init's Go setup: it execs this binary again, into the
// nsenter constructor's wait mode (nsenter/wait.c), which tells the
// runtime init is ready, waits for start and execs the program. The Go
// runtime's other threads kept the runtime's capabilities, bounding set,
// no seccomp filter and no no_new_privs, which only this thread gave up:
// a process of the container allowed to ptrace init could have taken one
// (issue 17). The exec ends them, and the kernel gives the waiter the
// credentials the program's exec will give it, on one thread.
//
// startContainer hooks run in init after start and need Go: with any,
// the waiter execs this binary once more, into its hooks mode
// (runStartHooks), once start opened the fifo. A binary that cannot exec
// itself waits in Go (see below).
//
// The waiter loads filter, if not nil, before it tells the runtime init
// is ready.
func execWaiter(sock *os.File, s *setup, procfs *os.File, exe string, env []string, filter *seccomp.Filter) error {
	// The runtime that created us may exit once we are ready. The signal
	// survives the exec: the binary is not set-user-ID.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(s.Config.ParentDeathSignal), 0, 0, 0); err != nil {
		return step("init", fmt.Errorf("set the parent-death signal: %w", err))
	}
	attrs := lsmAttrs(int(procfs.Fd()), &s.Process)
	if len(attrs) > 0 && !procfsWritable(int(procfs.Fd())) {
		// No procfs for the wait mode to write its exec labels
		// through: init waits in Go.
		slog.Debug("init's procfs is read-only (no subset=pid): waiting in Go to write the exec labels")
		unix.Close(s.ExeFD)
		return waitInGo(sock, s, procfs, exe, env, filter)
	}
	var progAttrs []lsmAttr
	if len(s.Hooks.StartContainer) == 0 {
		progAttrs = attrs
	}
	prog, err := programFile(exe, s.Process.Args, env, progAttrs)
	if err != nil {
		return step("init", err)
	}
	filterFD := -1
	if filter != nil {
		if filterFD, err = filterFile(filter); err != nil {
			unix.Close(prog)
			return step("seccomp", err)
		}
	}
	exeFD, hooksFD := -1, -1
	if len(s.Hooks.StartContainer) > 0 {
		job := hooksJob{Hooks: s.Hooks.StartContainer, State: s.HookState, Exe: exe, Args: s.Process.Args, Env: env,
			PreservedFDs: s.PreservedFDs, LSMAttrs: attrs}
		if hooksFD, err = job.file(); err != nil {
			unix.Close(prog)
			unix.Close(filterFD)
			return step("hooks", err)
		}
		exeFD = s.ExeFD
	}
	fds := []int{int(sock.Fd()), s.FifoFD, int(procfs.Fd()), prog, filterFD, exeFD, hooksFD}
	for _, fd := range fds {
		if fd < 0 {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return step("init", fmt.Errorf("pass fd %d to the wait mode: %w", fd, err))
		}
	}
	argv := bootstrap.Args(os.Args[0], bootstrap.MarkWait)
	envv := []string{fmt.Sprintf("%s=%d,%d,%d,%d,%d,%d,%d", bootstrap.EnvWait, fds[0], fds[1], fds[2], fds[3], fds[4], fds[5], fds[6])}
	// init's last exec as far as the phases go: the waiter marks none.
	phase.Mark("init:exec")
	err = execveat(s.ExeFD, argv, envv)
	if err != nil {
		// A failed exec leaves the process as it was. A dynamically
		// linked program that embeds libcontainer (a test binary)
		// finds no loader in the container's root (ENOENT); a seccomp
		// profile that does not list execveat, loaded already when
		// no_new_privs is off, denies it. init then
		// waits in Go, as before. The shipped binary is static.
		slog.Debug("init cannot exec its binary into its wait mode: waiting in Go", "error", err)
		unix.Close(prog)
		unix.Close(hooksFD)
		unix.Close(filterFD)
		unix.Close(s.ExeFD)
		for _, fd := range fds[:3] {
			unix.CloseOnExec(fd)
		}
		return waitInGo(sock, s, procfs, exe, env, filter)
	}
	return nil // not reached: the exec succeeded
}

// waitInGo is init's wait for start where the wait mode cannot be used:
// the filter, the exec labels (through pathrs-lite's procfs), then
// awaitStartAndExec. Go's other threads keep the runtime's privileges
// until the program's exec.
func waitInGo(sock *os.File, s *setup, procfs *os.File, exe string, env []string, filter *seccomp.Filter) error {
	if filter != nil {
		if err := loadSeccomp(sock, filter); err != nil {
			return err
		}
	}
	if err := apparmor.ApplyProfile(s.Process.AppArmorProfile); err != nil {
		return step("apparmor", err)
	}
	if err := label.SetProcessLabel(s.Process.Label); err != nil {
		return step("selinux", err)
	}
	return awaitStartAndExec(sock, s, procfs, exe, env)
}

// programFile writes what the waiter execs, and the LSM attributes it
// writes first, to a memfd:
// "path\0argc\0nattr\0args...\0(step\0attr\0value\0)...env...\0".
func programFile(exe string, args, env []string, attrs []lsmAttr) (int, error) {
	b := make([]byte, 0, 256)
	add := func(s string) { b = append(append(b, s...), 0) }
	add(exe)
	add(strconv.Itoa(len(args)))
	add(strconv.Itoa(len(attrs)))
	for _, a := range args {
		add(a)
	}
	for _, a := range attrs {
		add(a.Step)
		add(a.Attr)
		add(a.Value)
	}
	for _, e := range env {
		add(e)
	}
	return memfdOf("program to exec", b)
}

// filterFile writes the seccomp filter the waiter loads to a memfd: its
// seccomp(2) flags as a native u32, then its classic-BPF instructions.
func filterFile(f *seccomp.Filter) (int, error) {
	prog := f.BPF()
	b := binary.NativeEndian.AppendUint32(make([]byte, 0, 4+8*len(prog)), f.Flags())
	for _, in := range prog {
		b = binary.NativeEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.NativeEndian.AppendUint32(b, in.K)
	}
	return memfdOf("seccomp filter", b)
}

// memfdOf returns a close-on-exec memfd holding b, what the wait and
// hooks modes read; what names it in errors.
func memfdOf(what string, b []byte) (int, error) {
	fd, err := unix.MemfdCreate("corral-"+strings.ReplaceAll(what, " ", "-"), unix.MFD_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("memfd for the %s: %w", what, err)
	}
	if err := writeAll(fd, b); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("write the %s: %w", what, err)
	}
	return fd, nil
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// execveat execs the file fd refers to. x/sys/unix has no wrapper.
func execveat(fd int, argv, envv []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envvp, err := syscall.SlicePtrFromStrings(envv)
	if err != nil {
		return err
	}
	empty := []byte{0}
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envvp[0])), unix.AT_EMPTY_PATH, 0)
	return errno
}
