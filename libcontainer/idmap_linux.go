package libcontainer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
	"github.com/corral-oci/corral/libcontainer/internal/procfs"
	"github.com/corral-oci/corral/libcontainer/internal/selfexe"
)

// prepareIDMappedMounts makes the config's idmapped bind mounts, detached,
// and passes them to the child, which attaches them in its rootfs. Only
// the runtime, in the host's user namespace, may map host ids; init in a
// container's user namespace could not.
func prepareIDMappedMounts(ch *child, cfg *configs.Config) error {
	usernsOf := map[string]*os.File{}
	defer func() {
		for _, f := range usernsOf {
			f.Close()
		}
	}()
	for i, m := range cfg.Mounts {
		if !m.IsIDMapped() {
			continue
		}
		uids, gids := m.IDMapping.UIDMappings, m.IDMapping.GIDMappings
		joined := cfg.Namespaces.PathOf(configs.NEWUSER)
		if len(uids) == 0 && len(gids) == 0 && joined == "" {
			// "idmap" alone maps as the container's user namespace.
			uids, gids = cfg.UIDMappings, cfg.GIDMappings
		}
		key := fmt.Sprint(uids, gids)
		if len(uids) == 0 && len(gids) == 0 {
			key = joined
		}
		userns, ok := usernsOf[key]
		if !ok {
			var err error
			if key == joined {
				// "idmap" alone, in a user namespace joined: mapped
				// as that namespace is, which only the kernel knows.
				userns, err = openNamespace(joined, configs.NEWUSER)
			} else {
				userns, err = newUserNamespace(uids, gids)
			}
			if err != nil {
				return fmt.Errorf("mounts[%d]: idmap %q: %w", i, m.Source, err)
			}
			usernsOf[key] = userns
		}
		tree, err := idmappedTree(m, userns)
		if err != nil {
			return fmt.Errorf("mounts[%d]: idmap %q: %w", i, m.Source, err)
		}
		if ch.setup.IDMappedMounts == nil {
			ch.setup.IDMappedMounts = map[string]int{}
		}
		ch.setup.IDMappedMounts[m.Destination] = ch.addFile(tree)
	}
	return nil
}

// idmappedTree clones the source and maps its ids through userns.
func idmappedTree(m *configs.Mount, userns *os.File) (*os.File, error) {
	recursive := m.Flags&unix.MS_REC != 0
	tree, err := mountfd.CloneTree(nil, m.Source, recursive)
	if err != nil {
		return nil, err
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := mountfd.SetAttr(tree, attr, recursive && m.IDMapping.Recursive); err != nil {
		tree.Close()
		return nil, err
	}
	return tree, nil
}

// newUserNamespace returns a handle of a new user namespace with the
// mappings, held by a child of ours (this binary, which waits in its
// bootstrap) just long enough to open it.
func newUserNamespace(uids, gids []configs.IDMap) (*os.File, error) {
	exe, err := selfexe.Open()
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	defer w.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/fd/3",
		Args:       bootstrap.Args("corral-userns", bootstrap.MarkUsernsHolder),
		Env:        []string{bootstrap.EnvUsernsHolder + "=1"},
		Stdin:      r,
		ExtraFiles: []*os.File{exe},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: sysIDMap(uids),
			GidMappings: sysIDMap(gids),
			Pdeathsig:   unix.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("make a user namespace: %w", err)
	}
	ns, err := os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/user")
	w.Close()
	cmd.Wait()
	if err != nil {
		return nil, fmt.Errorf("open the user namespace: %w", err)
	}
	return ns, nil
}

func sysIDMap(maps []configs.IDMap) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(maps))
	for i, m := range maps {
		out[i] = syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)}
	}
	return out
}

// writeIDMaps writes the id maps of the new user namespace of pid. Root
// writes any mapping; a user without root writes a mapping of its own
// ids itself, and leaves ranges (granted in /etc/subuid and /etc/subgid)
// to the setuid newuidmap and newgidmap.
func writeIDMaps(pid int, cfg *configs.Config) error {
	if os.Geteuid() == 0 {
		return writeMapFiles(pid, cfg)
	}
	if ownIDsOnly(cfg.UIDMappings, os.Geteuid()) && ownIDsOnly(cfg.GIDMappings, os.Getegid()) {
		// The kernel lets an unprivileged gid_map through only once
		// setgroups(2) is off in the namespace.
		if err := procfs.WritePid(pid, "setgroups", []byte("deny")); err != nil {
			return fmt.Errorf("gid_mappings: deny setgroups: %w", err)
		}
		return writeMapFiles(pid, cfg)
	}
	if err := newIDMap("newuidmap", pid, cfg.UIDMappings); err != nil {
		return fmt.Errorf("uid_mappings: %w", err)
	}
	if err := newIDMap("newgidmap", pid, cfg.GIDMappings); err != nil {
		return fmt.Errorf("gid_mappings: %w", err)
	}
	return nil
}

func writeMapFiles(pid int, cfg *configs.Config) error {
	if err := procfs.WritePid(pid, "uid_map", formatIDMap(cfg.UIDMappings)); err != nil {
		return fmt.Errorf("uid_mappings: %w", err)
	}
	if err := procfs.WritePid(pid, "gid_map", formatIDMap(cfg.GIDMappings)); err != nil {
		return fmt.Errorf("gid_mappings: %w", err)
	}
	return nil
}

// ownIDsOnly reports whether maps map exactly one id, the caller's own.
func ownIDsOnly(maps []configs.IDMap, id int) bool {
	return len(maps) == 1 && maps[0].HostID == int64(id) && maps[0].Size == 1
}

// newIDMap runs newuidmap or newgidmap, which check the mappings against
// /etc/subuid or /etc/subgid.
func newIDMap(tool string, pid int, maps []configs.IDMap) error {
	path, err := exec.LookPath(tool)
	if err != nil {
		return fmt.Errorf("mapping ranges without root needs %s (Debian's uidmap package): %w", tool, err)
	}
	args := []string{strconv.Itoa(pid)}
	for _, m := range maps {
		args = append(args, strconv.FormatInt(m.ContainerID, 10), strconv.FormatInt(m.HostID, 10), strconv.FormatInt(m.Size, 10))
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// formatIDMap renders mappings as /proc/<pid>/uid_map wants them.
func formatIDMap(maps []configs.IDMap) []byte {
	var b []byte
	for _, m := range maps {
		b = strconv.AppendInt(b, m.ContainerID, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.HostID, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.Size, 10)
		b = append(b, '\n')
	}
	return b
}
