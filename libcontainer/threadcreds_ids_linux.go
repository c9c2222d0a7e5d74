//go:build !386 && !arm

package libcontainer

import "golang.org/x/sys/unix"

// The system calls taking 32-bit ids.
const (
	sysSetgroups = unix.SYS_SETGROUPS
	sysSetresgid = unix.SYS_SETRESGID
	sysSetresuid = unix.SYS_SETRESUID
)
