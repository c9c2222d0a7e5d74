package lib

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// mountOpts returns the options column of the container mount at dest,
// from the output of `cat /proc/self/mountinfo`.
func mountOpts(mountinfo, dest string) (opts string, fstype string, ok bool) {
	for _, l := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(l)
		if len(f) < 10 || f[4] != dest {
			continue
		}
		for i, x := range f {
			if x == "-" && i+1 < len(f) {
				opts, fstype, ok = f[5], f[i+1], true
			}
		}
	}
	return
}

func TestMountTypes(t *testing.T) {
	hostDir := t.TempDir()
	os.WriteFile(filepath.Join(hostDir, "hello"), []byte("from the host\n"), 0o644)
	hostFile := filepath.Join(t.TempDir(), "file")
	os.WriteFile(hostFile, []byte("a file\n"), 0o644)

	cfg := newConfig(t, busybox)
	cfg.Mounts = append(cfg.Mounts,
		&configs.Mount{Source: hostDir, Destination: "/data", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC},
		&configs.Mount{Source: hostDir, Destination: "/ro", Device: "bind", Flags: unix.MS_BIND | unix.MS_RDONLY},
		&configs.Mount{Source: hostFile, Destination: "/etc/bound-file", Device: "bind", Flags: unix.MS_BIND},
		&configs.Mount{Source: "tmpfs", Destination: "/scratch", Device: "tmpfs", Flags: unix.MS_NOSUID, Data: "size=1m,mode=700"},
		&configs.Mount{Source: "cgroup", Destination: "/sys/fs/cgroup", Device: "cgroup", Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		&configs.Mount{Source: hostDir, Destination: "/nosuid", Device: "bind", Flags: unix.MS_BIND | unix.MS_NOSUID | unix.MS_NOEXEC},
	)
	out := sh(t, cfg, `cat /proc/self/mountinfo; echo ===; cat /data/hello /etc/bound-file; `+
		`touch /ro/x 2>/dev/null && echo ro-writable; echo x > /data/written; `+
		`stat -c %a /scratch; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; true`)
	info, rest, _ := strings.Cut(out, "===")
	for _, m := range []struct{ dest, fstype, opt string }{
		{"/proc", "proc", "nosuid"},
		{"/dev", "tmpfs", "nosuid"},
		{"/dev/pts", "devpts", "noexec"},
		{"/dev/shm", "tmpfs", "nodev"},
		{"/dev/mqueue", "mqueue", "noexec"},
		{"/sys", "sysfs", "ro"},
		{"/ro", "", "ro"},
		{"/scratch", "tmpfs", "nosuid"},
		{"/nosuid", "", "noexec"},
	} {
		opts, fstype, ok := mountOpts(info, m.dest)
		if !ok {
			t.Errorf("no mount on %s", m.dest)
			continue
		}
		if m.fstype != "" && fstype != m.fstype {
			t.Errorf("%s is %s, want %s", m.dest, fstype, m.fstype)
		}
		if !strings.Contains(","+opts+",", ","+m.opt+",") {
			t.Errorf("%s has options %s, want %s", m.dest, opts, m.opt)
		}
	}
	if !strings.Contains(rest, "from the host\na file\n") {
		t.Errorf("bind mounts do not show the host's files: %q", rest)
	}
	if strings.Contains(rest, "ro-writable") {
		t.Error("the read-only bind is writable")
	}
	if b, err := os.ReadFile(filepath.Join(hostDir, "written")); err != nil || string(b) != "x\n" {
		t.Errorf("write through the bind mount did not reach the host: %q %v", b, err)
	}
	if !strings.Contains(rest, "\n700\n") {
		t.Errorf("tmpfs mode option not applied: %q", rest)
	}
	cgroupMounts := []struct{ dest, fstype string }{{"/sys/fs/cgroup", "tmpfs"}, {"/sys/fs/cgroup/pids", "cgroup"}}
	if cgroups.IsCgroup2UnifiedMode() {
		cgroupMounts = cgroupMounts[:1]
		cgroupMounts[0].fstype = "cgroup2"
	}
	for _, m := range cgroupMounts {
		opts, fstype, ok := mountOpts(info, m.dest)
		if !ok || fstype != m.fstype || !strings.HasPrefix(opts, "ro") {
			t.Errorf("cgroup mount %s: %s %s %v, want read-only %s", m.dest, fstype, opts, ok, m.fstype)
		}
	}
	if !strings.Contains(rest, "max\n") {
		t.Errorf("cgroup mount does not show the container's pids cgroup: %q", rest)
	}
}

func TestRecursiveReadonlyBind(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{
		Source: "/sys", Destination: "/hostsys", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC,
		RecAttr: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY},
	})
	out := sh(t, cfg, `cat /proc/self/mountinfo`)
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 5 && strings.HasPrefix(f[4], "/hostsys") && !strings.HasPrefix(f[5], "ro") {
			t.Errorf("%s is not read-only under rro: %s", f[4], f[5])
		}
	}
}

