package seccomp

import (
	"errors"
	"fmt"
	"slices"
)

// Why a program of our own in front of libseccomp's:
//
// ENOSYS. A profile denies by default and allows what it names. A
// syscall newer than the profile (clone3, openat2, faccessat2 for a
// profile written before them) then gets the default action, typically
// EPERM. A libc that tries the new syscall first and falls back to the
// old one only on ENOSYS takes EPERM as a real refusal and fails.
// Answering ENOSYS for every syscall numbered above the highest one the
// profile names makes the new syscall look absent, as it was to the
// profile's author, and the libc falls back. libseccomp cannot say
// "every number above N", so link writes that test in cBPF.
//
// Speed. libseccomp's compile time grows faster than linearly with the
// size of the filter; a docker-like profile on x86_64, x86 and x32 costs
// several times more as one libseccomp filter than as three
// single-architecture filters. So Compile has libseccomp build one
// program per architecture, and link dispatches to them on
// seccomp_data.arch, which libseccomp's combined program does too.

// Kernel ABI constants.
const (
	auditArchX86_64 = 0xc000003e // AUDIT_ARCH_X86_64, also x32's arch
	x32SyscallBit   = 0x40000000 // __X32_SYSCALL_BIT: x32 numbers have it
	secRetErrno     = 0x00050000 // SECCOMP_RET_ERRNO
	negativeNr      = 0x80000000 // int nr < 0: not a syscall to judge
)

// abiProgram is libseccomp's program for one ABI, with the ENOSYS limit
// of that ABI.
type abiProgram struct {
	// arch is the AUDIT_ARCH_* value in seccomp_data.arch.
	arch uint32
	// x32 marks the x32 ABI, which shares AUDIT_ARCH_X86_64 with x86_64
	// and is told apart by __X32_SYSCALL_BIT in the number.
	x32 bool
	// limit is the highest number the profile names (for x32 including
	// __X32_SYSCALL_BIT, as libseccomp reports it); a higher number gets
	// ENOSYS. Without hasLimit, no number does.
	limit    uint32
	hasLimit bool
	// prog is complete: it checks the architecture itself and every
	// path through it returns.
	prog []insn
}

// link returns the program to load: a dispatcher on the architecture
// (and on x86_64 on the x32 bit) that answers SECCOMP_RET_ERRNO with
// errno (the kernel's ENOSYS) above an ABI's limit and otherwise jumps
// to the ABI's program. An architecture not in abis goes to the first
// program, whose own check applies libseccomp's bad-architecture action,
// as libseccomp's combined program would. Negative numbers (nr == -1 is
// how a tracer skips a syscall) get no ENOSYS; libseccomp judges them.
//
// A single ABI without a limit needs no dispatcher: its program is
// returned as is. Put the native ABI first: it is tested first.
func link(abis []abiProgram, errno uint32) ([]insn, error) {
	if len(abis) == 0 {
		return nil, errors.New("no program")
	}

	// An architecture's ABIs: on x86_64, x86_64 itself (low) and x32
	// (high); elsewhere just low.
	type group struct {
		arch      uint32
		low, high int // indexes into abis, -1 for none
	}
	var groups []*group
	for i, p := range abis {
		if len(p.prog) == 0 {
			return nil, fmt.Errorf("arch %#x: empty program", p.arch)
		}
		switch {
		case p.x32 && p.arch != auditArchX86_64:
			return nil, fmt.Errorf("x32 program for arch %#x, not AUDIT_ARCH_X86_64", p.arch)
		case p.hasLimit && p.x32 && (p.limit&x32SyscallBit == 0 || p.limit >= negativeNr):
			return nil, fmt.Errorf("x32 limit %#x lacks __X32_SYSCALL_BIT", p.limit)
		case p.hasLimit && !p.x32 && p.arch == auditArchX86_64 && p.limit&x32SyscallBit != 0:
			return nil, fmt.Errorf("x86_64 limit %#x has __X32_SYSCALL_BIT", p.limit)
		case p.hasLimit && p.limit >= negativeNr:
			return nil, fmt.Errorf("limit %#x is a negative syscall number", p.limit)
		}
		j := slices.IndexFunc(groups, func(g *group) bool { return g.arch == p.arch })
		if j < 0 {
			groups = append(groups, &group{arch: p.arch, low: -1, high: -1})
			j = len(groups) - 1
		}
		g := groups[j]
		half := &g.low
		if p.x32 {
			half = &g.high
		}
		if *half >= 0 {
			return nil, fmt.Errorf("two programs for arch %#x", p.arch)
		}
		*half = i
	}
	if len(abis) == 1 && !abis[0].hasLimit {
		return abis[0].prog, nil
	}

	var a assembler
	progs := make([]label, len(abis))
	for i := range progs {
		progs[i] = a.newLabel()
	}
	ret := secRetErrno | errno&0xffff

	// route emits: A holds a syscall number of abis[i]; ENOSYS if it is
	// above the limit, else on to the ABI's program. Every conditional
	// jump stays within these few instructions; the far one is a JA.
	// Unless nonNegative, a negative number passes.
	route := func(i int, nonNegative bool) {
		p := abis[i]
		if p.hasLimit {
			enosys, pass := a.newLabel(), a.newLabel()
			if !nonNegative {
				a.jump(bpfJMP|bpfJGE|bpfK, negativeNr, pass, next)
			}
			a.jump(bpfJMP|bpfJGT|bpfK, p.limit, enosys, pass)
			a.place(enosys)
			a.stmt(bpfRET|bpfK, ret)
			a.place(pass)
		}
		a.jumpTo(progs[i])
	}

	a.stmt(bpfLD|bpfW|bpfABS, offArch)
	for _, g := range groups {
		other := a.newLabel()
		// Only this jump leaves A holding the arch for the next group.
		a.jump(bpfJMP|bpfJEQ|bpfK, g.arch, next, other)
		a.stmt(bpfLD|bpfW|bpfABS, offNr)
		if g.arch != auditArchX86_64 {
			route(g.low, false)
			a.place(other)
			continue
		}
		// x86_64: the x32 bit picks the ABI. A half the filter lacks
		// goes to the other half's program, whose range check
		// applies libseccomp's bad-architecture action.
		x32 := a.newLabel()
		a.jump(bpfJMP|bpfJSET|bpfK, x32SyscallBit, x32, next)
		if g.low >= 0 {
			route(g.low, false)
		} else {
			a.jumpTo(progs[g.high])
		}
		a.place(x32)
		if g.high < 0 {
			a.jumpTo(progs[g.low])
		} else {
			if g.low >= 0 {
				// Negative numbers have the bit too; libseccomp
				// judges them as x86_64's.
				neg := a.newLabel()
				a.jump(bpfJMP|bpfJGE|bpfK, negativeNr, neg, next)
				route(g.high, true)
				a.place(neg)
				a.jumpTo(progs[g.low])
			} else {
				route(g.high, false)
			}
		}
		a.place(other)
	}
	// Another architecture: the first program rejects it. It follows
	// directly, so this is a fall-through.
	for i, p := range abis {
		a.place(progs[i])
		a.program(p.prog)
	}
	return a.assemble()
}
