package criu

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/criu"
	"github.com/corral-oci/corral/libcontainer/specconv"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// libCgroupParent holds the cgroups of the library tests' containers.
const libCgroupParent = "corral-criu-lib-test"

// counter prints 1, 2, 3, ... one number a line, ten a second.
var counter = []string{"/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done"}

func randomID(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.NewReplacer("/", "-", "_", "-").Replace(strings.ToLower(t.Name()))
	return strings.TrimPrefix(name, "test") + "-" + hex.EncodeToString(b)
}

var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// newConfig is the usual container around the busybox rootfs: its own
// namespaces (cgroup included), the standard mounts and devices, masked
// and read-only paths, a cgroup.
func newConfig(t *testing.T) *configs.Config {
	t.Helper()
	flags := unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	cfg := &configs.Config{
		Rootfs:     busybox,
		Readonlyfs: true,
		Capabilities: &configs.Capabilities{
			Bounding: defaultCaps, Effective: defaultCaps, Permitted: defaultCaps,
		},
		Namespaces: configs.Namespaces{
			{Type: configs.NEWNS}, {Type: configs.NEWUTS}, {Type: configs.NEWIPC},
			{Type: configs.NEWPID}, {Type: configs.NEWNET}, {Type: configs.NEWCGROUP},
		},
		Cgroups: &configs.Cgroup{
			Name:      randomID(t),
			Parent:    libCgroupParent,
			Resources: &configs.Resources{},
		},
		Devices:       specconv.AllowedDevices,
		MaskPaths:     []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/acpi"},
		ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"},
		Hostname:      "criu",
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

// lineReader reads the numbers a counter prints, from the read end of its
// stdout pipe.
type lineReader struct {
	t     *testing.T
	r     *os.File
	lines chan string
	// seen is the last number read.
	seen int
}

func newLineReader(t *testing.T, r *os.File) *lineReader {
	lr := &lineReader{t: t, r: r, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lr.lines <- sc.Text()
		}
		close(lr.lines)
	}()
	t.Cleanup(func() { r.Close() })
	return lr
}

// next returns the next number, failing the test after 10s.
func (lr *lineReader) next() int {
	lr.t.Helper()
	select {
	case l, ok := <-lr.lines:
		if !ok {
			lr.t.Fatal("the counter's output ended")
		}
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			lr.t.Fatalf("counter printed %q", l)
		}
		lr.seen = n
		return n
	case <-time.After(10 * time.Second):
		lr.t.Fatal("the counter printed nothing for 10s")
	}
	return 0
}

// latest reads what the counter printed so far, without waiting for
// more, and returns the last number.
func (lr *lineReader) latest() int {
	lr.t.Helper()
	for {
		select {
		case l, ok := <-lr.lines:
			if !ok {
				return lr.seen
			}
			lr.seen, _ = strconv.Atoi(strings.TrimSpace(l))
		default:
			return lr.seen
		}
	}
}

// last drains the output until it ends and returns the last number.
func (lr *lineReader) last() int {
	lr.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lr.lines:
			if !ok {
				return lr.seen
			}
			lr.seen, _ = strconv.Atoi(strings.TrimSpace(l))
		case <-timeout:
			lr.t.Fatal("the counter's output did not end 20s after its checkpoint")
		}
	}
}

// pipe returns a pipe whose ends the test closes at its end.
func pipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// libEnv is a library test's state root and its leak checks.
type libEnv struct {
	t    *testing.T
	root string
	// keep accepts the host mount points the test could leave.
	keep   func(string) bool
	mounts []string
	fds    []string
}

// newLibEnv makes the test's state root; when the test ends (after its
// own cleanups), the leak checks run for the containers of cfgs.
func newLibEnv(t *testing.T, cfgs ...*configs.Config) *libEnv {
	t.Helper()
	requireCriu(t)
	e := &libEnv{t: t, root: t.TempDir(), fds: itest.OpenFDs(t)}
	e.keep = testMounts(filepath.Dir(e.root) + "/")
	e.mounts = itest.MountPoints(t, e.keep)
	t.Cleanup(func() { e.checkNoLeaks(cfgs...) })
	return e
}

// checkNoLeaks fails the test if a container left a mount, an fd, a state
// directory or a cgroup behind.
func (e *libEnv) checkNoLeaks(cfgs ...*configs.Config) {
	t := e.t
	if d := itest.Diff(e.mounts, itest.MountPoints(t, e.keep)); d != "" {
		t.Errorf("leaked mounts: %s", d)
	}
	if d := itest.Diff(e.fds, itest.OpenFDs(t)); d != "" {
		t.Errorf("leaked fds: %s", d)
	}
	if ents, _ := os.ReadDir(e.root); len(ents) > 0 {
		t.Errorf("left in the state root: %v", ents)
	}
	for _, cfg := range cfgs {
		rel := filepath.Join(cfg.Cgroups.Parent, cfg.Cgroups.Name)
		// The v1 hierarchies, and the v2 one of a cgroup v2 host.
		for _, p := range []string{"/sys/fs/cgroup/*/" + rel, "/sys/fs/cgroup/" + rel} {
			if leaked, _ := filepath.Glob(p); len(leaked) > 0 {
				t.Errorf("cgroups left behind: %v", leaked)
			}
		}
	}
}

