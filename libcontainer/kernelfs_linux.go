package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
	"github.com/corral-oci/corral/libcontainer/label"
)

// mountFS mounts a new filesystem instance (proc, tmpfs, devpts, ...).
func (r *rootfs) mountFS(m *configs.Mount) error {
	if m.Device == "proc" || m.Device == "sysfs" || m.Device == "devpts" || filepath.Clean(m.Destination) == "/dev" {
		// A symlink here would put the kernel's interface where the
		// image chose (CVE-2023-27561).
		if err := r.checkRealDir(m.Destination); err != nil {
			return err
		}
	}
	target, err := r.mkdirTarget(m.Destination)
	if err != nil {
		return err
	}
	defer target.Close()
	flags := m.Flags &^ propagationFlags
	data := m.Data
	if labelled[m.Device] && r.cfg.MountLabel != "" {
		data = label.FormatMountLabel(data, r.cfg.MountLabel)
	}
	err = mountfd.Mount(m.Source, target, m.Device, uintptr(flags), data)
	if err != nil && m.Device == "sysfs" && errors.Is(err, unix.EPERM) && r.s.UserNS {
		// A user namespace that does not own the network namespace
		// cannot mount sysfs; the host's, read-only, is the next best.
		// Read-only all the way down: the host's cgroupfs is mounted
		// below it (CVE-2023-25809).
		return r.bind(&configs.Mount{Source: "/sys", Destination: m.Destination, Device: "bind",
			Flags:   unix.MS_BIND | unix.MS_REC | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC,
			RecAttr: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}})
	}
	if err != nil {
		return err
	}
	magic, checked := fsMagic[m.Device]
	if !checked && len(m.PropagationFlags) == 0 && m.RecAttr == nil {
		return nil
	}
	mounted, err := rootpath.Open(r.dir, m.Destination, 0)
	if err != nil {
		return err
	}
	defer mounted.Close()
	if checked {
		// The kernel's interfaces must be what is there now, not
		// something swapped in while we mounted (CVE-2019-16884).
		var fs unix.Statfs_t
		if err := unix.Fstatfs(int(mounted.Fd()), &fs); err != nil {
			return err
		}
		if fs.Type != magic {
			return fmt.Errorf("%s is not a %s filesystem after mounting one there", m.Destination, m.Device)
		}
	}
	return applyMountAttrs(mounted, m)
}

// fsMagic are the filesystems checked to be in place after their mount.
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

func applyMountAttrs(mounted *os.File, m *configs.Mount) error {
	for _, pf := range m.PropagationFlags {
		if err := unix.Mount("", mountfd.Path(mounted), "", uintptr(pf), ""); err != nil {
			return fmt.Errorf("set propagation %#x: %w", pf, err)
		}
	}
	if m.RecAttr != nil {
		return mountfd.SetAttr(mounted, m.RecAttr, true)
	}
	return nil
}
