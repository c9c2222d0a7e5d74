package nsenter

/*
#include <stdlib.h>
#include <linux/filter.h>
#include "spawn.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/seccomp"
)

// Spawn describes the exec'd program's process (see Start).
type Spawn struct {
	// Path is the program, resolved already; Args and Env are its
	// arguments and environment.
	Path string
	Args []string
	Env  []string
	// FirstFD is the first fd the program does not get; ErrFD, a
	// close-on-exec pipe's write end, is where the child reports a
	// failure (SpawnError.Decode reads it).
	FirstFD int
	ErrFD   int
	// Terminal makes fd 0 the controlling terminal of the child's
	// session.
	Terminal bool
	// Parent is the runtime's pid as the child sees it (0 from another
	// pid namespace): the child dies if its parent is another already.
	Parent int
	// Filter, if not nil, is the seccomp filter the child loads right
	// before execve. Its notify listener, if any, would be lost: load
	// such a filter before Start.
	Filter *seccomp.Filter
}

// Start clones, from the calling thread (locked, with the program's final
// credentials), the program's process as a child of this process's
// parent, in the pid namespace of this process's children. The child
// closes every fd from FirstFD on but ErrFD, makes a new session, and
// execs; it shares nothing with this process.
func Start(s *Spawn) (int, error) {
	path := C.CString(s.Path)
	defer C.free(unsafe.Pointer(path))
	argv := cStrings(s.Args)
	defer freeStrings(argv)
	envp := cStrings(s.Env)
	defer freeStrings(envp)
	cs := C.struct_corral_spawn{
		path:     path,
		argv:     argv,
		envp:     envp,
		first_fd: C.int(s.FirstFD),
		err_fd:   C.int(s.ErrFD),
		parent:   C.pid_t(s.Parent),
	}
	if s.Terminal {
		cs.terminal = 1
	}
	if s.Filter != nil {
		prog := s.Filter.BPF()
		// C memory: cgo refuses a Go pointer inside the struct it gets.
		p := C.calloc(C.size_t(len(prog)), C.size_t(unsafe.Sizeof(prog[0])))
		defer C.free(p)
		copy(unsafe.Slice((*unix.SockFilter)(p), len(prog)), prog)
		cs.filter = (*C.struct_sock_filter)(p)
		cs.filter_len = C.ushort(len(prog))
		cs.filter_flags = C.uint(s.Filter.Flags())
	}
	pid := int(C.corral_spawn(&cs))
	if pid < 0 {
		return 0, syscall.Errno(-pid)
	}
	return pid, nil
}

// cStrings returns a NULL-terminated array of C copies of ss, in C
// memory: cgo refuses a Go pointer to Go memory that holds pointers.
func cStrings(ss []string) **C.char {
	p := (**C.char)(C.calloc(C.size_t(len(ss)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	a := unsafe.Slice(p, len(ss)+1)
	for i, s := range ss {
		a[i] = C.CString(s)
	}
	return p
}

func freeStrings(p **C.char) {
	for _, c := range unsafe.Slice(p, 1<<20) {
		if c == nil {
			break
		}
		C.free(unsafe.Pointer(c))
	}
	C.free(unsafe.Pointer(p))
}

// SpawnError decodes the child's report on ErrFD: the step that failed
// and its errno, as 8 bytes.
func SpawnError(b []byte) error {
	if len(b) != 8 {
		return fmt.Errorf("the program's process reported %d bytes, not a step and an errno", len(b))
	}
	step := int32(binary.NativeEndian.Uint32(b))
	errno := syscall.Errno(binary.NativeEndian.Uint32(b[4:]))
	switch step {
	case C.SPAWN_PDEATHSIG:
		return fmt.Errorf("set the parent-death signal: %w", errno)
	case C.SPAWN_CLOSE:
		return fmt.Errorf("close the fds the program must not get: %w", errno)
	case C.SPAWN_SETSID:
		return fmt.Errorf("setsid: %w", errno)
	case C.SPAWN_CTTY:
		return fmt.Errorf("set controlling terminal: %w", errno)
	case C.SPAWN_SECCOMP:
		return fmt.Errorf("seccomp: load seccomp filter: %w", errno)
	case C.SPAWN_EXEC:
		return errno
	}
	return fmt.Errorf("the program's process failed at unknown step %d: %w", step, errno)
}
