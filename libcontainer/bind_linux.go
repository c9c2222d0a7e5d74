package libcontainer

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
)

// given its attributes while no one can see it, and attached onto the
// target handle in one step.
func (r *rootfs) bind(m *configs.Mount) error {
	var tree *os.File
	var err error
	if fd, ok := r.s.IDMappedMounts[m.Destination]; ok {
		// Made idmapped by the runtime, which alone may map host ids.
		tree = os.NewFile(uintptr(fd), "idmapped:"+m.Source)
	} else if m.IsIDMapped() {
		return errors.New("idmapped mount was not prepared by the runtime")
	} else if r.wantsPeers(m) {
		return r.bindPeer(m)
	} else if tree, err = mountfd.CloneTree(nil, m.Source, m.Flags&unix.MS_REC != 0); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return errors.New("source does not exist")
		}
		return err
	}
	defer tree.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(tree.Fd()), &st); err != nil {
		return err
	}
	target, err := r.bindTarget(m.Destination, st.Mode&unix.S_IFMT == unix.S_IFDIR)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := setBindAttrs(tree, m); err != nil {
		return err
	}
	if m.RecAttr != nil {
		if err := mountfd.SetAttr(tree, m.RecAttr, true); err != nil {
			return err
		}
	}
	for _, pf := range m.PropagationFlags {
		attr := &unix.MountAttr{Propagation: uint64(pf &^ unix.MS_REC)}
		if err := mountfd.SetAttr(tree, attr, pf&unix.MS_REC != 0); err != nil {
			return err
		}
	}
	return mountfd.Attach(tree, target)
}

// wantsPeers reports whether a bind must share mount events with its
// source: a detached clone (open_tree) would be only a slave of it.
func (r *rootfs) wantsPeers(m *configs.Mount) bool {
	if r.cfg.RootPropagation&unix.MS_SHARED != 0 {
		return true
	}
	for _, pf := range m.PropagationFlags {
		if pf&unix.MS_SHARED != 0 {
			return true
		}
	}
	return false
}

// bindPeer binds with mount(2), which puts the new mount in its shared
// source's peer group, so that mounts made on either side propagate
// (bidirectional mount propagation). The target is still a handle
// resolved in the rootfs; the new mount is then reopened and checked to
// be the source before its flags are set.
func (r *rootfs) bindPeer(m *configs.Mount) error {
	var src unix.Stat_t
	if err := unix.Stat(m.Source, &src); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return errors.New("source does not exist")
		}
		return err
	}
	target, err := r.bindTarget(m.Destination, src.Mode&unix.S_IFMT == unix.S_IFDIR)
	if err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND | m.Flags&unix.MS_REC)
	err = mountfd.Mount(m.Source, target, "", flags, "")
	target.Close()
	if err != nil {
		return err
	}
	mounted, err := rootpath.Open(r.dir, m.Destination, 0)
	if err != nil {
		return err
	}
	defer mounted.Close()
	var got unix.Stat_t
	if err := unix.Fstat(int(mounted.Fd()), &got); err != nil {
		return err
	}
	if got.Dev != src.Dev || got.Ino != src.Ino {
		return fmt.Errorf("%s is not the bind of %s after mounting it", m.Destination, m.Source)
	}
	if err := setBindAttrs(mounted, m); err != nil {
		return err
	}
	return applyMountAttrs(mounted, m)
}

// setBindAttrs applies the flags a bind mount asks for. On a recursive
// bind, what it sets (read-only, nosuid, ...) covers every submount: a
// read-only bind of /sys must not leave the host's cgroupfs below it
// writable (CVE-2023-25809). What it clears applies to the top mount
// only, since a user namespace may not clear the locked flags of the
// host's submounts.
func setBindAttrs(tree *os.File, m *configs.Mount) error {
	attr := mountfd.AttrFromFlags(m.Flags, m.ClearedFlags)
	if mountfd.IsZero(attr) {
		return nil
	}
	set := &unix.MountAttr{Attr_set: attr.Attr_set, Attr_clr: attr.Attr_clr & unix.MOUNT_ATTR__ATIME}
	clear := &unix.MountAttr{Attr_clr: attr.Attr_clr &^ unix.MOUNT_ATTR__ATIME}
	if !mountfd.IsZero(set) {
		if err := mountfd.SetAttr(tree, set, m.Flags&unix.MS_REC != 0); err != nil {
			return err
		}
	}
	if !mountfd.IsZero(clear) {
		return mountfd.SetAttr(tree, clear, false)
	}
	return nil
}

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
