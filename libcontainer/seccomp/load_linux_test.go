//go:build linux && cgo

package seccomp

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// These tests load filters on the real kernel, each in a helper
// process. They need no privileges: the helper sets no_new_privs.

func wantResults(t *testing.T, calls []call, got []result, want []result) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d (nr %d args %v): got r1=%d errno=%d (%v), want r1=%d errno=%d (%v)",
				i, calls[i].Nr, calls[i].Args[:2], got[i].R1, got[i].Errno, got[i].Errno, want[i].R1, want[i].Errno, want[i].Errno)
		}
	}
}

// atFdcwd is AT_FDCWD as a syscall argument: an int, sign-extended.
var atFdcwd = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()

// anyValue is a successful call whose return value the test cannot predict.
const anyValue = ^uint64(0)

func checkResults(t *testing.T, calls []call, got []result, want []result) {
	t.Helper()
	for i := range want {
		// A failed call returns -1 with its errno.
		if want[i].R1 == anyValue || want[i].Errno != 0 {
			want[i].R1 = got[i].R1
		}
	}
	wantResults(t, calls, got, want)
}

func TestLoadActions(t *testing.T) {
	calls := []call{
		sys(unix.SYS_GETPPID),
		sys(unix.SYS_MKDIRAT, atFdcwd, 0, 0o755),
		sys(unix.SYS_GETUID),
		sys(unix.SYS_GETGID),
		sys(unix.SYS_GETPID),
	}
	res := runHelper(t, helperSpec{
		Profile: &configs.Seccomp{
			DefaultAction: configs.Allow,
			Syscalls: []*configs.Syscall{
				{Name: "getppid", Action: configs.Errno, ErrnoRet: ptr(1234)},
				{Name: "mkdirat", Action: configs.Errno},
				{Name: "getuid", Action: configs.Log},
				// With no tracer, the kernel fails a traced call
				// with ENOSYS.
				{Name: "getgid", Action: configs.Trace, ErrnoRet: ptr(7)},
			},
		},
		Calls: calls,
	})
	checkResults(t, calls, res, []result{
		{0, 1234},
		{0, unix.EPERM},
		{uint64(os.Getuid()), 0},
		{0, unix.ENOSYS},
		{anyValue, 0},
	})
}

// A deny-by-default profile: what it names works, what it knows but
// denies gets the default errno, and what is newer than the profile gets
// ENOSYS, so a libc falls back from clone3, openat2 or faccessat2.
func TestLoadENOSYS(t *testing.T) {
	calls := []call{
		sys(unix.SYS_GETPID),
		sys(unix.SYS_GETCWD, 0, 0),
		sys(unix.SYS_MKDIRAT, atFdcwd, 0, 0o755),
		sys(unix.SYS_CLONE3, 0, 0),
		sys(unix.SYS_OPENAT2, atFdcwd, 0, 0, 0),
		sys(unix.SYS_FACCESSAT2, atFdcwd, 0, 0, 0),
		sys(1000),
	}
	res := runHelper(t, helperSpec{
		Profile: &configs.Seccomp{
			DefaultAction:   configs.Errno,
			DefaultErrnoRet: ptr(1234),
			Syscalls:        allow(goRuntime...),
		},
		Calls: calls,
	})
	checkResults(t, calls, res, []result{
		{anyValue, 0},
		{0, 1234},
		{0, 1234},
		{0, unix.ENOSYS},
		{0, unix.ENOSYS},
		{0, unix.ENOSYS},
		{0, unix.ENOSYS},
	})
}

// The same, compiled here and loaded there, as a runtime that compiles
// in the parent and ships the program to init does.
func TestLoadShipped(t *testing.T) {
	f := compile(t, &configs.Seccomp{
		DefaultAction: configs.Errno,
		Syscalls:      allow(goRuntime...),
	})
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	calls := []call{sys(unix.SYS_GETPID), sys(unix.SYS_GETCWD, 0, 0), sys(unix.SYS_OPENAT2)}
	res := runHelper(t, helperSpec{Filter: b, Calls: calls})
	checkResults(t, calls, res, []result{{anyValue, 0}, {0, unix.EPERM}, {0, unix.ENOSYS}})
}

