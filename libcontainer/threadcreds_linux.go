package libcontainer

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The credentials a process execs with are those of the thread that
// calls execve, and Init runs on one thread it has locked, which execs.
// So the user change is made on that thread alone. Go's syscall.Setuid
// and friends change every thread of the process instead, stopping the
// world and signalling each thread for each call: 0.4 ms of every start.
// The runtime's other threads keep their credentials until execve ends
// them; they run nothing that touches the container (the process is not
// dumpable, and Init's own work stays on its locked thread), and the
// capability sets, KEEPCAPS and no_new_privs set after this are
// per-thread already.

// setThreadGroups sets the supplementary groups of the calling thread.
func setThreadGroups(groups []int) error {
	gids := make([]uint32, len(groups))
	for i, g := range groups {
		gids[i] = uint32(g)
	}
	var p unsafe.Pointer
	if len(gids) > 0 {
		p = unsafe.Pointer(&gids[0])
	}
	if _, _, errno := unix.RawSyscall(sysSetgroups, uintptr(len(gids)), uintptr(p), 0); errno != 0 {
		return errno
	}
	return nil
}

// setThreadGID sets the real, effective and saved gid of the calling
// thread.
func setThreadGID(gid int) error {
	if _, _, errno := unix.RawSyscall(sysSetresgid, uintptr(gid), uintptr(gid), uintptr(gid)); errno != 0 {
		return errno
	}
	return nil
}

// setThreadUID sets the real, effective and saved uid of the calling
// thread.
func setThreadUID(uid int) error {
	if _, _, errno := unix.RawSyscall(sysSetresuid, uintptr(uid), uintptr(uid), uintptr(uid)); errno != 0 {
		return errno
	}
	return nil
}
