package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	devices "github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
)

// setupDev creates the config's device nodes and the usual /dev symlinks,
// unless /dev is a bind of the host's (which has them already). Paths are
// resolved from the rootfs handle; /dev must be a real directory
// (CVE-2026-41579: a /dev symlink in the image must not move the devices).
func (r *rootfs) setupDev() error {
	for _, m := range r.cfg.Mounts {
		if filepath.Clean(m.Destination) == "/dev" && m.IsBind() {
			return nil
		}
	}
	dev, err := r.kernelTarget("/dev", "tmpfs")
	if err != nil {
		return err
	}
	defer dev.Close()
	for i, d := range r.cfg.Devices {
		if d.Path == "" {
			continue // a cgroup rule without a node
		}
		if err := r.createDevice(d); err != nil {
			return fmt.Errorf("devices[%d] %s: %w", i, d.Path, err)
		}
	}
	if err := r.devSymlinks(dev); err != nil {
		return err
	}
	if r.s.Process.Terminal {
		// The console is bound there after pivot_root, when a read-only
		// /dev is read-only already: its mount point is made now.
		f, err := createFileAt(dev, "console")
		if err != nil {
			return fmt.Errorf("create /dev/console: %w", err)
		}
		f.Close()
	}
	return nil
}

func (r *rootfs) createDevice(d *devices.Device) error {
	parent, _, err := rootpath.MkdirAll(r.dir, filepath.Dir(d.Path), 0o755)
	if err != nil {
		return err
	}
	defer parent.Close()
	name := filepath.Base(d.Path)
	if r.s.UserNS {
		return bindDevice(parent, name, d)
	}
	return mknodDevice(parent, name, d)
}

// mknodDevice makes the node, replacing whatever non-directory the image
// had there.
func mknodDevice(parent *os.File, name string, d *devices.Device) error {
	var mode uint32
	switch d.Type {
	case devices.CharDevice:
		mode = unix.S_IFCHR
	case devices.BlockDevice:
		mode = unix.S_IFBLK
	case devices.FifoDevice:
		mode = unix.S_IFIFO
	default:
		return fmt.Errorf("type %q cannot be created", d.Type)
	}
	mode |= uint32(d.FileMode.Perm())
	pfd := int(parent.Fd())
	if err := removeNonDir(pfd, name); err != nil {
		return err
	}
	dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	if err := unix.Mknodat(pfd, name, mode, int(dev)); err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	if err := unix.Fchownat(pfd, name, int(d.Uid), int(d.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}

// bindDevice binds the host's node: a user namespace cannot mknod. The
// host node is checked to be the device the config names.
func bindDevice(parent *os.File, name string, d *devices.Device) error {
	host, err := os.OpenFile(d.Path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open host device: %w", err)
	}
	defer host.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(host.Fd()), &st); err != nil {
		return err
	}
	kind := st.Mode & unix.S_IFMT
	wantKind := uint32(unix.S_IFCHR)
	if d.Type == devices.BlockDevice {
		wantKind = unix.S_IFBLK
	}
	if kind != wantKind || unix.Major(st.Rdev) != uint32(d.Major) || unix.Minor(st.Rdev) != uint32(d.Minor) {
		return fmt.Errorf("host %s is not device %c %d:%d", d.Path, d.Type, d.Major, d.Minor)
	}
	target, err := createFileAt(parent, name)
	if err != nil {
		return err
	}
	defer target.Close()
	return mountfd.BindFile(host, target)
}

func removeNonDir(dirfd int, name string) error {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("%s is a directory", name)
	}
	return unix.Unlinkat(dirfd, name, 0)
}

// devSymlinks are what programs expect in /dev.
func (r *rootfs) devSymlinks(dev *os.File) error {
	links := [][2]string{
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
	}
	for _, m := range r.cfg.Mounts {
		if m.Device == "devpts" && filepath.Clean(m.Destination) == "/dev/pts" {
			links = append(links, [2]string{"pts/ptmx", "ptmx"})
		}
	}
	for _, l := range links {
		if l[1] == "ptmx" {
			if err := removeNonDir(int(dev.Fd()), "ptmx"); err != nil {
				return fmt.Errorf("/dev/ptmx: %w", err)
			}
		}
		if err := unix.Symlinkat(l[0], int(dev.Fd()), l[1]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	return nil
}