func TestLoadArgs(t *testing.T) {
	calls := []call{
		sys(unix.SYS_GETPPID, 7),
		sys(unix.SYS_GETPPID, 9),
		sys(unix.SYS_GETPPID, 8),
		sys(unix.SYS_GETUID, 7, 1),
		sys(unix.SYS_GETUID, 7, 2),
		sys(unix.SYS_GETUID, 6, 1),
	}
	res := runHelper(t, helperSpec{
		Profile: &configs.Seccomp{
			DefaultAction: configs.Allow,
			Syscalls: []*configs.Syscall{
				{Name: "getppid", Action: configs.Errno, ErrnoRet: ptr(11), Args: []*configs.Arg{
					{Index: 0, Value: 7, Op: configs.EqualTo},
					{Index: 0, Value: 9, Op: configs.EqualTo},
				}},
				{Name: "getuid", Action: configs.Errno, ErrnoRet: ptr(12), Args: []*configs.Arg{
					{Index: 0, Value: 7, Op: configs.EqualTo},
					{Index: 1, Value: 1, Op: configs.EqualTo},
				}},
			},
		},
		Calls: calls,
	})
	checkResults(t, calls, res, []result{
		{0, 11},
		{0, 11},
		{uint64(os.Getpid()), 0},
		{0, 12},
		{uint64(os.Getuid()), 0},
		{uint64(os.Getuid()), 0},
	})
}

func TestLoadKillProcess(t *testing.T) {
	h := startHelper(t, helperSpec{
		Profile: &configs.Seccomp{
			DefaultAction: configs.Allow,
			Syscalls:      []*configs.Syscall{{Name: "getppid", Action: configs.KillProcess}},
		},
		Calls: []call{sys(unix.SYS_GETPID), sys(unix.SYS_GETPPID), sys(unix.SYS_GETPID)},
	})
	res, st := h.wait()
	ws, _ := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Fatalf("helper ended %v, want killed by SIGSYS; stderr:\n%s", st, h.stderr.String())
	}
	if len(res) != 0 {
		t.Fatalf("a killed helper reported %v", res)
	}
}

// With TSYNC the filter covers every thread of the process; without,
// only the loading one.
func TestLoadTSync(t *testing.T) {
	for _, tsync := range []bool{false, true} {
		c := &configs.Seccomp{
			DefaultAction: configs.Allow,
			Syscalls:      []*configs.Syscall{{Name: "getppid", Action: configs.Errno, ErrnoRet: ptr(13)}},
		}
		want := result{uint64(os.Getpid()), 0}
		if tsync {
			c.Flags = []specs.LinuxSeccompFlag{FlagTSync}
			want = result{0, 13}
		}
		calls := []call{sys(unix.SYS_GETPPID)}
		res := runHelper(t, helperSpec{Profile: c, Calls: calls, OtherThread: true})
		checkResults(t, calls, res, []result{want})
	}
}

// Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses,
// and the error says what is missing.
func TestLoadEACCES(t *testing.T) {
	h := startHelper(t, helperSpec{
		Profile:  &configs.Seccomp{DefaultAction: configs.Allow, Syscalls: []*configs.Syscall{{Name: "getppid", Action: configs.Errno}}},
		NoNNP:    true,
		DropCaps: true,
	})
	_, st := h.wait()
	if st.ExitCode() != 3 || !strings.Contains(h.stderr.String(), "no_new_privs") {
		t.Fatalf("helper ended %v; stderr:\n%s", st, h.stderr.String())
	}
	t.Log(strings.TrimSpace(h.stderr.String()))
}

func TestLoadBadFilters(t *testing.T) {
	if _, err := Load(nil); err == nil {
		t.Error("nil filter: no error")
	}
	if _, err := Load(&Filter{}); err == nil {
		t.Error("empty filter: no error")
	}
	if _, err := Load(&Filter{prog: make([]insn, bpfMaxInsns+1)}); err == nil {
		t.Error("long filter: no error")
	}
}
