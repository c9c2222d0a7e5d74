package security

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/specconv"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// cgroupParent holds every test container's cgroup.
const cgroupParent = "corral-test"

// newRootfs copies the busybox rootfs for a test that changes it: most
// attacks plant something in the image.
func newRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", busybox, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	// t.TempDir's directories are 0700: let the root of a user
	// namespace (another host uid) reach the rootfs.
	for p := filepath.Dir(dir); p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	return dir
}

var unsafeID = regexp.MustCompile(`[^a-z0-9_.-]+`)

// randomID names a container (and its cgroup) after the test.
func randomID(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	name := unsafeID.ReplaceAllString(strings.ToLower(t.Name()), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return "sec-" + name + "-" + hex.EncodeToString(b)
}

var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// newConfig is the usual container: its own mount, uts, ipc, pid and
// network namespaces, the standard mounts and devices, masked and
// read-only paths, a cgroup.
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
		MaskPaths:     []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"},
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
	for _, d := range specconv.AllowedDevices {
		cfg.Cgroups.Resources.Devices = append(cfg.Cgroups.Resources.Devices, &d.Rule)
	}
	return cfg
}

// removeMount drops the config's mount on dest, as configs without a /dev
// tmpfs (where the image's /dev is used) do.
func removeMount(cfg *configs.Config, dest string) {
	var kept []*configs.Mount
	for _, m := range cfg.Mounts {
		if m.Destination != dest {
			kept = append(kept, m)
		}
	}
	cfg.Mounts = kept
}

// userns gives cfg a user namespace mapping root to host uid 100000.
func userns(cfg *configs.Config) {
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
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
		st, err = waitTimeout(p, 20*time.Second)
		if st != nil {
			res.Code = itest.ExitCode(st)
		}
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if derr := c.Destroy(); derr != nil {
		t.Errorf("destroy: %v", derr)
	}
	checkNoLeaks(t, before, root, id, cfg)
	return res, err
}

// errHung is waitTimeout's error for a process it had to kill.
var errHung = errors.New("the process hung and was killed")

