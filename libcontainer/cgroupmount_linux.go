package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
)

// mountCgroup gives the container a view of its own cgroups only: a new
// cgroup2 mount in its cgroup namespace on a cgroup v2 host, binds of its
// cgroup directories otherwise.
func (r *rootfs) mountCgroup(m *configs.Mount) error {
	if cgroups.IsCgroup2UnifiedMode() {
		return r.mountCgroup2(m)
	}
	return r.mountCgroup1(m)
}

func (r *rootfs) mountCgroup2(m *configs.Mount) error {
	if r.cfg.Namespaces.IsPrivate(configs.NEWCGROUP) {
		err := r.newCgroup2(m)
		if err == nil || !(errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY)) {
			return err
		}
	}
	dir, ok := r.s.CgroupPaths[""]
	if !ok {
		return errors.New("the container has no cgroup to mount")
	}
	return r.bindCgroupDir(dir, m.Destination, m.Flags)
}

// newCgroup2 mounts a cgroup2 instance of the container's cgroup
// namespace, rooted at its cgroup.
func (r *rootfs) newCgroup2(m *configs.Mount) error {
	mnt, err := mountfd.NewFS("cgroup2", "cgroup2", m.Flags&^(unix.MS_BIND|unix.MS_REC), "")
	if err != nil {
		return err
	}
	defer mnt.Close()
	target, err := r.mkdirTarget(m.Destination)
	if err != nil {
		return err
	}
	defer target.Close()
	return mountfd.Attach(mnt, target)
}

// mountCgroup1 builds the v1 layout: a tmpfs with one directory per
// hierarchy, each a bind of the container's cgroup in it, and symlinks for
// co-mounted controllers (cpu -> cpu,cpuacct).
func (r *rootfs) mountCgroup1(m *configs.Mount) error {
	target, err := r.mkdirTarget(m.Destination)
	if err != nil {
		return err
	}
	defer target.Close()
	tmpfs, err := mountfd.NewFS("tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755")
	if err != nil {
		return err
	}
	defer tmpfs.Close()
	if err := mountfd.Attach(tmpfs, target); err != nil {
		return err
	}
	for _, h := range r.s.CgroupMounts {
		dir := cgroupDirFor(r.s.CgroupPaths, h.Subsystems)
		if dir == "" {
			continue
		}
		name := filepath.Base(h.Mountpoint)
		if err := r.bindCgroupDirAt(dir, tmpfs, name, m.Flags); err != nil {
			return fmt.Errorf("%s/%s: %w", m.Destination, name, err)
		}
		if err := cgroupSymlinks(tmpfs, name, h.Subsystems); err != nil {
			return fmt.Errorf("%s: %w", m.Destination, err)
		}
	}
	if dir, ok := r.s.CgroupPaths[""]; ok {
		// The cgroup2 hierarchy of a hybrid host.
		if err := r.bindCgroupDirAt(dir, tmpfs, "unified", m.Flags); err != nil {
			return fmt.Errorf("%s/unified: %w", m.Destination, err)
		}
	}
	if m.Flags&unix.MS_RDONLY != 0 {
		return mountfd.SetAttr(tmpfs, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, false)
	}
	return nil
}

// hostCgroupMounts returns the host's cgroup v1 hierarchies when cfg
// mounts cgroups on a host that has them.
func hostCgroupMounts(cfg *configs.Config) ([]cgroupMount, error) {
	if cgroups.IsCgroup2UnifiedMode() || !slices.ContainsFunc(cfg.Mounts, isCgroupMount) {
		return nil, nil
	}
	hosts, err := cgroups.GetCgroupMounts(true)
	if err != nil {
		return nil, fmt.Errorf("find the host's cgroup mounts: %w", err)
	}
	out := make([]cgroupMount, len(hosts))
	for i, h := range hosts {
		out[i] = cgroupMount{Mountpoint: h.Mountpoint, Subsystems: h.Subsystems}
	}
	return out, nil
}

func isCgroupMount(m *configs.Mount) bool { return m.Device == "cgroup" || m.Device == "cgroup2" }

// cgroupDirFor returns the container's cgroup directory in a hierarchy
// with the given controllers.
func cgroupDirFor(paths map[string]string, subsystems []string) string {
	for _, s := range subsystems {
		if p, ok := paths[s]; ok {
			return p
		}
		if p, ok := paths["name="+s]; ok {
			return p
		}
	}
	return ""
}

// cgroupSymlinks links each controller of a co-mounted hierarchy to its
// directory, in the cgroup tmpfs (mnt) made here.
func cgroupSymlinks(mnt *os.File, name string, subsystems []string) error {
	if !strings.Contains(name, ",") {
		return nil
	}
	for _, s := range subsystems {
		if s == name {
			continue
		}
		if err := unix.Symlinkat(name, int(mnt.Fd()), s); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink %s: %w", s, err)
		}
	}
	return nil
}

// bindCgroupDir binds the host's cgroup directory hostDir on dest.
func (r *rootfs) bindCgroupDir(hostDir, dest string, flags int) error {
	target, err := r.mkdirTarget(dest)
	if err != nil {
		return err
	}
	defer target.Close()
	return bindCgroupTree(hostDir, target, flags)
}

// bindCgroupDirAt binds hostDir on the directory name, made in the cgroup
// tmpfs (mnt) made here: nothing of the image is on the way.
func (r *rootfs) bindCgroupDirAt(hostDir string, mnt *os.File, name string, flags int) error {
	if err := unix.Mkdirat(int(mnt.Fd()), name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("mkdir: %w", err)
	}
	target, err := rootpath.OpenBeneath(mnt, name, unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer target.Close()
	return bindCgroupTree(hostDir, target, flags)
}

func bindCgroupTree(hostDir string, target *os.File, flags int) error {
	tree, err := mountfd.CloneTree(nil, hostDir, true)
	if err != nil {
		return err
	}
	defer tree.Close()
	attr := mountfd.AttrFromFlags(flags&(unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC), 0)
	if !mountfd.IsZero(attr) {
		if err := mountfd.SetAttr(tree, attr, true); err != nil {
			return err
		}
	}
	return mountfd.Attach(tree, target)
}

// makeParentPrivate makes the mount holding the rootfs private:
// pivot_root refuses a new root whose parent mount is shared, which a
// shared root propagation would leave it.
func makeParentPrivate(rootfs string) error {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(rootfs))
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	var parent *mountinfo.Info
	for _, m := range mounts {
		if parent == nil || len(m.Mountpoint) > len(parent.Mountpoint) {
			parent = m
		}
	}
	if parent == nil || !strings.Contains(parent.Optional, "shared:") {
		return nil
	}
	if err := unix.Mount("", parent.Mountpoint, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", parent.Mountpoint, err)
	}
	return nil
}