// startCounter creates a container that runs the counter with its
// stdout into a pipe, and returns the container, its process and the
// reader of its output.
func (e *libEnv) startCounter(cfg *configs.Config) (*libcontainer.Container, *libcontainer.Process, *lineReader) {
	t := e.t
	t.Helper()
	c, err := libcontainer.Create(e.root, randomID(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, w := pipe(t)
	p := &libcontainer.Process{
		Args:   counter,
		Env:    []string{"PATH=/bin:/sbin:/usr/bin"},
		Stdout: w,
		Init:   true,
	}
	t.Cleanup(func() { c.Destroy(); p.Wait() })
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return c, p, newLineReader(t, r)
}

// restoreCounter restores c from dir with a new stdout pipe.
func (e *libEnv) restoreCounter(c *libcontainer.Container, dir string) (*libcontainer.Process, *lineReader) {
	t := e.t
	t.Helper()
	r, w := pipe(t)
	p := &libcontainer.Process{Stdout: w, Init: true}
	t.Cleanup(func() { c.Destroy(); p.Wait() })
	if err := c.Restore(p, &libcontainer.CriuOpts{ImagesDirectory: dir, CriuPath: criuPath}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return p, newLineReader(t, r)
}

// TestLibCheckpointRestore checkpoints a counter through the library,
// restores it into the same container, and finds it counting on from
// where it was: then the container works as any other (state, stats,
// exec, signal, destroy).
func TestLibCheckpointRestore(t *testing.T) {
	cfg := newConfig(t)
	e := newLibEnv(t, cfg)
	c, p, out := e.startCounter(cfg)
	for out.next() < 5 {
	}
	dir := t.TempDir()
	if err := c.Checkpoint(&libcontainer.CriuOpts{ImagesDirectory: dir, CriuPath: criuPath}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatalf("wait for the checkpointed init: %v", err)
	}
	last := out.last()
	if st, _ := c.Status(); st != libcontainer.Stopped {
		t.Fatalf("status after checkpoint: %s, want stopped", st)
	}

	rp, rout := e.restoreCounter(c, dir)
	if n := rout.next(); n != last+1 {
		t.Errorf("restored counter printed %d after %d", n, last)
	}
	if st, err := c.Status(); err != nil || st != libcontainer.Running {
		t.Fatalf("status after restore: %s, %v", st, err)
	}
	pid, err := rp.Pid()
	if err != nil {
		t.Fatal(err)
	}
	state, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	if state.InitProcessPid != pid {
		t.Errorf("state.json has init %d, the restored init is %d", state.InitProcessPid, pid)
	}
	if _, err := c.Stats(); err != nil {
		t.Errorf("stats of the restored container: %v", err)
	}
	r, w := pipe(t)
	ep := &libcontainer.Process{Args: []string{"/bin/hostname"}, Env: []string{"PATH=/bin"}, Stdout: w}
	if err := c.Run(ep); err != nil {
		t.Fatalf("exec in the restored container: %v", err)
	}
	w.Close()
	if _, err := ep.Wait(); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if strings.TrimSpace(string(b)) != "criu" {
		t.Errorf("exec hostname in the restored container: %q", b)
	}
	if err := c.Signal(unix.SIGKILL); err != nil {
		t.Fatalf("kill the restored container: %v", err)
	}
	if _, err := rp.Wait(); err != nil {
		t.Fatalf("wait for the restored init: %v", err)
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// TestLibNetworkNamespaceGone restores a container into the network
// namespace its config names by path, then deletes the namespace: the
// next restore fails, naming it, and leaves nothing behind.
func TestLibNetworkNamespaceGone(t *testing.T) {
	requireCriu(t)
	nsPath, deleteNS := addNetNS(t)
	cfg := newConfig(t)
	cfg.Namespaces.Add(configs.NEWNET, nsPath)
	cfg.Networks = nil
	e := newLibEnv(t, cfg)
	c, _, out := e.startCounter(cfg)
	for out.next() < 3 {
	}
	dir := t.TempDir()
	opts := &libcontainer.CriuOpts{ImagesDirectory: dir, CriuPath: criuPath}
	if err := c.Checkpoint(opts); err != nil {
		t.Fatal(err)
	}
	last := out.last()
	rp, rout := e.restoreCounter(c, dir)
	if n := rout.next(); n != last+1 {
		t.Errorf("restored counter printed %d after %d", n, last)
	}
	pid, _ := rp.Pid()
	var ns, got unix.Stat_t
	if err := unix.Stat(nsPath, &ns); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &got); err != nil {
		t.Fatal(err)
	}
	if got.Ino != ns.Ino {
		t.Errorf("the restored init is not in %s", nsPath)
	}
	dir = t.TempDir()
	opts.ImagesDirectory = dir
	if err := c.Checkpoint(opts); err != nil {
		t.Fatal(err)
	}
	rp.Wait()
	deleteNS()
	err := c.Restore(&libcontainer.Process{}, opts)
	if err == nil || !strings.Contains(err.Error(), "network namespace "+nsPath+" no longer exists") {
		t.Fatalf("restore into a deleted network namespace: %v", err)
	}
	if st, _ := c.Status(); st != libcontainer.Stopped {
		t.Errorf("status after the failed restore: %s", st)
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// TestLibPaused checkpoints a paused container and leaves it running: it
// stays paused, counts on once resumed, and its checkpoint restores into
// a second container.
func TestLibPaused(t *testing.T) {
	cfg, cfg2 := newConfig(t), newConfig(t)
	e := newLibEnv(t, cfg, cfg2)
	c, _, out := e.startCounter(cfg)
	for out.next() < 3 {
	}
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := c.Checkpoint(&libcontainer.CriuOpts{ImagesDirectory: dir, CriuPath: criuPath, LeaveRunning: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(); st != libcontainer.Paused {
		t.Errorf("status after checkpointing a paused container: %s", st)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	before := out.seen
	if n := out.next(); n != before+1 {
		t.Errorf("the resumed counter printed %d after %d", n, before)
	}
	c2, err := libcontainer.Create(e.root, randomID(t), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	_, out2 := e.restoreCounter(c2, dir)
	if n := out2.next(); n < 3 {
		t.Errorf("the restored copy printed %d", n)
	}
	if err := c2.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// TestLibNoCriu checks the library's error for a missing criu.
func TestLibNoCriu(t *testing.T) {
	cfg := newConfig(t)
	e := newLibEnv(t, cfg)
	c, _, out := e.startCounter(cfg)
	out.next()
	err := c.Checkpoint(&libcontainer.CriuOpts{ImagesDirectory: t.TempDir(), CriuPath: "/nonexistent/criu"})
	if !errors.Is(err, criu.ErrNotFound) {
		t.Errorf("checkpoint with a missing criu: %v, want criu.ErrNotFound", err)
	}
	if st, _ := c.Status(); st != libcontainer.Running {
		t.Errorf("status after the failed checkpoint: %s", st)
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// TestLibTerminal restores a container whose init has a terminal: without
// a console socket (or a terminal for stdio) the restore says what it
// needs; with one, the new terminal's master arrives there.
func TestLibTerminal(t *testing.T) {
	cfg := newConfig(t)
	e := newLibEnv(t, cfg)
	c, err := libcontainer.Create(e.root, randomID(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sock, peer := socketpair(t)
	p := &libcontainer.Process{Args: counter, Env: []string{"PATH=/bin"}, ConsoleSocket: peer, Init: true}
	t.Cleanup(func() { c.Destroy(); p.Wait() })
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	out := newLineReader(t, recvMaster(t, sock))
	for out.next() < 3 {
	}
	dir := t.TempDir()
	opts := &libcontainer.CriuOpts{ImagesDirectory: dir, CriuPath: criuPath}
	if err := c.Checkpoint(opts); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	last := out.last()

	err = c.Restore(&libcontainer.Process{}, opts)
	if err == nil || !strings.Contains(err.Error(), "was a terminal") || !strings.Contains(err.Error(), "console socket") {
		t.Fatalf("restore of a terminal without a console socket: %v", err)
	}
	sock, peer = socketpair(t)
	rp := &libcontainer.Process{ConsoleSocket: peer}
	t.Cleanup(func() { c.Destroy(); rp.Wait() })
	if err := c.Restore(rp, opts); err != nil {
		t.Fatal(err)
	}
	out = newLineReader(t, recvMaster(t, sock))
	if n := out.next(); n != last+1 {
		t.Errorf("the restored counter printed %d on its new terminal after %d", n, last)
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// socketpair returns two connected unix sockets, closed when the test
// ends.
func socketpair(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "console-recv"), os.NewFile(uintptr(fds[1]), "console-socket")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// recvMaster receives the pty master sent over the console socket.
func recvMaster(t *testing.T, sock *os.File) *os.File {
	t.Helper()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(itest.OneFD(t, oob[:oobn])), "pty-master")
}