func TestMountPropagationDoesNotReachHost(t *testing.T) {
	before := itest.MountPoints(t, itest.TestMount)
	cfg := newConfig(t, busybox)
	sh(t, cfg, `mount -t tmpfs none /mnt && echo mounted`, func(p *libcontainer.Process) {
		p.Capabilities = &configs.Capabilities{Bounding: []string{"CAP_SYS_ADMIN"}, Effective: []string{"CAP_SYS_ADMIN"}, Permitted: []string{"CAP_SYS_ADMIN"}}
	})
	if d := itest.Diff(before, itest.MountPoints(t, itest.TestMount)); d != "" {
		t.Fatalf("a mount in the container reached the host: %s", d)
	}
}

func TestReadonlyRootfs(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Readonlyfs = true
	out := sh(t, cfg, `touch /x 2>&1; touch /dev/shm/ok && echo shm-writable`)
	if !strings.Contains(out, "Read-only file system") || !strings.Contains(out, "shm-writable") {
		t.Fatalf("got %q", out)
	}
}

func TestNoPivotRoot(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.NoPivotRoot = true
	out := sh(t, cfg, `ls /; cat /proc/self/mountinfo | head -1`)
	if !strings.Contains(out, "bin") || strings.Contains(out, "corral-test") {
		t.Fatalf("got %q", out)
	}
}

func TestMaskedAndReadonlyPaths(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.MaskPaths = append(cfg.MaskPaths, "/etc/hostname", "/home")
	cfg.ReadonlyPaths = append(cfg.ReadonlyPaths, "/var")
	out := sh(t, cfg, `echo "[$(cat /etc/hostname)]"; ls /home | wc -l; touch /home/x 2>&1; `+
		`touch /var/x 2>&1; cat /proc/keys | wc -c; (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1; true`)
	for _, want := range []string{"[]\n0\n", "/home/x: Read-only file system", "/var/x: Read-only file system", "\n0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "Read-only file system\n") {
		t.Errorf("/proc/sys is writable:\n%s", out)
	}
}

// skipUnlessIDMappable skips the test where the kernel cannot idmap a
// mount of dir's filesystem (tmpfs before Linux 6.3: the cgroup v2 VM's
// root filesystem): the probe is the kernel's own answer, an idmapped
// clone of dir with a user namespace of a child's.
func skipUnlessIDMappable(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("sleep", "10")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 1}},
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a process in a user namespace: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	tree, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		t.Fatalf("open_tree %s: %v", dir, err)
	}
	defer unix.Close(tree)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns.Fd())}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, attr); err != nil {
		t.Skipf("this kernel cannot idmap a mount of %s's filesystem: %v", dir, err)
	}
}

// TestIDMappedBind: a host directory owned by root, bound idmapped into a
// container whose root is host uid 100000, shows its files as root's
// instead of the overflow id.
func TestIDMappedBind(t *testing.T) {
	host := t.TempDir()
	// The container's root, an unprivileged host uid, must reach it.
	os.Chmod(filepath.Dir(host), 0o755)
	os.Chmod(host, 0o777)
	os.WriteFile(filepath.Join(host, "owned-by-root"), []byte("x"), 0o644)
	skipUnlessIDMappable(t, host)
	rootfs := newRootfs(t)
	if out, err := exec.Command("chown", "-R", "100000:100000", rootfs).CombinedOutput(); err != nil {
		t.Fatalf("chown rootfs: %v: %s", err, out)
	}
	cfg := newConfig(t, rootfs)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.Mounts = append(cfg.Mounts,
		&configs.Mount{Source: host, Destination: "/plain", Device: "bind", Flags: unix.MS_BIND},
		&configs.Mount{Source: host, Destination: "/mapped", Device: "bind", Flags: unix.MS_BIND,
			IDMapping: &configs.MountIDMapping{
				UIDMappings: []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
				GIDMappings: []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
			}},
	)
	out := sh(t, cfg, "stat -c %u /plain/owned-by-root /mapped/owned-by-root; touch /mapped/new && stat -c %u /mapped/new")
	if out != "65534\n0\n0\n" {
		t.Fatalf("owners %q, want 65534 (unmapped) then 0 and 0 (idmapped)", out)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(host, "new"), &st); err != nil || st.Uid != 0 {
		t.Fatalf("a file made through the idmapped mount is owned by %d on the host, want 0 (%v)", st.Uid, err)
	}
}

// TestIDMappedBindJoinedUserNamespace: "idmap" without mappings, in a
// container that joins the user namespace of another, maps as that
// namespace does (its mappings are the kernel's to know).
func TestIDMappedBindJoinedUserNamespace(t *testing.T) {
	host := t.TempDir()
	os.Chmod(filepath.Dir(host), 0o755)
	os.Chmod(host, 0o755)
	os.WriteFile(filepath.Join(host, "owned-by-root"), []byte("x"), 0o644)
	skipUnlessIDMappable(t, host)
	rootfs := userRootfs(t, "/mapped")
	owner := newConfig(t, rootfs)
	withUserns(owner)
	_, p := startLong(t, owner)
	pid, _ := p.Pid()
	cfg := newConfig(t, rootfs)
	cfg.Namespaces.Add(configs.NEWUSER, fmt.Sprintf("/proc/%d/ns/user", pid))
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: host, Destination: "/mapped", Device: "bind", Flags: unix.MS_BIND,
		IDMapping: &configs.MountIDMapping{}})
	if out := sh(t, cfg, "stat -c %u /mapped/owned-by-root"); out != "0\n" {
		t.Fatalf("owner %q, want 0: the mount is not mapped as the joined user namespace", out)
	}
}
