package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
	"github.com/corral-oci/corral/libcontainer/label"
)

// rootfs is the container's root filesystem while init builds it, in its
// new mount namespace before pivot_root. Every path inside it is resolved
// from dir, a handle of its root, and never as a host path.
type rootfs struct {
	s   *setup
	cfg *configs.Config
	dir *os.File
	// path is where dir is on the host, once needed.
	path string
}

// prepareRootfs mounts everything the config asks for under the rootfs:
// the mounts in order, /dev, masked and read-only paths.
func prepareRootfs(s *setup) (*rootfs, error) {
	cfg := s.Config
	// Our mounts must not propagate back to the host: / becomes a slave
	// unless the config asks for another propagation.
	prop := unix.MS_SLAVE | unix.MS_REC
	if cfg.RootPropagation != 0 {
		prop = cfg.RootPropagation
	}
	if err := unix.Mount("", "/", "", uintptr(prop), ""); err != nil {
		return nil, fmt.Errorf("set propagation of /: %w", err)
	}
	if cfg.RootPropagation&unix.MS_SHARED != 0 {
		if err := makeParentPrivate(cfg.Rootfs); err != nil {
			return nil, err
		}
	}
	// pivot_root wants the new root to be a mount point.
	if err := unix.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return nil, fmt.Errorf("bind rootfs %s onto itself: %w", cfg.Rootfs, err)
	}
	dir, err := os.OpenFile(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open rootfs: %w", err)
	}
	r := &rootfs{s: s, cfg: cfg, dir: dir}
	for i, m := range cfg.Mounts {
		if err := r.mount(m); err != nil {
			return nil, fmt.Errorf("mounts[%d]: mount %q on %q: %w", i, m.Source, m.Destination, err)
		}
	}
	phase.Mark("init:mounted")
	if err := r.setupDev(); err != nil {
		return nil, err
	}
	phase.Mark("init:dev-made")
	if err := r.maskPaths(); err != nil {
		return nil, err
	}
	phase.Mark("init:masked")
	if err := r.readonlyPaths(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rootfs) mount(m *configs.Mount) error {
	if err := checkReservedDestination(m); err != nil {
		return err
	}
	switch {
	case isCgroupMount(m):
		return r.mountCgroup(m)
	case m.IsBind():
		return r.bind(m)
	default:
		return r.mountFS(m)
	}
}

// checkReservedDestination keeps /proc and /sys what the kernel's
// interfaces expect: only a procfs (or sysfs, or the host's /sys bound
// when no sysfs can be mounted) may cover them (CVE-2019-16884).
func checkReservedDestination(m *configs.Mount) error {
	switch filepath.Clean(m.Destination) {
	case "/proc":
		if m.Device != "proc" {
			return errors.New("only a proc filesystem may be mounted on /proc")
		}
	case "/sys":
		if m.Device != "sysfs" && !(m.IsBind() && filepath.Clean(m.Source) == "/sys") {
			return errors.New("only sysfs (or a bind of the host's /sys) may be mounted on /sys")
		}
	}
	return nil
}

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

// bind binds a host path. The source is cloned into a detached tree,
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

func (r *rootfs) bindTarget(dest string, dir bool) (*os.File, error) {
	if dir {
		return r.mkdirTarget(dest)
	}
	return r.fileTarget(dest)
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

// checkResolved refuses a mount whose target, once symlinks in the
// image are followed, is /proc, /sys or inside them while the config
// named another path: a symlink must not let a mount cover the kernel's
// interfaces (CVE-2019-16884).
func (r *rootfs) checkResolved(target *os.File, dest string) error {
	if r.path == "" {
		p, err := fdPath(r.dir)
		if err != nil {
			return err
		}
		r.path = p
	}
	root := r.path
	got, err := fdPath(target)
	if err != nil {
		return err
	}
	rel := "/" + strings.TrimPrefix(strings.TrimPrefix(got, root), "/")
	if rel == filepath.Clean(dest) {
		return nil
	}
	for _, reserved := range []string{"/proc", "/sys"} {
		if rel == reserved || strings.HasPrefix(rel, reserved+"/") {
			return fmt.Errorf("%s resolves to %s through a symlink in the rootfs; a mount may not cover %s that way", dest, rel, reserved)
		}
	}
	return nil
}

// fdPath is the path of the file f refers to, read from the host's
// procfs (the runtime's own, not the container's).
func fdPath(f *os.File) (string, error) {
	p, err := os.Readlink(mountfd.Path(f))
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", f.Name(), err)
	}
	return p, nil
}

// mkdirTarget returns a handle of the directory dest inside the rootfs,
// creating it and its parents, resolving symlinks inside the rootfs only.
func (r *rootfs) mkdirTarget(dest string) (*os.File, error) {
	f, err := rootpath.MkdirAll(r.dir, dest, 0o755)
	if err != nil {
		return nil, fmt.Errorf("create mount point %s: %w", dest, err)
	}
	if err := r.checkResolved(f, dest); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// fileTarget returns a handle of the file dest inside the rootfs, created
// empty if it does not exist.
func (r *rootfs) fileTarget(dest string) (*os.File, error) {
	f, err := rootpath.Open(r.dir, dest, 0)
	if err == nil {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			f.Close()
			return nil, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			f.Close()
			return nil, fmt.Errorf("mount point %s is a directory, the source is not", dest)
		}
		if err := r.checkResolved(f, dest); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("open mount point %s: %w", dest, err)
	}
	parent, err := rootpath.MkdirAll(r.dir, filepath.Dir(dest), 0o755)
	if err != nil {
		return nil, fmt.Errorf("create parent of mount point %s: %w", dest, err)
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), filepath.Base(dest), unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create mount point %s: %w", dest, err)
	}
	unix.Close(fd)
	f, err = rootpath.Open(r.dir, dest, 0)
	if err != nil {
		return nil, fmt.Errorf("open mount point %s: %w", dest, err)
	}
	if err := r.checkResolved(f, dest); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkRealDir refuses a path with a symlink in it.
func (r *rootfs) checkRealDir(dest string) error {
	fd, err := unix.Openat2(int(r.dir.Fd()), dest, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC | unix.O_DIRECTORY,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS,
	})
	switch {
	case err == nil:
		unix.Close(fd)
		return nil
	case errors.Is(err, unix.ENOENT):
		return nil // created as a real directory
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("%s is a symlink in the rootfs; it must be a real directory", dest)
	case errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("%s is not a directory in the rootfs", dest)
	}
	return fmt.Errorf("check %s: %w", dest, err)
}

// finish makes the rootfs the container's root and applies what only
// applies to the root: read-only and propagation.
func (r *rootfs) finish() error {
	defer r.dir.Close()
	var err error
	if r.cfg.NoPivotRoot {
		err = moveRoot(r.cfg.Rootfs)
	} else {
		err = pivotRoot(r.dir)
	}
	if err != nil {
		return err
	}
	if r.cfg.Readonlyfs {
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(unix.AT_FDCWD, "/", 0, attr); err != nil {
			return fmt.Errorf("make / read-only: %w", err)
		}
	}
	if r.cfg.RootPropagation != 0 {
		if err := unix.Mount("", "/", "", uintptr(r.cfg.RootPropagation), ""); err != nil {
			return fmt.Errorf("root_propagation %#x: %w", r.cfg.RootPropagation, err)
		}
	}
	return nil
}

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
