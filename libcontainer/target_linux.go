package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
)

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

func (r *rootfs) bindTarget(dest string, dir bool) (*os.File, error) {
	if dir {
		return r.mkdirTarget(dest)
	}
	return r.fileTarget(dest)
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
