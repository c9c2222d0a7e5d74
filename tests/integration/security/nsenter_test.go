package security

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// The C bootstrap against runc's nsexec.c (issue 17) and the namespace
// points of issue 18: what runc does that corral's bootstrap got wrong.

// TestNegativeOomScoreAdjInUserNamespace: a process may lower its
// oom_score_adj only with CAP_SYS_RESOURCE over the initial user
// namespace. Init wrote it after joining its user namespace, where it
// has none, and every container with both failed to start. The runtime
// writes it now, while the child waits at its bootstrap; exec'd
// processes get it too.
func TestNegativeOomScoreAdjInUserNamespace(t *testing.T) {
	guardMounts(t)
	if !hasCapability(unix.CAP_SYS_RESOURCE) {
		t.Skip("this test process lacks CAP_SYS_RESOURCE: no runtime here may set a negative oom_score_adj")
	}
	cfg := newConfig(t, busybox)
	userns(cfg)
	cfg.OomScoreAdj = ptr(-500)
	c, _, _ := startScript(t, cfg, "sleep 1000")
	out, _, err := execIn(t, c, []string{"cat", "/proc/self/oom_score_adj", "/proc/1/oom_score_adj"})
	if err != nil {
		t.Fatal(err)
	}
	if out != "-500\n-500\n" {
		t.Errorf("oom_score_adj of the exec'd process and init: %q, want -500 for both", out)
	}
}

// hasCapability reports whether this process has capability c in its
// effective set.
func hasCapability(c int) bool {
	for _, l := range strings.Split(readFile("/proc/self/status"), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			var caps uint64
			fmt.Sscanf(strings.TrimSpace(v), "%x", &caps)
			return caps&(1<<uint(c)) != 0
		}
	}
	return false
}

// TestHostNetworkWithUserNamespace: a container in a user namespace of
// its own that shares the host's network namespace (as rootless engines
// and some pods do). Joining it, an exec'd process must join the network
// namespace while it still has the runtime's privileges over the host's
// user namespace, which owns it: the bootstrap joined the user namespace
// first, and the network namespace was then refused (EPERM). runc joins
// those the user namespace does not own first.
func TestHostNetworkWithUserNamespace(t *testing.T) {
	guardMounts(t)
	cfg := newConfig(t, busybox)
	userns(cfg)
	hostNet := fmt.Sprintf("/proc/%d/ns/net", os.Getpid())
	cfg.Namespaces.Remove(configs.NEWNET)
	cfg.Namespaces.Add(configs.NEWNET, hostNet)
	cfg.Networks = nil
	want, err := os.Readlink(hostNet)
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ := startScript(t, cfg, "sleep 1000")
	out, code, err := execIn(t, c, []string{"readlink", "/proc/self/ns/net"})
	if err != nil || code != 0 {
		t.Fatalf("exec into a container with the host's network namespace and a user namespace: exit %d, %v: %s", code, err, out)
	}
	if strings.TrimSpace(out) != want {
		t.Errorf("the exec'd process is in network namespace %s, want the host's %s", strings.TrimSpace(out), want)
	}
}

// TestTimeOffsetsInUserNamespace (issue 18): a new time namespace with
// offsets in a new user namespace. Only a process with CAP_SYS_TIME over
// the time namespace's owner, opening the file as such, may write its
// offsets, and the file belongs to the host's root: the child got
// "permission denied". The runtime writes them now, as runc does; an
// exec'd process joins the namespace and sees them.
func TestTimeOffsetsInUserNamespace(t *testing.T) {
	guardMounts(t)
	cfg := newConfig(t, busybox)
	userns(cfg)
	cfg.Namespaces.Add(configs.NEWTIME, "")
	cfg.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 86400 * 3}, "boottime": {Secs: 7, Nanosecs: 5}}
	c, _, out := startScript(t, cfg, "cat /proc/self/timens_offsets; sleep 1000")
	const want = "monotonic 259200 0 boottime 7 5"
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if !itest.WaitFor(5*time.Second, func() bool { return norm(out.String()) == want }) {
		t.Fatalf("init's time offsets: %q, want %q", out.String(), want)
	}
	got, _, err := execIn(t, c, []string{"cat", "/proc/self/timens_offsets"})
	if err != nil {
		t.Fatal(err)
	}
	if norm(got) != want {
		t.Errorf("an exec'd process's time offsets: %q, want %q", got, want)
	}
}

