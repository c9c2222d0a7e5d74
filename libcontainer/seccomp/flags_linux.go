package seccomp

import (
	"fmt"
	"sync"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// FlagTSync is SECCOMP_FILTER_FLAG_TSYNC. The OCI spec does not list it;
// corral accepts it for libcontainer users who load a filter on every
// thread of a process.
const FlagTSync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

// userFlags are the flags a profile may ask for. NEW_LISTENER and
// TSYNC_ESRCH are not among them: Compile sets them when SCMP_ACT_NOTIFY
// needs a listener.
var userFlags = []struct {
	name specs.LinuxSeccompFlag
	bit  uint32
}{
	{FlagTSync, unix.SECCOMP_FILTER_FLAG_TSYNC},
	{specs.LinuxSeccompFlagLog, unix.SECCOMP_FILTER_FLAG_LOG},
	{specs.LinuxSeccompFlagSpecAllow, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	{specs.LinuxSeccompFlagWaitKillableRecv, unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}

func flagBit(name specs.LinuxSeccompFlag) (uint32, bool) {
	for _, f := range userFlags {
		if f.name == name {
			return f.bit, true
		}
	}
	return 0, false
}

// flagName returns the name of a single flag bit, for errors.
func flagName(bit uint32) string {
	for _, f := range userFlags {
		if f.bit == bit {
			return string(f.name)
		}
	}
	switch bit {
	case unix.SECCOMP_FILTER_FLAG_NEW_LISTENER:
		return "SECCOMP_FILTER_FLAG_NEW_LISTENER"
	case unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH:
		return "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"
	}
	return fmt.Sprintf("flag %#x", bit)
}

// FlagSupported reports whether the running kernel accepts a filter flag
// ("SECCOMP_FILTER_FLAG_LOG"). A name this package does not know is an
// error.
func FlagSupported(flag specs.LinuxSeccompFlag) (bool, error) {
	bit, ok := flagBit(flag)
	if !ok {
		return false, fmt.Errorf("unknown seccomp flag %q", flag)
	}
	return kernelHasFlag(bit), nil
}

var probed struct {
	sync.Mutex
	flags   map[uint32]bool
	actions map[uint32]bool
}

// kernelHasFlag asks seccomp(2) to install no program (a NULL pointer)
// with the flag: the kernel rejects flags it does not know with EINVAL
// before it reads the program, which then fails with EFAULT. Nothing is
// installed either way. The answer cannot change while we run, so it is
// kept.
func kernelHasFlag(bit uint32) bool {
	probe := bit
	if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
		// The kernel accepts it only together with a listener.
		probe |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	probed.Lock()
	defer probed.Unlock()
	if ok, done := probed.flags[probe]; done {
		return ok
	}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(probe), 0)
	ok := errno == unix.EFAULT
	if probed.flags == nil {
		probed.flags = make(map[uint32]bool)
	}
	probed.flags[probe] = ok
	return ok
}
