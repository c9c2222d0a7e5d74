// Package seccomp turns a container's syscall profile
// (configs.Seccomp, from the OCI linux.seccomp object) into a seccomp
// filter and installs it.
//
// Compile does everything that does not touch the calling thread:
// validation, libseccomp's rule compilation, the ENOSYS stub for
// syscalls newer than the profile, and the choice of seccomp(2) flags.
// It can run in the runtime, which then ships the Filter to the
// container's init (MarshalBinary), or in init itself. Load installs a
// Filter with seccomp(2) directly, so the program the kernel runs is
// exactly the one Compile produced. InitSeccomp is both in one call.
//
// When a rule asks for SCMP_ACT_NOTIFY, Load returns the listener fd;
// the runtime passes it to the seccomp agent with SendListenerFd.
//
// Do not use this package to sandbox the calling Go program: without
// SECCOMP_FILTER_FLAG_TSYNC a filter covers only the calling thread,
// and a deny-by-default profile will break the Go runtime's own
// syscalls. It is meant for the last step before execve.
package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrNotSupported is returned where seccomp is not available: on other
// operating systems, and for compiling filters in builds without cgo
// (libseccomp is a C library).
var ErrNotSupported = errors.New("seccomp is not supported in this build")

// Filter is a compiled filter, ready to load: the classic-BPF program
// and the seccomp(2) flags to load it with. Compile does all the work
// that can be done before the container's init; a Filter is immutable.
type Filter struct {
	prog  []insn
	flags uint32 // SECCOMP_FILTER_FLAG_*
}

// Flags returns the SECCOMP_FILTER_FLAG_* bits Load passes to
// seccomp(2), including the ones Compile added (NEW_LISTENER for
// SCMP_ACT_NOTIFY, TSYNC_ESRCH to go with it).
func (f *Filter) Flags() uint32 { return f.flags }

// Len returns the number of instructions of the program.
func (f *Filter) Len() int { return len(f.prog) }

// wireMagic starts a marshalled Filter; the last byte is the version of
// the layout.
var wireMagic = [4]byte{'c', 's', 'f', 1}

// MarshalBinary encodes f for shipping to the container's init:
// magic, flags, instruction count, then each instruction as in
// struct sock_filter, all little-endian.
func (f *Filter) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 12+8*len(f.prog))
	b = append(b, wireMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, f.flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(f.prog)))
	for _, in := range f.prog {
		b = binary.LittleEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote. It checks the
// framing only; the kernel verifies the program when it is loaded.
func (f *Filter) UnmarshalBinary(b []byte) error {
	if len(b) < 12 || [4]byte(b[:4]) != wireMagic {
		return errors.New("seccomp filter: bad header")
	}
	flags := binary.LittleEndian.Uint32(b[4:])
	n := binary.LittleEndian.Uint32(b[8:])
	b = b[12:]
	if n == 0 || n > bpfMaxInsns || uint64(len(b)) != 8*uint64(n) {
		return fmt.Errorf("seccomp filter: %d instructions in %d bytes", n, len(b))
	}
	prog := make([]insn, n)
	for i := range prog {
		p := b[8*i:]
		prog[i] = insn{
			Code: binary.LittleEndian.Uint16(p),
			Jt:   p[2],
			Jf:   p[3],
			K:    binary.LittleEndian.Uint32(p[4:]),
		}
	}
	f.prog, f.flags = prog, flags
	return nil
}
