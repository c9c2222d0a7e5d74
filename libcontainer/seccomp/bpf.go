package seccomp

import (
	"errors"
	"fmt"
)

// insn is one classic-BPF instruction, laid out like the kernel's struct
// sock_filter. The package keeps its own type so the stub generator and
// the wire format build and test on any OS; Linux code converts to
// unix.SockFilter only to hand the program to the kernel.
type insn struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// Classic-BPF opcode parts (linux/bpf_common.h). Only what seccomp filters
// use is named here.
const (
	bpfLD   = 0x00
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfW    = 0x00
	bpfABS  = 0x20
	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40
	bpfK    = 0x00
)

// bpfMaxInsns is BPF_MAXINSNS: the kernel refuses longer programs.
const bpfMaxInsns = 4096

// Offsets in struct seccomp_data, what a seccomp program reads.
const (
	offNr   = 0 // int nr
	offArch = 4 // __u32 arch
)

// label names an instruction of a program under assembly. Jumps refer to
// labels, not offsets, so adding an instruction cannot silently break a
// hand-counted jump.
type label int

// next is the target "the following instruction" (offset 0).
const next label = -1

type asmInsn struct {
	insn
	jt, jf label // conditional jump targets
	ja     label // unconditional jump target, with bpfJMP|bpfJA
	raw    bool  // from a finished program: its offsets are final
}

// assembler builds a forward-only cBPF program from labelled jumps.
type assembler struct {
	prog   []asmInsn
	labels []int // label -> instruction index, -1 until placed
}

func (a *assembler) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

// place makes l refer to the next instruction emitted (or to the end of
// the program, where the caller appends more code).
func (a *assembler) place(l label) {
	a.labels[l] = len(a.prog)
}

// stmt emits an instruction that does not jump.
func (a *assembler) stmt(code uint16, k uint32) {
	a.prog = append(a.prog, asmInsn{insn: insn{Code: code, K: k}, jt: next, jf: next, ja: next})
}

// jump emits a conditional jump. Its targets must be near: cBPF encodes
// them in 8 bits. Reach far code through a jumpTo placed nearby.
func (a *assembler) jump(code uint16, k uint32, jt, jf label) {
	a.prog = append(a.prog, asmInsn{insn: insn{Code: code, K: k}, jt: jt, jf: jf, ja: next})
}

// program appends a finished program. Its jumps are relative and stay
// inside it, so it works at any position.
func (a *assembler) program(p []insn) {
	for _, in := range p {
		a.prog = append(a.prog, asmInsn{insn: in, raw: true})
	}
}

// jumpTo emits an unconditional jump (BPF_JA), whose 32-bit offset
// reaches anywhere.
func (a *assembler) jumpTo(l label) {
	a.prog = append(a.prog, asmInsn{insn: insn{Code: bpfJMP | bpfJA}, jt: next, jf: next, ja: l})
}

var errJumpRange = errors.New("jump out of range")

// assemble resolves the labels into offsets.
func (a *assembler) assemble() ([]insn, error) {
	out := make([]insn, len(a.prog))
	for i, in := range a.prog {
		off := func(l label) (int, error) {
			if l == next {
				return 0, nil
			}
			if int(l) >= len(a.labels) || a.labels[l] < 0 {
				return 0, fmt.Errorf("instruction %d: label %d not placed", i, l)
			}
			d := a.labels[l] - (i + 1)
			if d < 0 {
				// cBPF cannot jump backwards; that is what makes every
				// filter terminate.
				return 0, fmt.Errorf("instruction %d: backward jump: %w", i, errJumpRange)
			}
			return d, nil
		}
		o := in.insn
		if in.raw {
			out[i] = o
			continue
		}
		if in.Code == bpfJMP|bpfJA {
			d, err := off(in.ja)
			if err != nil {
				return nil, err
			}
			o.K = uint32(d)
		} else if in.Code&0x07 == bpfJMP {
			t, err := off(in.jt)
			if err != nil {
				return nil, err
			}
			f, err := off(in.jf)
			if err != nil {
				return nil, err
			}
			if t > 0xff || f > 0xff {
				return nil, fmt.Errorf("instruction %d: conditional jump of %d/%d: %w", i, t, f, errJumpRange)
			}
			o.Jt, o.Jf = uint8(t), uint8(f)
		}
		out[i] = o
	}
	return out, nil
}
