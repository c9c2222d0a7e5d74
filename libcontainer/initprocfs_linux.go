package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openInitProcfs makes init's only procfs handle: a detached procfs of
// the container's pid namespace, nosuid, nodev, noexec, with only the
// processes' directories (subset=pid: no sys/, no kcore). init reopens
// the exec fifo through it, and writes its exec labels. It replaces a handle of the host's
// procfs, through which a process of the container allowed to ptrace
// init walked from /proc/1/fd/N to any host process's root (issue 17).
// It is made before the rootfs's masks: in a user namespace the kernel
// refuses a new procfs once /proc has overmounts (mount_too_revealing).
//
// A user namespace without a pid namespace of its own may not make a
// procfs of the host's pid namespace (EPERM). There, init keeps the host's
// /proc/self/fd as before: nothing in the container can reach it, since
// init's memory belongs to the host's user namespace (it exec'd there),
// and following its /proc/1/fd links takes CAP_SYS_PTRACE over that.
func openInitProcfs(userNS bool) (*os.File, error) {
	f, err := newProcfs()
	if err != nil && userNS && errors.Is(err, unix.EPERM) {
		if f, err = os.OpenFile("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return nil, fmt.Errorf("open /proc: %w", err)
		}
	}
	return f, err
}

func newProcfs() (*os.File, error) {
	ctx, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("make init's procfs: fsopen proc: %w", err)
	}
	defer unix.Close(ctx)
	// Only the processes' directories, which the container's own /proc
	// shows as writable: init's wait mode writes its exec labels there
	// (lsmattr_linux.go). Kernels before 5.8 lack subset=pid: there the
	// mount, with a sys/ no mask covers, is read-only.
	attr := unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
	if unix.FsconfigSetString(ctx, "subset", "pid") != nil {
		attr |= unix.MOUNT_ATTR_RDONLY
	}
	if err := unix.FsconfigCreate(ctx); err != nil {
		return nil, fmt.Errorf("make init's procfs: fsconfig create: %w", err)
	}
	fd, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return nil, fmt.Errorf("make init's procfs: fsmount: %w", err)
	}
	return os.NewFile(uintptr(fd), "procfs"), nil
}

// openExecFifo opens the exec fifo for writing, which blocks until start
// opens it for reading, through procfs's magic link of fifoFD, an O_PATH
// handle: init may not open it by its host path. The file opened is
// checked to be the fifo of the handle.
func openExecFifo(procfs *os.File, fifoFD int) (*os.File, error) {
	fd, err := unix.Openat(int(procfs.Fd()), "self/fd/"+strconv.Itoa(fifoFD), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	var want, got unix.Stat_t
	if err := unix.Fstat(fifoFD, &want); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat exec fifo handle: %w", err)
	}
	if err := unix.Fstat(fd, &got); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat exec fifo: %w", err)
	}
	if got.Dev != want.Dev || got.Ino != want.Ino || got.Mode&unix.S_IFMT != unix.S_IFIFO {
		unix.Close(fd)
		return nil, fmt.Errorf("open exec fifo: procfs gave %d:%d, not the fifo %d:%d", got.Dev, got.Ino, want.Dev, want.Ino)
	}
	return os.NewFile(uintptr(fd), "exec.fifo"), nil
}
