package lib

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/specconv"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// cgroupParent holds every test container's cgroup.
const cgroupParent = "corral-test"

// systemdCgroup gives the test containers the systemd cgroup driver: a
// scope corral-test-ID.scope in system.slice. The systemd VM lane
// (tests/vm/systemd.sh) sets CORRAL_TEST_SYSTEMD_CGROUP=1.
var systemdCgroup = os.Getenv("CORRAL_TEST_SYSTEMD_CGROUP") == "1"

// systemdScopePrefix names the test containers' scopes.
const systemdScopePrefix = "corral-test"

// newRootfs copies the busybox rootfs for a test that changes it.
func newRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", busybox, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	return dir
}

func randomID(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-") + "-" + hex.EncodeToString(b)
}

var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// newConfig is the usual container: its own mount, uts, ipc, pid and
// network namespaces, the standard mounts and devices, a cgroup.
func newConfig(t *testing.T, rootfs string) *configs.Config {
	t.Helper()
	flags := unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	cfg := &configs.Config{
		Rootfs: rootfs,
		Capabilities: &configs.Capabilities{
			Bounding:  defaultCaps,
			Effective: defaultCaps,
			Permitted: defaultCaps,
		},
		Namespaces: configs.Namespaces{
			{Type: configs.NEWNS}, {Type: configs.NEWUTS}, {Type: configs.NEWIPC},
			{Type: configs.NEWPID}, {Type: configs.NEWNET},
		},
		Cgroups: &configs.Cgroup{
			Name:      randomID(t),
			Parent:    cgroupParent,
			Resources: &configs.Resources{},
		},
		Devices:       specconv.AllowedDevices,
		MaskPaths:     []string{"/proc/kcore", "/proc/keys", "/sys/firmware"},
		ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"},
		Hostname:      "corral",
		Mounts: []*configs.Mount{
			{Source: "proc", Destination: "/proc", Device: "proc", Flags: flags},
			{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755"},
			{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"},
			{Source: "shm", Destination: "/dev/shm", Device: "tmpfs", Flags: flags, Data: "mode=1777,size=65536k"},
			{Source: "mqueue", Destination: "/dev/mqueue", Device: "mqueue", Flags: flags},
			{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: flags | unix.MS_RDONLY},
		},
		Networks: []*configs.Network{{Type: "loopback"}},
	}
	if systemdCgroup {
		cfg.Cgroups.Systemd = true
		cfg.Cgroups.Parent = "system.slice"
		cfg.Cgroups.ScopePrefix = systemdScopePrefix
	}
	for _, d := range specconv.AllowedDevices {
		cfg.Cgroups.Resources.Devices = append(cfg.Cgroups.Resources.Devices, &d.Rule)
	}
	return cfg
}

// systemdUnit is the unit of a container of the systemd driver.
func systemdUnit(cg *configs.Cgroup) string {
	return cg.ScopePrefix + "-" + cg.Name + ".scope"
}

// result is what a container's program did.
type result struct {
	Stdout, Stderr string
	Code           int
}

// runOpts tweak the process a test runs.
type runOpts func(*libcontainer.Process)

// run creates a container from cfg, runs args in it, waits and destroys
// it, and checks that nothing was left behind.
func run(t *testing.T, cfg *configs.Config, args []string, opts ...runOpts) (result, error) {
	t.Helper()
	root := t.TempDir()
	before := snapshot(t)
	id := randomID(t)
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		checkNoLeaks(t, before, root, id, cfg)
		return result{}, err
	}
	var stdout, stderr bytes.Buffer
	p := &libcontainer.Process{
		Args:   args,
		Env:    []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		Stdout: &stdout,
		Stderr: &stderr,
		Init:   true,
	}
	for _, o := range opts {
		o(p)
	}
	err = c.Run(p)
	res := result{Code: -1}
	if err == nil {
		var st *os.ProcessState
		st, err = p.Wait()
		if st != nil {
			res.Code = itest.ExitCode(st)
		}
	} else if _, perr := p.Pid(); perr == nil {
		// Created, then start failed: init exits and its stdio closes
		// once waited for.
		p.Wait()
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if derr := c.Destroy(); derr != nil {
		t.Errorf("destroy: %v", derr)
	}
	checkNoLeaks(t, before, root, id, cfg)
	return res, err
}

// mustRun is run for a program that must succeed.
func mustRun(t *testing.T, cfg *configs.Config, args []string, opts ...runOpts) string {
	t.Helper()
	res, err := run(t, cfg, args, opts...)
	if err != nil {
		t.Fatalf("run %q: %v", args, err)
	}
	if res.Code != 0 {
		t.Fatalf("run %q: exit %d\nstdout: %s\nstderr: %s", args, res.Code, res.Stdout, res.Stderr)
	}
	return res.Stdout
}

// sh runs a shell script in the container and returns its output.
func sh(t *testing.T, cfg *configs.Config, script string, opts ...runOpts) string {
	t.Helper()
	return mustRun(t, cfg, []string{"/bin/sh", "-c", script}, opts...)
}

// hostState is what a container could leak on the host.
type hostState struct {
	mounts   []string
	fds      []string
	children []string
}

func snapshot(t *testing.T) hostState {
	t.Helper()
	return hostState{mounts: itest.MountPoints(t, itest.TestMount), fds: itest.OpenFDs(t), children: children(t)}
}

// children lists our child processes that are not zombies waiting to be
// reaped by a test.
func children(t *testing.T) []string {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/children")
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// checkNoLeaks fails the test if the container left a mount, an fd, a
// state directory or a cgroup behind.
func checkNoLeaks(t *testing.T, before hostState, root, id string, cfg *configs.Config) {
	t.Helper()
	after := snapshot(t)
	if d := itest.Diff(before.mounts, after.mounts); d != "" {
		t.Errorf("leaked mounts: %s", d)
	}
	if d := itest.Diff(before.fds, after.fds); d != "" {
		t.Errorf("leaked fds: %s", d)
	}
	if _, err := os.Stat(filepath.Join(root, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory %s left behind (%v)", filepath.Join(root, id), err)
	}
	if cg := cfg.Cgroups; cg != nil && cg.Systemd {
		if dir := cgroupDir(cfg); dirExists(dir) {
			t.Errorf("cgroup left behind: %s", dir)
		}
		if out, err := exec.Command("systemctl", "list-units", "--all", "--no-legend", systemdUnit(cg)).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("unit %s left behind: %s (%v)", systemdUnit(cg), out, err)
		}
	} else if cfg.Cgroups != nil && cfg.Cgroups.Name != "" {
		rel := filepath.Join(cfg.Cgroups.Parent, cfg.Cgroups.Name)
		var leaked []string
		for _, pattern := range []string{"/sys/fs/cgroup/", "/sys/fs/cgroup/*/"} {
			for _, base := range []string{"", ownCgroup()} {
				m, _ := filepath.Glob(pattern + base + "/" + rel)
				leaked = append(leaked, m...)
			}
		}
		if len(leaked) > 0 {
			t.Errorf("cgroups left behind: %v", leaked)
		}
	}
}

// ownCgroup is the cgroup of this process in the v1 hierarchies: a
// relative cgroup path lands below it.
func ownCgroup() string {
	b, _ := os.ReadFile("/proc/self/cgroup")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 && (f[1] == "pids" || f[0] == "0" && cgroups.IsCgroup2UnifiedMode()) {
			return f[2]
		}
	}
	return ""
}

// cgroupDir is where the pids cgroup of a test container lives on this
// host, v1 or v2.
func cgroupDir(cfg *configs.Config) string {
	if cfg.Cgroups.Systemd {
		return filepath.Join("/sys/fs/cgroup", cfg.Cgroups.Parent, systemdUnit(cfg.Cgroups))
	}
	base := "/sys/fs/cgroup/pids"
	if cgroups.IsCgroup2UnifiedMode() {
		base = "/sys/fs/cgroup"
	}
	return filepath.Join(base, ownCgroup(), cfg.Cgroups.Parent, cfg.Cgroups.Name)
}

type specsOffset = specs.LinuxTimeOffset

// socketpair returns two connected unix stream sockets.
func socketpair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child"), nil
}

// recvFile receives a file sent with SCM_RIGHTS.
func recvFile(sock *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), name, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("no control message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("no fd")
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}

func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

// readFile returns a file's content; a missing file fails the test.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