// TestParentDeathInUserNamespaceWithoutPidNamespace: with no pid
// namespace there is no fork, and the bootstrap itself becomes init. It
// changes its ids to root's of its user namespace, which clears the
// parent-death signal, and so a runtime killed during the setup left init
// running: here through a createContainer hook of 30 s. The signal is
// set again now, and init dies with the runtime.
func TestParentDeathInUserNamespaceWithoutPidNamespace(t *testing.T) {
	guardMounts(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	for p := filepath.Dir(dir); p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	marker := filepath.Join(dir, "hook-running")
	cfg := newConfig(t, busybox)
	userns(cfg)
	cfg.Namespaces.Remove(configs.NEWPID)
	removeMount(cfg, "/proc") // a new procfs needs a pid namespace of the user namespace's
	cfg.Hooks = configs.Hooks{configs.CreateContainer: {configs.NewCommandHook(configs.Command{
		Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker + "; exec sleep 30"},
	})}}
	root, id := t.TempDir(), randomID(t)
	job := runtimeJob{Root: root, ID: id, Config: cfg, Init: []string{"true"}, Output: filepath.Join(dir, "out")}
	b, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	jobFile := filepath.Join(dir, "job.json")
	if err := os.WriteFile(jobFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	runtime := exec.Command(exe)
	runtime.Env = append(os.Environ(), envRole+"="+roleRuntime, envJob+"="+jobFile)
	if err := runtime.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// The hook and anything else left in the container's cgroup.
		if c, err := libcontainer.Load(root, id); err == nil {
			c.SignalAll(unix.SIGKILL)
			c.Destroy()
		}
	}()
	if !itest.WaitFor(20*time.Second, func() bool { _, err := os.Stat(marker); return err == nil }) {
		runtime.Process.Kill()
		runtime.Wait()
		t.Fatalf("the createContainer hook did not run: %s", readFile(job.Output))
	}
	// The runtime records init while init sets up, and holds the
	// container's lock: its state file, not Load, says who init is.
	var st struct {
		InitProcessPid int `json:"init_process_pid"`
	}
	if !itest.WaitFor(5*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(root, id, "state.json"))
		return err == nil && json.Unmarshal(b, &st) == nil && st.InitProcessPid > 0
	}) {
		runtime.Process.Kill()
		runtime.Wait()
		t.Fatal("the runtime recorded no init")
	}
	pidfd, err := unix.PidfdOpen(st.InitProcessPid, 0)
	if err != nil {
		t.Fatalf("pidfd of init %d: %v", st.InitProcessPid, err)
	}
	defer unix.Close(pidfd)
	runtime.Process.Kill()
	runtime.Wait()
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if n, _ := unix.Poll(fds, 3000); n != 1 {
		t.Errorf("init %d outlived its runtime by 3 s: it lost its parent-death signal", st.InitProcessPid)
	}
}

// TestCreatedInitHoldsNoCallerFDs (issue 17 point 7): fds the caller of
// create had open without close-on-exec (a shell's redirections, an
// engine's pipes) are passed on by os/exec to init, which held them
// until start: a process of the container allowed to ptrace it reached
// them through /proc/1/fd. The bootstrap closes every fd above the
// runtime's own before it joins anything.
func TestCreatedInitHoldsNoCallerFDs(t *testing.T) {
	guardMounts(t)
	hostDir := t.TempDir()
	// Not close-on-exec: as a caller's shell would hold it.
	fd, err := unix.Open(hostDir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Far above the runtime's own, and one just above them.
	const high = 200
	if err := unix.Dup3(fd, high, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	defer unix.Close(high)
	cfg := newConfig(t, busybox)
	c, err := libcontainer.Create(t.TempDir(), randomID(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	p := &libcontainer.Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}, Init: true}
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	st, err := c.OCIState()
	if err != nil || st.Status != "created" {
		t.Fatalf("state %+v, %v", st, err)
	}
	for _, l := range initFDs(t, st.Pid) {
		if strings.Contains(l, hostDir) {
			t.Errorf("the created container's init holds the caller's %s", l)
		}
	}
}

// initFDs lists "N -> target" for every fd of pid.
func initFDs(t *testing.T, pid int) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil {
			out = append(out, e.Name()+" -> "+l)
		}
	}
	return out
}
