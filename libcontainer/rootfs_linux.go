package libcontainer

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
)

// The root filesystem is built in its own files, one job each:
//
//	rootfs_linux.go      the order of the steps, and what only applies at the end
//	target_linux.go      where a mount goes: each destination resolved once, inside the rootfs
//	kernelfs_linux.go    new filesystem instances (proc, sysfs, tmpfs, ...), detached until checked
//	bind_linux.go        bind mounts: sources, flags, peers
//	copyup_linux.go      tmpcopyup: a tmpfs filled with what it covers
//	cgroupmount_linux.go the container's cgroups
//	dev_linux.go         /dev
//	mask_linux.go        masked and read-only paths
//	pivot_linux.go       pivot_root, or the move for --no-pivot

// rootfs is the container's root filesystem while init builds it, in its
// new mount namespace before pivot_root. Every path inside it is resolved
// from dir, a handle of its root, and never as a host path.
type rootfs struct {
	s   *setup
	cfg *configs.Config
	dir *os.File
	// sock is the conversation with the runtime, for what only the
	// runtime can open (bind sources beyond the user namespace's reach).
	sock *os.File
	// path is where dir is on the host, once needed.
	path string

	// kernelMounts are the procfs and sysfs instances mounted here, by
	// destination: masked and read-only paths below them are resolved
	// from these handles, never by a path walk from the root, so that
	// they land on the instance the container gets (CVE-2019-16884).
	kernelMounts map[string]*os.File
	// readonlyLater are the mounts made read-only only once everything
	// below them exists: a read-only /dev or tmpfs is filled first.
	readonlyLater []*os.File
	// maskDir is the empty read-only tmpfs behind every masked directory,
	// attached to the first one; the others are clones of it.
	maskDir *os.File
	// devNull is the host's null device, behind every masked file.
	devNull *os.File
}

// prepareRootfs mounts everything the config asks for under the rootfs:
// the mounts in order, /dev, masked and read-only paths.
func prepareRootfs(sock *os.File, s *setup) (*rootfs, error) {
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
	r := &rootfs{s: s, cfg: cfg, dir: dir, sock: sock}
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
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
	if err := r.makeCwd(); err != nil {
		return nil, err
	}
	if err := r.maskPaths(); err != nil {
		return nil, err
	}
	phase.Mark("init:masked")
	if err := r.readonlyPaths(); err != nil {
		return nil, err
	}
	r.closeKernelMounts()
	ok = true
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
	switch rootpath.Clean(m.Destination) {
	case "/proc":
		if m.Device != "proc" {
			return errors.New("only a proc filesystem may be mounted on /proc")
		}
	case "/sys":
		if m.Device != "sysfs" && !(m.IsBind() && rootpath.Clean(m.Source) == "/sys") {
			return errors.New("only sysfs (or a bind of the host's /sys) may be mounted on /sys")
		}
	}
	return nil
}

// finish applies what waits for the end: mounts made read-only once
// filled, then the new root, then what applies to the root itself.
func (r *rootfs) finish() error {
	defer r.close()
	for _, mnt := range r.readonlyLater {
		if err := mountfd.SetAttr(mnt, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, false); err != nil {
			return fmt.Errorf("make %s read-only: %w", mnt.Name(), err)
		}
	}
	var err error
	if r.cfg.NoPivotRoot {
		// As the mount table names it, for the mounts inside it.
		var rootfs string
		if rootfs, err = fdPath(r.dir); err != nil {
			return err
		}
		err = moveRoot(rootfs)
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

func (r *rootfs) closeKernelMounts() {
	for dest, f := range r.kernelMounts {
		f.Close()
		delete(r.kernelMounts, dest)
	}
}

// close drops every handle the build kept.
func (r *rootfs) close() {
	r.closeKernelMounts()
	for _, f := range r.readonlyLater {
		f.Close()
	}
	r.readonlyLater = nil
	for _, f := range []**os.File{&r.maskDir, &r.devNull, &r.dir} {
		if *f != nil {
			(*f).Close()
			*f = nil
		}
	}
}
