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

// Mount targets. Each destination is resolved once, to a handle, and the
// mount lands on that handle (move_mount, or mount(2) on its magic link):
// a directory the container renames or swaps for a symlink afterwards
// does not move the mount elsewhere (CVE-2021-30465). Destinations follow
// symlinks inside the rootfs, as runc's do, dangling ones to the target
// they name; those of the kernel's interfaces never do.

// kernelTarget returns the directory dest for the kernel filesystem
// fstype (proc, sysfs, devpts, or what goes on /dev), creating it, and
// refuses a symlink anywhere on its path: what the kernel's interfaces
// are is not the image's to redirect (CVE-2019-16884, CVE-2023-27561).
func (r *rootfs) kernelTarget(dest, fstype string) (*os.File, error) {
	f, _, err := rootpath.MkdirAllNoSymlinks(r.dir, dest, 0o755)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, unix.ELOOP):
		return nil, fmt.Errorf("%s is a symlink in the rootfs: filesystem %q must be mounted on ordinary directory", dest, fstype)
	case errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EEXIST):
		return nil, fmt.Errorf("%s is not a directory in the rootfs: filesystem %q must be mounted on ordinary directory", dest, fstype)
	}
	return nil, fmt.Errorf("create mount point %s: %w", dest, err)
}

// dirTarget returns a handle of the directory dest inside the rootfs,
// creating it and its parents, and whether it was created here.
func (r *rootfs) dirTarget(dest string) (*os.File, bool, error) {
	// Most destinations have no symlink on their way: one lookup, and
	// nothing to check about where it led.
	f, err := rootpath.OpenNoSymlinks(r.dir, dest, unix.O_DIRECTORY)
	if err == nil {
		return f, false, nil
	}
	if !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.ENOENT) {
		return nil, false, fmt.Errorf("open mount point %s: %w", dest, err)
	}
	f, created, err := rootpath.MkdirAll(r.dir, dest, 0o755)
	if err != nil {
		return nil, false, fmt.Errorf("create mount point %s: %w", dest, err)
	}
	if err := r.checkResolved(f, dest); err != nil {
		f.Close()
		return nil, false, err
	}
	return f, created, nil
}

// mkdirTarget is dirTarget for callers that need only the handle.
func (r *rootfs) mkdirTarget(dest string) (*os.File, error) {
	f, _, err := r.dirTarget(dest)
	return f, err
}

// fileTarget returns a handle of the non-directory dest inside the
// rootfs, created empty (with its parents) if nothing is there.
func (r *rootfs) fileTarget(dest string) (*os.File, error) {
	f, err := rootpath.OpenNoSymlinks(r.dir, dest, 0)
	// Through a symlink, or made here (through a dangling one maybe).
	followed := errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOENT)
	if followed {
		// runc makes file mount points 0755.
		f, _, err = rootpath.CreateFile(r.dir, dest, 0o755)
	}
	if err != nil {
		return nil, fmt.Errorf("create mount point %s: %w", dest, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		f.Close()
		return nil, fmt.Errorf("mount point %s is a directory, the source is not", dest)
	}
	if followed {
		if err := r.checkResolved(f, dest); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

func (r *rootfs) bindTarget(dest string, dir bool) (*os.File, error) {
	if dir {
		return r.mkdirTarget(dest)
	}
	return r.fileTarget(dest)
}

// checkResolved refuses a mount whose target, once symlinks in the
// image are followed, is /proc, /sys or inside them while the config
// named another path: a symlink must not let a mount cover the kernel's
// interfaces (CVE-2019-16884). Nor may a symlink turn a mount into one
// over the whole rootfs: a volume meant for /data would replace the
// container's root.
func (r *rootfs) checkResolved(target *os.File, dest string) error {
	if r.path == "" {
		p, err := fdPath(r.dir)
		if err != nil {
			return err
		}
		r.path = p
	}
	got, err := fdPath(target)
	if err != nil {
		return err
	}
	clean := rootpath.Clean(dest)
	rel := "/" + strings.TrimPrefix(strings.TrimPrefix(got, r.path), "/")
	if r.path == "/" {
		rel = got
	}
	if rel == clean {
		return nil
	}
	if rel == "/" {
		return fmt.Errorf("%s resolves to / through a symlink in the rootfs; a mount may not cover the container's root that way", dest)
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
