package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BPF returns the final classic-BPF program: the ENOSYS stub, if any,
// followed by libseccomp's program. It is a copy.
func (f *Filter) BPF() []unix.SockFilter {
	out := make([]unix.SockFilter, len(f.prog))
	for i, in := range f.prog {
		out[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out
}

// Load installs f with seccomp(SECCOMP_SET_MODE_FILTER) and the flags
// Compile chose. It returns the notify listener fd (close-on-exec) when
// the profile has a SCMP_ACT_NOTIFY action, else -1. The fd comes even
// when every notify rule named a syscall libseccomp does not know, so
// that an agent waiting for it gets it.
//
// Without SECCOMP_FILTER_FLAG_TSYNC the filter covers the calling thread
// only (and threads it creates later): lock the goroutine to its thread
// first and load right before execve. The thread needs no_new_privs or
// CAP_SYS_ADMIN in its user namespace; setting no_new_privs is the
// caller's job, as it changes more than seccomp.
//
// Load calls seccomp(2) itself rather than through libseccomp so that
// the kernel gets exactly f's program, stub included.
func Load(f *Filter) (int, error) {
	if f == nil || len(f.prog) == 0 {
		return -1, errors.New("load seccomp filter: empty filter")
	}
	if len(f.prog) > bpfMaxInsns {
		return -1, fmt.Errorf("load seccomp filter: %d instructions exceed the kernel's limit of %d", len(f.prog), bpfMaxInsns)
	}
	prog := f.BPF()
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		uintptr(f.flags), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return -1, loadError(f.flags, errno)
	}
	if f.flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return int(r), nil
	}
	if f.flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 && r != 0 {
		// TSYNC without TSYNC_ESRCH reports failure as the id of the
		// thread that could not take the filter; none took it.
		return -1, fmt.Errorf("load seccomp filter: thread %d cannot be synchronized: it has seccomp filters of its own", r)
	}
	return -1, nil
}

func loadError(flags uint32, errno unix.Errno) error {
	switch errno {
	case unix.EACCES:
		return fmt.Errorf("load seccomp filter: %w: the thread needs no_new_privs or CAP_SYS_ADMIN", errno)
	case unix.ESRCH:
		if flags&unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0 {
			return fmt.Errorf("load seccomp filter: %w: another thread cannot be synchronized: it has seccomp filters of its own", errno)
		}
	case unix.EBUSY:
		if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
			return fmt.Errorf("load seccomp filter: %w: a filter with a listener is already installed", errno)
		}
	case unix.EINVAL:
		return fmt.Errorf("load seccomp filter (flags %s): %w", describeFlags(flags), errno)
	}
	return fmt.Errorf("load seccomp filter: %w", errno)
}

// describeFlags spells out flag bits, for errors.
func describeFlags(flags uint32) string {
	if flags == 0 {
		return "none"
	}
	s := ""
	for bit := uint32(1); bit != 0 && bit <= flags; bit <<= 1 {
		if flags&bit != 0 {
			if s != "" {
				s += "|"
			}
			s += flagName(bit)
		}
	}
	return s
}
