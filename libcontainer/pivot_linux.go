package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
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
// rootfs is moved over / and chrooted into. The host's mounts stay in the
// namespace, under the rootfs, so the host's procfs and sysfs are hidden
// first (hideHostKernelFS).
func moveRoot(rootfs string) error {
	if err := hideHostKernelFS(rootfs); err != nil {
		return err
	}
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

// hideHostKernelFS detaches, or where the kernel refuses (mounts locked in
// a user namespace) covers with an empty read-only tmpfs, every procfs and
// sysfs of the host left in the container's mount namespace. The kernel
// lets a user namespace mount a new procfs or sysfs only where one is
// already fully visible (mount_too_revealing); the host's, under the
// moved rootfs but still in the namespace, would let a process of the
// container make an unmasked, writable one in a user namespace of its own.
// Each is made a slave first, so that its unmount cannot reach the host.
func hideHostKernelFS(rootfs string) error {
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		inside := m.Mountpoint == rootfs || strings.HasPrefix(m.Mountpoint, rootfs+"/")
		return (m.FSType != "proc" && m.FSType != "sysfs") || inside, false
	})
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	// Submounts first: a detached parent would take them along, and
	// leave their paths naming what is under it.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].Mountpoint) > len(mounts[j].Mountpoint) })
	for _, m := range mounts {
		p := m.Mountpoint
		if err := unix.Mount("", p, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("hide the host's %s at %s: make it a slave: %w", m.FSType, p, err)
		}
		err := unix.Unmount(p, unix.MNT_DETACH)
		if err == nil {
			continue
		}
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("hide the host's %s at %s: unmount: %w", m.FSType, p, err)
		}
		if err := coverWithTmpfs(p); err != nil {
			return fmt.Errorf("hide the host's %s at %s: %w", m.FSType, p, err)
		}
	}
	return nil
}

// coverWithTmpfs mounts an empty read-only tmpfs on the directory p.
func coverWithTmpfs(p string) error {
	dir, err := os.OpenFile(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer dir.Close()
	tmpfs, err := mountfd.ReadonlyTmpfs()
	if err != nil {
		return err
	}
	defer tmpfs.Close()
	return mountfd.Attach(tmpfs, dir)
}