// waitTimeout waits for p, killing it if it outlives d: an attack that
// makes a container hang must fail the test, not stall it.
func waitTimeout(p *libcontainer.Process, d time.Duration) (*os.ProcessState, error) {
	type waited struct {
		st  *os.ProcessState
		err error
	}
	ch := make(chan waited, 1)
	go func() {
		st, err := p.Wait()
		ch <- waited{st, err}
	}()
	select {
	case w := <-ch:
		return w.st, w.err
	case <-time.After(d):
		p.Signal(unix.SIGKILL)
		w := <-ch
		return w.st, errHung
	}
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

// startScript starts a container running a shell script and destroys it,
// checking for leftovers, when the test ends. Its output goes to the
// returned buffer.
func startScript(t *testing.T, cfg *configs.Config, script string) (*libcontainer.Container, *libcontainer.Process, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	p := &libcontainer.Process{Args: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/bin"}, Stdout: out, Stderr: out, Init: true}
	c := startProcess(t, cfg, p)
	return c, p, out
}

// startProcess creates a container and runs p as its init; the container
// is destroyed, and checked for leftovers, when the test ends.
func startProcess(t *testing.T, cfg *configs.Config, p *libcontainer.Process) *libcontainer.Container {
	t.Helper()
	root := t.TempDir()
	before := snapshot(t)
	id := randomID(t)
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(p); err != nil {
		c.Destroy()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
		if _, err := waitTimeout(p, 10*time.Second); errors.Is(err, errHung) {
			t.Error("init outlived Destroy")
		}
		checkNoLeaks(t, before, root, id, cfg)
	})
	return c
}

// execIn runs args as an extra process in c and returns its output and
// exit code.
func execIn(t *testing.T, c *libcontainer.Container, args []string, opts ...runOpts) (string, int, error) {
	t.Helper()
	var out bytes.Buffer
	p := &libcontainer.Process{Args: args, Env: []string{"PATH=/bin:/usr/bin"}, Stdout: &out, Stderr: &out}
	for _, o := range opts {
		o(p)
	}
	if err := c.Run(p); err != nil {
		return "", -1, err
	}
	st, err := waitTimeout(p, 20*time.Second)
	if err != nil {
		return out.String(), -1, err
	}
	return out.String(), itest.ExitCode(st), nil
}

// hostState is what a container could leak on the host.
type hostState struct {
	mounts []string
	fds    []string
}

func snapshot(t *testing.T) hostState {
	t.Helper()
	return hostState{mounts: itest.MountPoints(t, nil), fds: itest.OpenFDs(t)}
}

// checkNoLeaks fails the test if the container left a mount, an fd, a
// state directory or a cgroup behind.
func checkNoLeaks(t *testing.T, before hostState, root, id string, cfg *configs.Config) {
	t.Helper()
	after := snapshot(t)
	if d := ourMounts(t, itest.Diff(before.mounts, after.mounts)); d != "" {
		t.Errorf("leaked host mounts: %s", d)
	}
	if d := itest.Diff(before.fds, after.fds); d != "" {
		t.Errorf("leaked fds: %s", d)
	}
	if _, err := os.Stat(filepath.Join(root, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory %s left behind (%v)", filepath.Join(root, id), err)
	}
	if cfg.Cgroups != nil && cfg.Cgroups.Name != "" {
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

// guardMounts checks, when the test ends, that the host has no mount it
// did not have when the test began: no attack of the test put one there.
// Call it first so that it runs after every other cleanup.
func guardMounts(t *testing.T) {
	t.Helper()
	before := itest.MountPoints(t, nil)
	t.Cleanup(func() {
		if d := ourMounts(t, itest.Diff(before, itest.MountPoints(t, nil))); d != "" {
			t.Errorf("the host has new mounts after the test: %s", d)
		}
	})
}

// ourMounts keeps, of a list of new host mount points, those a container
// of these tests could have made: on this package's test directories
// (t.TempDir of TestCVE_* and TestSeccomp*), its private rootfs, or a
// top-level host directory (/, /tmp, /etc, ...), where the attacks aim.
// This host is shared, and other programs (container engines, other test
// packages) mount elsewhere while the tests run; those are logged, not
// failed.
func ourMounts(t *testing.T, list string) string {
	t.Helper()
	var ours []string
	for _, p := range strings.Split(list, ", ") {
		switch {
		case p == "":
		case strings.HasPrefix(p, filepath.Join(os.TempDir(), "TestCVE_")),
			strings.HasPrefix(p, filepath.Join(os.TempDir(), "TestSeccomp")),
			strings.HasPrefix(p, workDir),
			strings.Count(p, "/") <= 1:
			ours = append(ours, p)
		default:
			t.Logf("ignoring a new host mount that is not on a path of these tests: %s", p)
		}
	}
	return strings.Join(ours, ", ")
}

// ownCgroup is the cgroup of this process in the v1 hierarchies (or v2):
// a relative cgroup path lands below it.
func ownCgroup() string {
	b, _ := os.ReadFile("/proc/self/cgroup")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 && (f[1] == "pids" || f[0] == "0" && cgroups.IsCgroup2UnifiedMode()) {
			return f[2]
		}
	}
	return ""
}

// socketpair returns two connected unix stream sockets.
func socketpair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child"), nil
}

// recvFile receives a file sent with SCM_RIGHTS and the bytes sent with
// it.
func recvFile(sock *os.File) (*os.File, []byte, error) {
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, nil, errors.New("no control message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, nil, errors.New("no fd")
	}
	return os.NewFile(uintptr(fds[0]), "received"), buf[:n], nil
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func ptr[T any](v T) *T { return &v }

// statusField returns a field of /proc/<pid>/status text.
func statusField(out, field string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// readFile returns a file's content, or "<error>" text, for comparisons.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

var (
	syscallerOnce sync.Once
	syscallerPath string
	syscallerErr  error
)

// installSyscaller builds testdata/syscaller once per run, static so it
// needs nothing from the image, and copies it to /bin/syscaller of the
// rootfs.
func installSyscaller(t *testing.T, rootfs string) {
	t.Helper()
	syscallerOnce.Do(func() {
		syscallerPath = filepath.Join(workDir, "syscaller")
		cmd := exec.Command("go", "build", "-o", syscallerPath, "./testdata/syscaller")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			syscallerErr = errors.New("build testdata/syscaller: " + err.Error() + "\n" + string(out))
		}
	})
	if syscallerErr != nil {
		t.Fatal(syscallerErr)
	}
	copyFile(t, syscallerPath, filepath.Join(rootfs, "bin", "syscaller"), 0o755)
}

// copyFile copies src to dst with mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// itoa is strconv.Itoa, for building scripts.
func itoa(i int) string { return strconv.Itoa(i) }
