package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// pivotRoot makes dir the root. pivot_root(".", ".") stacks the old root
// on the new one, so no directory for it is needed in the image. The old
// root is then detached, as a slave first so that its unmount cannot
// reach the host; it is named by a handle taken before the pivot, since
// a path would name the new root under it, whose propagation (shared, for
// bidirectional mounts) must stay as the config asked.
func pivotRoot(dir *os.File) error {
	old, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer old.Close()
	if err := unix.Fchdir(int(dir.Fd())); err != nil {
		return fmt.Errorf("enter rootfs: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	slave := &unix.MountAttr{Propagation: unix.MS_SLAVE}
	if err := unix.MountSetattr(int(old.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, slave); err != nil {
		return fmt.Errorf("make old root a slave: %w", err)
	}
	if err := unix.Fchdir(int(old.Fd())); err != nil {
		return fmt.Errorf("enter old root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}

// moveRoot is for rootfs on ramfs, where pivot_root is refused: the
// rootfs is moved over / and chrooted into.
func moveRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("enter rootfs: %w", err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs onto /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return unix.Chdir("/")
}
