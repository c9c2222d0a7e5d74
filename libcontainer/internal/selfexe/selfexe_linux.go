// Package selfexe gives the runtime a handle of its own binary to
// re-execute as a container's init that nothing in the container can
// write through.
//
// The threat (CVE-2019-5736): while init runs the runtime's binary inside
// the container, a process there can open /proc/<init>/exe, and once init
// has exec'd the user's program, reopen that handle for writing and
// replace the runtime on the host. Executing the binary from a read-only
// mount closes that door: the inode is the same, but every open through
// that mount is read-only, and the mount is detached, reachable from no
// mount namespace, so no one can remount it writable.
//
// A detached bind costs two syscalls; copying the binary into a sealed
// memfd, the fallback where bind mounts are not allowed (an unprivileged
// runtime), costs a copy of the whole binary.
package selfexe

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Open returns a handle of the running binary that cannot be opened for
// writing. Exec it as /proc/self/fd/N once the child has it as fd N.
func Open() (*os.File, error) {
	f, err := readonlyBind()
	if err == nil {
		return f, nil
	}
	m, merr := sealedCopy()
	if merr != nil {
		return nil, fmt.Errorf("protect the runtime binary: %w", errors.Join(err, merr))
	}
	return m, nil
}

// readonlyBind clones a bind mount of /proc/self/exe, detached, and makes
// it read-only before anyone can see it.
func readonlyBind() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open_tree /proc/self/exe: %w", err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("make the binary's bind read-only: %w", err)
	}
	return os.NewFile(uintptr(fd), "corral-exe"), nil
}

// sealedCopy copies the binary into a memfd sealed against any change.
func sealedCopy() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("corral-exe", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		// Kernels before 6.3 know no MFD_EXEC; their memfds are exec.
		fd, err = unix.MemfdCreate("corral-exe", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	m := os.NewFile(uintptr(fd), "corral-exe")
	if _, err := io.Copy(m, src); err != nil {
		m.Close()
		return nil, fmt.Errorf("copy the binary: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(m.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		m.Close()
		return nil, fmt.Errorf("seal the binary's copy: %w", err)
	}
	return m, nil
}
