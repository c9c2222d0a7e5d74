package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
	"github.com/corral-oci/corral/libcontainer/label"
)

// mountFS mounts a new filesystem instance (proc, tmpfs, devpts, ...).
// The instance is made detached (fsopen, fsmount), checked to be the
// filesystem asked for on its own handle, given its attributes and, for a
// tmpfs, its mode and contents while nobody sees it, and attached onto the
// target handle in one step. No path is walked twice: the check and the
// masks below it use the mount's handle, not what a path names later.
func (r *rootfs) mountFS(m *configs.Mount) error {
	if m.Flags&unix.MS_REMOUNT != 0 || m.Device == "" {
		return r.remount(m)
	}
	dest := rootpath.Clean(m.Destination)
	var target *os.File
	var created bool
	var err error
	if kernelFS[m.Device] || dest == "/dev" {
		target, err = r.kernelTarget(dest, m.Device)
	} else {
		target, created, err = r.dirTarget(dest)
	}
	if err != nil {
		return err
	}
	defer target.Close()
	flags := m.Flags &^ propagationFlags
	// A read-only tmpfs or /dev is filled first (devices, mount points,
	// a mode, copied contents), as runc does; it becomes read-only at the
	// end, the mount only, like a bind remounted read-only.
	readonlyLater := flags&unix.MS_RDONLY != 0 && (m.Device == "tmpfs" || dest == "/dev")
	if readonlyLater {
		flags &^= unix.MS_RDONLY
	}
	data := m.Data
	if labelled[m.Device] && r.cfg.MountLabel != "" {
		data = label.FormatMountLabel(data, r.cfg.MountLabel)
	}
	mnt, err := mountfd.NewFS(m.Device, m.Source, flags, data)
	if err != nil && m.Device == "sysfs" && errors.Is(err, unix.EPERM) && r.s.UserNS {
		return r.bindHostSys(m)
	}
	if err != nil {
		return err
	}
	keep := false
	defer func() {
		if !keep {
			mnt.Close()
		}
	}()
	if magic, ok := fsMagic[m.Device]; ok {
		// The kernel's interfaces must be what we mount, checked on the
		// mount itself (CVE-2019-16884).
		if err := mountfd.CheckFSType(mnt, magic, m.Device); err != nil {
			return err
		}
	}
	if m.Device == "tmpfs" {
		if err := r.fillTmpfs(m, mnt, target, created); err != nil {
			return err
		}
	}
	if m.RecAttr != nil {
		if err := mountfd.SetAttr(mnt, m.RecAttr, true); err != nil {
			return err
		}
	}
	if err := mountfd.Attach(mnt, target); err != nil {
		return err
	}
	// Once attached, the handle is of the mount in place: its
	// propagation is set there, and masks find it there.
	if err := setPropagation(mnt, m); err != nil {
		return err
	}
	if readonlyLater {
		r.readonlyLater = append(r.readonlyLater, mnt)
		keep = true
	}
	if m.Device == "proc" || m.Device == "sysfs" {
		if keep {
			// Held for the read-only step too (a read-only procfs on
			// /dev): each owner closes its own.
			fd, err := unix.FcntlInt(mnt.Fd(), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("keep the mount's handle: %w", err)
			}
			mnt = os.NewFile(uintptr(fd), mnt.Name())
		}
		r.addKernelMount(dest, mnt)
		keep = true
	}
	return nil
}

// addKernelMount keeps mnt, the instance mounted on dest, for the masked
// and read-only paths below it.
func (r *rootfs) addKernelMount(dest string, mnt *os.File) {
	if r.kernelMounts == nil {
		r.kernelMounts = map[string]*os.File{}
	}
	if old := r.kernelMounts[dest]; old != nil {
		old.Close()
	}
	r.kernelMounts[dest] = mnt
}

// fillTmpfs gives a new tmpfs what it takes from its mount point before
// anyone sees it: the mount point's mode when no mode= is asked (as runc
// does: a sticky /tmp stays sticky), and with tmpcopyup its contents.
func (r *rootfs) fillTmpfs(m *configs.Mount, mnt, target *os.File, created bool) error {
	if m.TmpCopyUp {
		if err := copyUp(target, mnt); err != nil {
			return fmt.Errorf("tmpcopyup: %w", err)
		}
	}
	if created || hasOption(m.Data, "mode") {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(target.Fd()), &st); err != nil {
		return fmt.Errorf("stat mount point: %w", err)
	}
	return chmodRoot(mnt, st.Mode&0o7777)
}

// chmodRoot sets the mode of the root of a mount.
func chmodRoot(mnt *os.File, mode uint32) error {
	fd, err := unix.Openat(int(mnt.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open tmpfs root: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, mode); err != nil {
		return fmt.Errorf("chmod tmpfs root %#o: %w", mode, err)
	}
	return nil
}

// hasOption reports whether a mount(2) option string sets key.
func hasOption(data, key string) bool {
	for _, o := range mountfd.SplitOptions(data) {
		if k, _, _ := strings.Cut(o, "="); k == key {
			return true
		}
	}
	return false
}

// bindHostSys binds the host's /sys where sysfs cannot be mounted: a
// user namespace that does not own the network namespace may not. Read-
// only all the way down: the host's cgroupfs is mounted below it
// (CVE-2023-25809).
func (r *rootfs) bindHostSys(m *configs.Mount) error {
	return r.bind(&configs.Mount{Source: "/sys", Destination: m.Destination, Device: "bind",
		Flags:   unix.MS_BIND | unix.MS_REC | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC,
		RecAttr: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}})
}

// remount changes a mount already in the rootfs (the remount option, or
// a mount without a type that only sets propagation): mount(2) on the
// handle of its destination, which is the mount's root.
func (r *rootfs) remount(m *configs.Mount) error {
	target, err := rootpath.Open(r.dir, m.Destination, 0)
	if err != nil {
		return fmt.Errorf("open mount point %s: %w", m.Destination, err)
	}
	defer target.Close()
	if m.Flags&unix.MS_REMOUNT != 0 {
		if err := mountfd.Mount(m.Source, target, m.Device, uintptr(m.Flags&^propagationFlags), m.Data); err != nil {
			return err
		}
	}
	return propagateInPlace(target, m)
}

// kernelFS are the filesystems that are the kernel's interfaces: their
// mount points may not be symlinks.
var kernelFS = map[string]bool{"proc": true, "sysfs": true, "devpts": true}

// fsMagic are the filesystems checked to be what was mounted.
var fsMagic = map[string]int64{
	"proc":   unix.PROC_SUPER_MAGIC,
	"sysfs":  unix.SYSFS_MAGIC,
	"devpts": unix.DEVPTS_SUPER_MAGIC,
}

// labelled are the filesystems that take the container's SELinux mount
// label as a context= option.
var labelled = map[string]bool{"tmpfs": true, "devpts": true, "mqueue": true}

// propagationFlags are applied after a mount, never with it.
const propagationFlags = unix.MS_SHARED | unix.MS_PRIVATE | unix.MS_SLAVE | unix.MS_UNBINDABLE
