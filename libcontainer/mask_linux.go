package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
)

// maskPaths hides each masked path: a file behind the host's /dev/null,
// checked to be the real null device, a directory behind an empty
// read-only tmpfs, one instance for all of them. The container's own
// /dev/null is never used: the image could make it a symlink to a file
// it wants writable (CVE-2025-31133). A path listed twice is masked once.
func (r *rootfs) maskPaths() error {
	seen := map[string]bool{}
	for i, p := range r.cfg.MaskPaths {
		clean := rootpath.Clean(p)
		if seen[clean] {
			continue
		}
		seen[clean] = true
		f, err := r.openMasked(clean)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("mask_paths[%d] %q: %w", i, p, err)
		}
		err = r.mask(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("mask_paths[%d] %q: %w", i, p, err)
		}
	}
	return nil
}

// openMasked resolves a masked or read-only path. Below a procfs or sysfs
// mounted here it is resolved from that mount's handle, without symlinks:
// the masks land on the instance the container gets, whatever a container
// sharing the rootfs renames meanwhile, and a path missing there is one
// the kernel does not have (/proc/kcore without CONFIG_PROC_KCORE). Other
// paths are resolved from the root, following the image's symlinks inside
// it.
func (r *rootfs) openMasked(p string) (*os.File, error) {
	mnt, rel := r.kernelMountOf(p)
	if mnt == nil {
		return rootpath.Open(r.dir, p, 0)
	}
	if rel == "" {
		fd, err := unix.FcntlInt(mnt.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), p), nil
	}
	return rootpath.OpenBeneath(mnt, rel, 0)
}

// kernelMountOf returns the deepest procfs or sysfs mount made here that
// holds p, and p relative to it.
func (r *rootfs) kernelMountOf(p string) (*os.File, string) {
	var best string
	for dest := range r.kernelMounts {
		if (p == dest || strings.HasPrefix(p, dest+"/")) && len(dest) > len(best) {
			best = dest
		}
	}
	if best == "" {
		return nil, ""
	}
	return r.kernelMounts[best], strings.TrimPrefix(strings.TrimPrefix(p, best), "/")
}

func (r *rootfs) mask(f *os.File) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return r.maskDirectory(f, &st)
	}
	if r.devNull == nil {
		var err error
		if r.devNull, err = openDevNull(); err != nil {
			return err
		}
	}
	var null unix.Stat_t
	if err := unix.Fstat(int(r.devNull.Fd()), &null); err != nil {
		return err
	}
	if st.Dev == null.Dev && st.Ino == null.Ino {
		return nil // masked already, under another name
	}
	return mountfd.BindFile(r.devNull, f)
}

// maskDirectory covers f with the read-only tmpfs of every masked
// directory: attached on the first one, cloned from there for the
// others, which every kernel allows (cloning a detached mount only
// since 6.15).
func (r *rootfs) maskDirectory(f *os.File, st *unix.Stat_t) error {
	if r.maskDir == nil {
		tmpfs, err := mountfd.ReadonlyTmpfs()
		if err != nil {
			return err
		}
		if err := mountfd.Attach(tmpfs, f); err != nil {
			tmpfs.Close()
			return err
		}
		r.maskDir = tmpfs
		return nil
	}
	var masked unix.Stat_t
	if err := unix.Fstat(int(r.maskDir.Fd()), &masked); err != nil {
		return err
	}
	if st.Dev == masked.Dev {
		return nil // masked already, under another name
	}
	clone, err := mountfd.Clone(r.maskDir)
	if err != nil {
		return err
	}
	defer clone.Close()
	return mountfd.Attach(clone, f)
}

// openDevNull opens the host's /dev/null and checks it is char 1:3.
func openDevNull() (*os.File, error) {
	f, err := os.OpenFile("/dev/null", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		f.Close()
		return nil, errors.New("/dev/null is not the null device (char 1:3)")
	}
	return f, nil
}

// readonlyPaths binds each path read-only over itself, submounts
// included. Below a procfs or sysfs mounted here, paths are resolved from
// its handle, as masked paths are.
func (r *rootfs) readonlyPaths() error {
	for i, p := range r.cfg.ReadonlyPaths {
		f, err := r.openMasked(rootpath.Clean(p))
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("readonly_paths[%d] %q: %w", i, p, err)
		}
		err = bindReadonly(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("readonly_paths[%d] %q: %w", i, p, err)
		}
	}
	return nil
}

func bindReadonly(f *os.File) error {
	tree, err := mountfd.CloneTree(f, "", true)
	if err != nil {
		return err
	}
	defer tree.Close()
	if err := mountfd.SetAttr(tree, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, true); err != nil {
		return err
	}
	return mountfd.Attach(tree, f)
}
