//go:build linux && cgo

package seccomp

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Loading a filter changes the loading thread for good, so every test
// that loads one does it in a helper: this test binary run again with
// helperEnv set, which TestMain sends to helperMain instead of the tests.

const helperEnv = "CORRAL_SECCOMP_HELPER"

// helperSpec is what a helper does.
type helperSpec struct {
	// Profile is loaded with InitSeccomp, or else Filter (a marshalled
	// Filter, as a runtime ships it to init) with Load.
	Profile *configs.Seccomp `json:"profile,omitempty"`
	Filter  []byte           `json:"filter,omitempty"`
	// NoNNP skips no_new_privs; DropCaps clears the thread's
	// capabilities (CAP_SYS_ADMIN is the other way to load a filter).
	NoNNP    bool `json:"noNNP,omitempty"`
	DropCaps bool `json:"dropCaps,omitempty"`
	// Listener gets the notify fd with SendListenerFd.
	Listener string `json:"listener,omitempty"`
	// Calls are made after the load, from the loading thread or, with
	// OtherThread, from another one.
	Calls       []call `json:"calls,omitempty"`
	OtherThread bool   `json:"otherThread,omitempty"`
}

type call struct {
	Nr   uintptr    `json:"nr"`
	Args [6]uintptr `json:"args"`
}

// result is a call's return value and errno.
type result struct {
	R1    uint64
	Errno unix.Errno
}

func TestMain(m *testing.M) {
	if s, ok := os.LookupEnv(helperEnv); ok {
		os.Exit(helperMain(s))
	}
	os.Exit(m.Run())
}

// helperMain loads the filter and makes the calls with raw syscalls, so
// nothing but the calls runs between the load and the report, which is
// a raw write of a buffer prepared beforehand to fd 3.
func helperMain(s string) int {
	var spec helperSpec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	runtime.LockOSThread()
	res := make([]result, len(spec.Calls))
	buf := make([]byte, 16*len(spec.Calls))

	if spec.DropCaps {
		// Capabilities are per thread: this one drops them, and it is
		// the one loading.
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			fmt.Fprintln(os.Stderr, "capset:", err)
			return 2
		}
	}
	if !spec.NoNNP {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fmt.Fprintln(os.Stderr, "no_new_privs:", err)
			return 2
		}
	}
	var fd int
	var err error
	if spec.Filter != nil {
		var f Filter
		if err := f.UnmarshalBinary(spec.Filter); err != nil {
			fmt.Fprintln(os.Stderr, "unmarshal:", err)
			return 2
		}
		fd, err = Load(&f)
	} else {
		fd, err = InitSeccomp(spec.Profile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if spec.Listener != "" {
		st := &specs.ContainerProcessState{
			Pid:      os.Getpid(),
			Metadata: "helper-metadata",
			State:    specs.State{ID: "helper", Status: specs.StateCreating, Pid: os.Getpid()},
		}
		if err := SendListenerFd(spec.Listener, fd, st); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 4
		}
		unix.Close(fd)
	} else if fd != -1 {
		fmt.Fprintln(os.Stderr, "unexpected listener fd", fd)
		return 4
	}

	calls := func() {
		for i, c := range spec.Calls {
			r1, _, errno := unix.RawSyscall6(c.Nr, c.Args[0], c.Args[1], c.Args[2], c.Args[3], c.Args[4], c.Args[5])
			res[i] = result{uint64(r1), errno}
		}
	}
	if spec.OtherThread {
		done := make(chan struct{})
		go func() {
			// The main goroutine keeps its thread locked, so this
			// one runs on another.
			runtime.LockOSThread()
			calls()
			close(done)
		}()
		<-done
	} else {
		calls()
	}
	for i, r := range res {
		binary.NativeEndian.PutUint64(buf[16*i:], r.R1)
		binary.NativeEndian.PutUint64(buf[16*i+8:], uint64(r.Errno))
	}
	if len(buf) > 0 {
		unix.RawSyscall(unix.SYS_WRITE, 3, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	}
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	return 0
}

type helperProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *os.File
	stderr bytes.Buffer
	cancel context.CancelFunc
}

func startHelper(t *testing.T, spec helperSpec) *helperProc {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	h := &helperProc{t: t, out: r, cancel: cancel}
	h.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	// No preemption signals between the load and the calls.
	h.cmd.Env = append(os.Environ(), helperEnv+"="+string(b), "GODEBUG=asyncpreemptoff=1")
	h.cmd.ExtraFiles = []*os.File{w}
	h.cmd.Stderr = &h.stderr
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cancel()
		r.Close()
	})
	return h
}

// wait returns the results of the calls and how the helper ended.
func (h *helperProc) wait() ([]result, *os.ProcessState) {
	h.t.Helper()
	data, _ := io.ReadAll(h.out)
	_ = h.cmd.Wait()
	var res []result
	for ; len(data) >= 16; data = data[16:] {
		res = append(res, result{
			R1:    binary.NativeEndian.Uint64(data),
			Errno: unix.Errno(binary.NativeEndian.Uint64(data[8:])),
		})
	}
	return res, h.cmd.ProcessState
}

// runHelper runs spec and wants every call to have reported.
func runHelper(t *testing.T, spec helperSpec) []result {
	t.Helper()
	h := startHelper(t, spec)
	res, st := h.wait()
	if !st.Success() || len(res) != len(spec.Calls) {
		t.Fatalf("helper: %v, %d of %d results; stderr:\n%s", st, len(res), len(spec.Calls), h.stderr.String())
	}
	return res
}

func sys(nr uintptr, args ...uintptr) call {
	c := call{Nr: nr}
	copy(c.Args[:], args)
	return c
}

// goRuntime are syscalls the Go runtime may make on the helper's thread
// between the load and the calls; a deny-by-default test profile allows
// them. The highest is epoll_pwait (281 on x86_64).
var goRuntime = []string{
	"rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "futex", "write", "read",
	"exit", "exit_group", "nanosleep", "clock_nanosleep", "sched_yield", "getpid", "gettid",
	"tgkill", "mmap", "munmap", "madvise", "mprotect", "clock_gettime", "epoll_pwait", "close",
}

func allow(names ...string) []*configs.Syscall {
	var out []*configs.Syscall
	for _, n := range names {
		out = append(out, &configs.Syscall{Name: n, Action: configs.Allow})
	}
	return out
}
