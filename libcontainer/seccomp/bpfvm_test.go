package seccomp

import (
	"encoding/binary"
	"fmt"
)

// This file is a classic-BPF interpreter for tests: it runs a seccomp
// program on a struct seccomp_data the way the kernel does, so the stub
// and libseccomp's program can be checked without loading anything.

// seccompData is struct seccomp_data.
type seccompData struct {
	nr   int32
	arch uint32
	ip   uint64
	args [6]uint64
}

// bytes lays d out as the kernel does, in host byte order.
func (d seccompData) bytes() []byte {
	b := make([]byte, 64)
	binary.NativeEndian.PutUint32(b[0:], uint32(d.nr))
	binary.NativeEndian.PutUint32(b[4:], d.arch)
	binary.NativeEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.NativeEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// Opcode parts bpf.go does not name, for the interpreter.
const (
	bpfLDX  = 0x01
	bpfST   = 0x02
	bpfSTX  = 0x03
	bpfALU  = 0x04
	bpfMISC = 0x07
	bpfIMM  = 0x00
	bpfMEM  = 0x60
	bpfLEN  = 0x80
	bpfX    = 0x08
	bpfA    = 0x10
	bpfTAX  = 0x00
	bpfTXA  = 0x80
)

// runBPF runs prog on d and returns what it returns. It fails on what
// the kernel's checker would refuse: a jump out of the program, an
// unknown opcode, a load outside seccomp_data, falling off the end.
func runBPF(prog []insn, d seccompData) (uint32, error) {
	data := d.bytes()
	var a, x uint32
	var mem [16]uint32
	steps := 0
	for pc := 0; ; pc++ {
		if pc < 0 || pc >= len(prog) {
			return 0, fmt.Errorf("pc %d outside the program of %d", pc, len(prog))
		}
		if steps++; steps > len(prog) {
			return 0, fmt.Errorf("more steps than instructions: a backward jump")
		}
		in := prog[pc]
		switch in.Code & 0x07 {
		case bpfLD:
			switch in.Code &^ 0x07 {
			case bpfW | bpfABS:
				if in.K%4 != 0 || int(in.K)+4 > len(data) {
					return 0, fmt.Errorf("pc %d: load at %d", pc, in.K)
				}
				a = binary.NativeEndian.Uint32(data[in.K:])
			case bpfW | bpfIMM:
				a = in.K
			case bpfW | bpfMEM:
				if in.K >= 16 {
					return 0, fmt.Errorf("pc %d: M[%d]", pc, in.K)
				}
				a = mem[in.K]
			case bpfW | bpfLEN:
				a = uint32(len(data))
			default:
				return 0, fmt.Errorf("pc %d: ld opcode %#x", pc, in.Code)
			}
		case bpfLDX:
			switch in.Code &^ 0x07 {
			case bpfW | bpfIMM:
				x = in.K
			case bpfW | bpfMEM:
				if in.K >= 16 {
					return 0, fmt.Errorf("pc %d: M[%d]", pc, in.K)
				}
				x = mem[in.K]
			case bpfW | bpfLEN:
				x = uint32(len(data))
			default:
				return 0, fmt.Errorf("pc %d: ldx opcode %#x", pc, in.Code)
			}
		case bpfST, bpfSTX:
			if in.K >= 16 {
				return 0, fmt.Errorf("pc %d: M[%d]", pc, in.K)
			}
			if in.Code&0x07 == bpfST {
				mem[in.K] = a
			} else {
				mem[in.K] = x
			}
		case bpfALU:
			v := in.K
			if in.Code&bpfX != 0 {
				v = x
			}
			switch in.Code & 0xf0 {
			case 0x00:
				a += v
			case 0x10:
				a -= v
			case 0x20:
				a *= v
			case 0x30:
				if v == 0 {
					return 0, nil // the kernel's "return 0" on division by zero
				}
				a /= v
			case 0x40:
				a |= v
			case 0x50:
				a &= v
			case 0x60:
				a <<= v
			case 0x70:
				a >>= v
			case 0x80:
				a = -a
			case 0x90:
				if v == 0 {
					return 0, nil
				}
				a %= v
			case 0xa0:
				a ^= v
			default:
				return 0, fmt.Errorf("pc %d: alu opcode %#x", pc, in.Code)
			}
		case bpfJMP:
			op := in.Code & 0xf0
			if op == bpfJA {
				pc += int(in.K)
				continue
			}
			v := in.K
			if in.Code&bpfX != 0 {
				v = x
			}
			var cond bool
			switch op {
			case bpfJEQ:
				cond = a == v
			case bpfJGT:
				cond = a > v
			case bpfJGE:
				cond = a >= v
			case bpfJSET:
				cond = a&v != 0
			default:
				return 0, fmt.Errorf("pc %d: jmp opcode %#x", pc, in.Code)
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfRET:
			switch in.Code &^ 0x07 {
			case bpfK:
				return in.K, nil
			case bpfA:
				return a, nil
			}
			return 0, fmt.Errorf("pc %d: ret opcode %#x", pc, in.Code)
		case bpfMISC:
			switch in.Code &^ 0x07 {
			case bpfTAX:
				x = a
			case bpfTXA:
				a = x
			default:
				return 0, fmt.Errorf("pc %d: misc opcode %#x", pc, in.Code)
			}
		}
	}
}
