//go:build 386 || arm

package libcontainer

import "golang.org/x/sys/unix"

// The system calls taking 32-bit ids: on these the plain ones take
// 16-bit ids.
const (
	sysSetgroups = unix.SYS_SETGROUPS32
	sysSetresgid = unix.SYS_SETRESGID32
	sysSetresuid = unix.SYS_SETRESUID32
)
