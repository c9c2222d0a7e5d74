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
)

// bind binds a host path. The source is resolved when this mount is made,
// in the order of the config, so it may be something an earlier mount put
// in the rootfs. It is cloned into a detached tree, given its attributes
// while no one can see it, and attached onto the target handle in one
// step.
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
	} else if tree, err = r.bindSource(m); err != nil {
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
	if err := r.setBindAttrs(tree, m); err != nil {
		return err
	}
	if err := sysBindReadonly(tree, m); err != nil {
		return err
	}
	if m.RecAttr != nil {
		if err := mountfd.SetAttr(tree, m.RecAttr, true); err != nil {
			return err
		}
	}
	if err := setPropagation(tree, m); err != nil {
		return err
	}
	return mountfd.Attach(tree, target)
}

// bindSource clones the source of a bind mount. In a user namespace,
// init is a root the host may not let through a directory on the way
// (a 0700 home, a root-only volume): then the runtime, host root,
// opens the source in init's mount namespace and hands it over, as runc
// opens bind sources before entering the user namespace. The clone is
// made here, from init's own mount namespace, so that the flags the
// kernel locks on the host's mounts stay locked.
func (r *rootfs) bindSource(m *configs.Mount) (*os.File, error) {
	recursive := m.Flags&unix.MS_REC != 0
	tree, err := mountfd.CloneTree(nil, m.Source, recursive)
	if err != nil && r.s.UserNS && r.sock != nil && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) {
		src, rerr := requestBindSource(r.sock, m.Source)
		if rerr != nil {
			return nil, fmt.Errorf("%w; opened by the runtime: %w", err, rerr)
		}
		tree, err = mountfd.CloneTree(src, "", recursive)
		src.Close()
	}
	if errors.Is(err, unix.ENOENT) {
		return nil, errors.New("source does not exist")
	}
	return tree, err
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
	if err := r.setBindAttrs(mounted, m); err != nil {
		return err
	}
	return propagateInPlace(mounted, m)
}

// setPropagation gives a mount handle (detached, or attached in place)
// the propagation m asks for, to its whole tree where the flag is
// recursive.
func setPropagation(mnt *os.File, m *configs.Mount) error {
	for _, pf := range m.PropagationFlags {
		attr := &unix.MountAttr{Propagation: uint64(pf &^ unix.MS_REC)}
		if err := mountfd.SetAttr(mnt, attr, pf&unix.MS_REC != 0); err != nil {
			return fmt.Errorf("set propagation %#x: %w", pf, err)
		}
	}
	return nil
}

// propagateInPlace sets the propagation and the recursive attributes m
// asks for on a mount in the rootfs, through the handle of its root.
func propagateInPlace(mounted *os.File, m *configs.Mount) error {
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

// setBindAttrs gives a bind mount exactly the flags its options ask for,
// as runc does: any mount flag option (ro, nosuid, rw, suid, relatime,
// ...) sets the top mount's read-only, nosuid, nodev, noexec and
// nosymfollow to what the options say, clearing what the source had and
// the options do not ask for, and its access-time mode only when one is
// named; a plain bind keeps the source's flags. Submounts of an rbind
// keep theirs ("rro" and friends in RecAttr are the recursive forms).
// In a user namespace the kernel locks the flags of the host's mounts:
// those stay, unless the options clear one explicitly, which is refused.
func (r *rootfs) setBindAttrs(tree *os.File, m *configs.Mount) error {
	attr := mountfd.BindAttr(m.Flags, m.ClearedFlags)
	if attr == nil {
		return nil
	}
	err := mountfd.SetAttr(tree, attr, false)
	if err == nil || !errors.Is(err, unix.EPERM) || !r.s.UserNS {
		return err
	}
	locked, lerr := mountfd.LockedAttr(tree, attr)
	if lerr != nil {
		return lerr
	}
	if lost := attr.Attr_clr &^ locked.Attr_clr & explicitAttrs(m.ClearedFlags); lost != 0 {
		return fmt.Errorf("the options clear %s, which the source's mount has and the kernel locks in a user namespace", attrNames(lost))
	}
	if err := mountfd.SetAttr(tree, locked, false); err != nil {
		if errors.Is(err, unix.EPERM) && attr.Attr_clr&unix.MOUNT_ATTR__ATIME != 0 {
			return fmt.Errorf("the options set an access-time mode other than the source's mount has, which the kernel locks in a user namespace: %w", err)
		}
		return err
	}
	return nil
}

// sysBindReadonly makes a read-only rbind of the host's /sys (or of a
// part of it) read-only all the way down. Elsewhere "rbind,ro" makes the
// top mount read-only only, as runc does ("rro" is the recursive form);
// here runc would leave the host's cgroupfs, mounted below /sys, writable
// to the container, whose root in a user namespace owns the user's
// cgroups on the host (CVE-2023-25809): runc spec --rootless asks for
// exactly "rbind,ro" of /sys.
func sysBindReadonly(tree *os.File, m *configs.Mount) error {
	src := rootpath.Clean(m.Source)
	if m.Flags&(unix.MS_REC|unix.MS_RDONLY) != unix.MS_REC|unix.MS_RDONLY || (src != "/sys" && !strings.HasPrefix(src, "/sys/")) {
		return nil
	}
	return mountfd.SetAttr(tree, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, true)
}

// explicitAttrs are the mount attributes a config cleared by name ("rw",
// "suid", ...).
func explicitAttrs(cleared int) uint64 {
	var a uint64
	for _, f := range namedAttrs {
		if cleared&f.flag != 0 {
			a |= f.attr
		}
	}
	return a
}

func attrNames(a uint64) string {
	s := ""
	for _, f := range namedAttrs {
		if a&f.attr != 0 {
			if s != "" {
				s += ","
			}
			s += f.name
		}
	}
	return s
}

var namedAttrs = []struct {
	flag int
	attr uint64
	name string
}{
	{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY, "ro"},
	{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID, "nosuid"},
	{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV, "nodev"},
	{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC, "noexec"},
}
