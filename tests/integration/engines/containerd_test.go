package engines

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// containerdImage is the name the test image is imported under.
const containerdImage = "docker.io/library/corral-busybox:test"

// containerd is a containerd daemon of the test's own: its root, state,
// sockets and log are under dir, and it stops with the test.
type containerd struct {
	t    *testing.T
	dir  string
	sock string
	ns   string
	// runcRoot is the --root the shim passes to corral (ctr run
	// --runc-root): corral's state root for this namespace is
	// runcRoot/ns.
	runcRoot string
	logPath  string
	cmd      *exec.Cmd
	exited   chan struct{}
	// ids are the containers the test and its subtests made, for
	// cleanup.
	ids *[]string
	// cgroupRoot is the cgroup (relative to a hierarchy's root) that
	// holds every cgroup the daemon's containers get, removed at the
	// end; none when empty (a client of the daemon owns them).
	cgroupRoot string
	// runtime is the binary the shim runs as runc: corral, or a
	// wrapper of it (bundles_test.go).
	runtime string
}

// startContainerd starts containerd with the CRI plugin disabled and
// everything under a temporary directory, waits for its socket, and
// registers its stop (and the removal of all it made) as a cleanup.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	c := newContainerd(t, "corraltest-"+hex.EncodeToString(b))
	c.cgroupRoot = c.ns
	c.start("")
	return c
}

// newContainerd prepares a containerd whose containers live in namespace
// ns, under a temporary directory, and registers the cleanup of all it
// will make; start starts it.
func newContainerd(t *testing.T, ns string) *containerd {
	t.Helper()
	// Socket paths must fit in 108 bytes: a short directory of our own.
	dir, err := os.MkdirTemp("", "corral-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerd{
		t:        t,
		dir:      dir,
		sock:     filepath.Join(dir, "containerd.sock"),
		ns:       ns,
		runcRoot: filepath.Join(dir, "runc"),
		logPath:  filepath.Join(dir, "containerd.log"),
		exited:   make(chan struct{}),
		ids:      new([]string),
		runtime:  corralBin,
	}
	t.Cleanup(c.cleanup)
	return c
}

// start writes containerd's configuration and starts it. cri is the
// configuration of the CRI plugin (TOML tables under
// plugins."io.containerd.grpc.v1.cri"); without it the plugin is
// disabled.
func (c *containerd) start(cri string) {
	t := c.t
	t.Helper()
	dir := c.dir
	disabled := `disabled_plugins = ["io.containerd.grpc.v1.cri"]`
	if cri != "" {
		disabled = ""
	}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
%s

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), disabled, c.sock, c.sock+".ttrpc", filepath.Join(dir, "opt"))
	config += cri
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(c.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	c.cmd = exec.Command("containerd", "--config", cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	// Its own process group: a ^C of the test run is the test's to
	// handle, and the cleanup stops the daemon.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start containerd: %v", err)
	}
	go func() {
		c.cmd.Wait()
		close(c.exited)
	}()
	ready := itest.WaitFor(20*time.Second, func() bool {
		select {
		case <-c.exited:
			return true
		default:
		}
		conn, err := net.Dial("unix", c.sock)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
	select {
	case <-c.exited:
		t.Fatalf("containerd exited at start: %v\n%s", c.cmd.ProcessState, c.log())
	default:
	}
	if !ready {
		t.Fatalf("containerd's socket %s is not there after 20s\n%s", c.sock, c.log())
	}
}

// ctr runs ctr against the test's containerd and namespace.
func (c *containerd) ctr(args ...string) itest.Result {
	return c.ctrInput("", args...)
}

// ctrInput is ctr with input on its stdin.
func (c *containerd) ctrInput(input string, args ...string) itest.Result {
	return runCmdInput(input, cmdTimeout, nil, "ctr", append([]string{"--address", c.sock, "--namespace", c.ns}, args...)...)
}

// must runs ctr and fails the test, with the logs, unless it succeeds.
func (c *containerd) must(id string, args ...string) itest.Result {
	c.t.Helper()
	r := c.ctr(args...)
	if r.Code != 0 {
		c.fatal(id, r, "ctr failed")
	}
	return r
}

// fatal fails the test with what went wrong, the command r and what the
// logs say about container id.
func (c *containerd) fatal(id string, r itest.Result, format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("%s\n%s\n%s", fmt.Sprintf(format, args...), r, c.logs(id))
}

// log is the tail of containerd's log.
func (c *containerd) log() string {
	b, _ := os.ReadFile(c.logPath)
	const max = 8000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return fmt.Sprintf("--- containerd log (%s, tail) ---\n%s", c.logPath, b)
}

// bundle is the task's bundle directory, where the shim keeps log.json:
// the shim's and corral's log lines.
func (c *containerd) bundle(id string) string {
	return filepath.Join(c.dir, "state", "io.containerd.runtime.v2.task", c.ns, id)
}

// logs is what the logs say about container id: the shim's and corral's
// log.json in the task's bundle, and containerd's log.
func (c *containerd) logs(id string) string {
	var s strings.Builder
	if id != "" {
		p := filepath.Join(c.bundle(id), "log.json")
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(&s, "--- %s: %v\n", p, err)
		} else {
			fmt.Fprintf(&s, "--- %s ---\n%s\n", p, b)
		}
	}
	s.WriteString(c.log())
	return s.String()
}

// newID returns a container id unique to this run, to be cleaned up.
func (c *containerd) newID(name string) string {
	b := make([]byte, 3)
	rand.Read(b)
	id := name + "-" + hex.EncodeToString(b)
	*c.ids = append(*c.ids, id)
	return id
}

// run is the command line of ctr run with flag (--rm or --detach) that
// runs args in the test image as container id, with corral.
func (c *containerd) run(flag, id string, args ...string) []string {
	out := append([]string{"run", flag}, c.runFlags()...)
	return append(append(out, containerdImage, id), args...)
}

// runFlags are the flags of ctr run that make the shim drive corral,
// and keep ctr's fifos out of /run/containerd/fifo.
func (c *containerd) runFlags() []string {
	return []string{"--runc-binary", c.runtime, "--runc-root", c.runcRoot, "--fifo-dir", c.fifoDir()}
}

// exec runs a process in task id through ctr task exec; args are ctr's,
// from its flags on.
func (c *containerd) exec(execID string, args ...string) itest.Result {
	return c.execInput("", execID, args...)
}

// execInput is exec with input on ctr's stdin, which it passes on.
func (c *containerd) execInput(input, execID string, args ...string) itest.Result {
	return c.ctrInput(input, append([]string{"task", "exec", "--fifo-dir", c.fifoDir(), "--exec-id", execID}, args...)...)
}

// mustExec is exec that must succeed.
func (c *containerd) mustExec(id, execID string, args ...string) itest.Result {
	c.t.Helper()
	r := c.exec(execID, args...)
	if r.Code != 0 {
		c.fatal(id, r, "ctr failed")
	}
	return r
}

// fifoDir holds the fifos of the tasks' and processes' stdio.
func (c *containerd) fifoDir() string { return filepath.Join(c.dir, "fifo") }

// taskStatus is the task's STATUS column of ctr task ls, and its pid.
func (c *containerd) taskStatus(id string) (status string, pid int) {
	r := c.ctr("task", "ls")
	for _, l := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return f[2], pid
		}
	}
	return "", 0
}

// waitStatus waits until ctr task ls shows the task with status.
func (c *containerd) waitStatus(id, status string) int {
	c.t.Helper()
	var got string
	var pid int
	if !itest.WaitFor(10*time.Second, func() bool {
		got, pid = c.taskStatus(id)
		return got == status
	}) {
		c.t.Fatalf("task %s is %q, not %s, after 10s\n%s", id, got, status, c.logs(id))
	}
	return pid
}

// shims are the pids of the shims that serve this containerd: their
// command line names its socket.
func (c *containerd) shims() []int { return c.shimsOf("") }

// shimsOf are the pids of this containerd's shims that serve container
// id (all of them when id is empty).
func (c *containerd) shimsOf(id string) []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "containerd-shim-runc-v2" {
			continue
		}
		ours, forID := false, id == ""
		for i, a := range args[:len(args)-1] {
			switch a {
			case "-address", "--address":
				ours = ours || args[i+1] == c.sock
			case "-id", "--id":
				forID = forID || args[i+1] == id
			}
		}
		if ours && forID {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// cleanup removes what the test made, also after a failure: tasks and
// containers through containerd while it runs, then the daemon and its
// shims by pid, the shims' sockets under /run/containerd/s (the
// directory is the package's: see engineHostDirs), corral's leftovers,
// mounts, cgroups and the directory.
func (c *containerd) cleanup() {
	t := c.t
	running := c.cmd != nil && c.cmd.Process != nil
	if running {
		select {
		case <-c.exited:
			running = false
		default:
		}
	}
	if running {
		for _, id := range *c.ids {
			if st, _ := c.taskStatus(id); st != "" {
				t.Logf("cleanup: task %s is %s: killing it", id, st)
				c.ctr("task", "kill", "--signal", "KILL", id)
				itest.WaitFor(5*time.Second, func() bool { st, _ := c.taskStatus(id); return st == "STOPPED" })
				c.ctr("task", "delete", "--force", id)
			}
			c.ctr("container", "delete", id)
		}
	}
	// The shims' sockets: each task's bundle names its shim's.
	var sockets []string
	addrs, _ := filepath.Glob(filepath.Join(c.dir, "state", "io.containerd.runtime.v2.task", "*", "*", "address"))
	for _, a := range addrs {
		if b, err := os.ReadFile(a); err == nil {
			sockets = append(sockets, strings.TrimPrefix(strings.TrimSpace(string(b)), "unix://"))
		}
	}
	shims := c.shims()
	if running {
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			t.Logf("cleanup: containerd did not stop on SIGTERM in 10s: killing it")
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
	for _, pid := range shims {
		t.Logf("cleanup: shim %d is still running: killing it", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, s := range sockets {
		if strings.HasPrefix(s, "/run/containerd/s/") {
			os.Remove(s)
		}
	}
	// What corral left in its state root (a task that containerd lost);
	// a name with a leading dot is corral's cache, not a container.
	if ents, _ := os.ReadDir(filepath.Join(c.runcRoot, c.ns)); len(ents) > 0 {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			t.Errorf("corral state left behind: %s", e.Name())
			runCmd(cmdTimeout, nil, corralBin, "--root", filepath.Join(c.runcRoot, c.ns), "delete", "--force", e.Name())
		}
	}
	unmountAll(t, c.dir)
	if c.cgroupRoot != "" {
		removeCgroups(t, c.cgroupRoot)
	}
	if err := os.RemoveAll(c.dir); err != nil {
		t.Logf("cleanup: %v", err)
	}
}

// importImage builds the test image, an OCI layout of the busybox rootfs,
// and imports it with ctr.
func (c *containerd) importImage() {
	c.t.Helper()
	c.importImageAs(containerdImage, []string{"sh"})
}

// importImageAs imports the busybox rootfs as image name, running cmd by
// default.
func (c *containerd) importImageAs(name string, cmd []string) {
	c.t.Helper()
	path := filepath.Join(c.dir, "image.tar")
	writeImage(c.t, path, name, cmd)
	c.must("", "images", "import", path)
	r := c.must("", "images", "ls", "--quiet")
	if !strings.Contains(r.Stdout, name) {
		c.t.Fatalf("image %s is not listed after the import: %q", name, r.Stdout)
	}
}

// writeImage writes to path the archive of an image of the busybox
// rootfs named name, running cmd by default: an OCI layout that ctr
// imports and docker loads.
func writeImage(t *testing.T, path, name string, cmd []string) {
	t.Helper()
	var buf bytes.Buffer
	if err := imageLayoutTar(&buf, busybox, name, cmd); err != nil {
		t.Fatalf("build the image: %v", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestContainerd runs the busybox image through containerd's runc shim
// with corral as the runtime: what `ctr run`, `ctr task ...` and
// `ctr container delete` do.
func TestContainerd(t *testing.T) {
	needBinaries(t, "containerd", "ctr", "containerd-shim-runc-v2")
	t.Parallel()
	c := startContainerd(t)
	c.importImage()

	t.Run("RunAndExit", func(t *testing.T) {
		c := c.with(t)
		id := c.newID("run")
		r := c.must(id, c.run("--rm", id, "sh", "-c", linger("echo hello"))...)
		if r.Stdout != "hello\n" {
			c.fatal(id, r, "ctr run: stdout %q, want %q", r.Stdout, "hello\n")
		}
		// The exit code of the container's program is ctr's.
		id = c.newID("exit")
		r = c.ctr(c.run("--rm", id, "sh", "-c", linger("echo to-stderr >&2; exit 3"))...)
		if r.Code != 3 || !strings.Contains(r.Stderr, "to-stderr") {
			c.fatal(id, r, "ctr run: want exit 3 and to-stderr on stderr")
		}
	})

	t.Run("Errors", func(t *testing.T) {
		// The shim shows the msg of the last "level":"error" line that
		// corral wrote to its --log in --log-format json.
		c := c.with(t)
		id := c.newID("noexec")
		r := c.ctr(c.run("--rm", id, "/nonexistent")...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "OCI runtime create failed") || !strings.Contains(r.Stderr, `"/nonexistent": no such file or directory`) {
			c.fatal(id, r, "ctr run of a missing program: want corral's error through the shim")
		}
		c.checkGone(id)

		id = c.newID("execerr")
		c.must(id, c.run("--detach", id, "sleep", "1000")...)
		c.waitStatus(id, "RUNNING")
		r = c.exec("x1", "--cwd", "/nonexistent", id, "true")
		if r.Code == 0 || !strings.Contains(r.Stderr, "OCI runtime exec failed") || !strings.Contains(r.Stderr, `"/nonexistent": no such file or directory`) {
			c.fatal(id, r, "ctr task exec --cwd /nonexistent: want corral's error through the shim")
		}
		c.must(id, "task", "delete", "--force", id)
		c.must(id, "container", "delete", id)
		c.checkGone(id)
	})

	t.Run("DetachedExecPauseKill", func(t *testing.T) {
		c := c.with(t)
		id := c.newID("detached")
		// A shell that ends with status 7 on SIGTERM: pid 1 has no
		// default action for it.
		script := `trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done`
		c.must(id, c.run("--detach", id, "sh", "-c", script)...)
		pid := c.waitStatus(id, "RUNNING")
		if pid <= 0 {
			t.Fatalf("task %s: pid %d", id, pid)
		}
		// corral, not runc, runs it: its state root has the container.
		r := runCmd(cmdTimeout, nil, corralBin, "--root", filepath.Join(c.runcRoot, c.ns), "state", id)
		if r.Code != 0 || !strings.Contains(r.Stdout, `"status": "running"`) || !strings.Contains(r.Stdout, fmt.Sprintf(`"pid": %d,`, pid)) {
			c.fatal(id, r, "corral state: want the task running with pid %d", pid)
		}

		// exec: output, stderr and exit code, in the container's pid
		// namespace.
		r = c.exec("e1", id, "sh", "-c", linger("echo out; cat /proc/1/comm; echo err >&2; exit 5"))
		if r.Code != 5 || r.Stdout != "out\nsh\n" || !strings.Contains(r.Stderr, "err") {
			c.fatal(id, r, "ctr task exec: want exit 5, stdout %q, err on stderr", "out\nsh\n")
		}
		r = c.mustExec(id, "e2", id, "sh", "-c", linger("id"))
		if !strings.HasPrefix(r.Stdout, "uid=0(root) gid=0(root)") {
			c.fatal(id, r, "ctr task exec id: want uid=0(root) gid=0(root)")
		}
		// --user uid:gid. (ctr looks a bare uid or a name up itself, in
		// the image's /etc/passwd, through a temporary mount of the
		// running task's snapshot with the same upper and work dirs:
		// overlayfs warns that the behaviour is undefined, and the
		// task then may fail to create files. That is ctr's; the test
		// stays clear of it.) corral finds the user's home in the
		// container's /etc/passwd. The shim's stdio pipes are the
		// user's, as with runc, so that it can open /dev/stdout.
		r = c.mustExec(id, "e3", "--user", "1000:1000", id, "sh", "-c", linger("id; echo $HOME; echo reopened > /dev/stdout"))
		if !strings.HasPrefix(r.Stdout, "uid=1000(user1) gid=1000(user1)") || !strings.HasSuffix(r.Stdout, "\n/home/user1\nreopened\n") {
			c.fatal(id, r, "ctr task exec --user 1000:1000: want uid=1000(user1) gid=1000(user1), HOME /home/user1 and /dev/stdout")
		}
		// stdin: ctr closes the process's stdin at its own EOF.
		r = c.execInput("from stdin\n", "e4", id, "sh", "-c", linger("cat"))
		if r.Code != 0 || r.Stdout != "from stdin\n" {
			c.fatal(id, r, "ctr task exec with input: want it back from cat")
		}

		// ps: corral ps --format json, the pids seen from the host.
		r = c.must(id, "task", "ps", id)
		if !strings.Contains(r.Stdout, strconv.Itoa(pid)) {
			c.fatal(id, r, "ctr task ps: init pid %d is not listed", pid)
		}

		// metrics: the shim reads the container's cgroup.
		r = c.must(id, "task", "metrics", id)
		if strings.TrimSpace(r.Stdout) == "" {
			c.fatal(id, r, "ctr task metrics: empty")
		}

		c.must(id, "task", "pause", id)
		c.waitStatus(id, "PAUSED")
		c.must(id, "task", "resume", id)
		c.waitStatus(id, "RUNNING")
		r = c.mustExec(id, "e5", id, "sh", "-c", linger("echo resumed"))
		if r.Stdout != "resumed\n" {
			c.fatal(id, r, "ctr task exec after resume")
		}

		// kill: SIGTERM, which the shell traps.
		c.must(id, "task", "kill", id)
		c.waitStatus(id, "STOPPED")
		r = c.must(id, "task", "delete", id)
		// ctr reports the exit status of a task it deletes only as a
		// warning.
		if !strings.Contains(r.Stderr, "exit code 7") {
			c.fatal(id, r, "ctr task delete: the task's exit code 7 is not reported")
		}
		c.must(id, "container", "delete", id)
		c.checkGone(id)
	})

	t.Run("TTY", func(t *testing.T) {
		// ctr -t wants a terminal on its stdin: script(1) gives it one.
		needBinaries(t, "script")
		c := c.with(t)
		id := c.newID("tty")
		ctr := append([]string{"ctr", "--address", c.sock, "--namespace", c.ns, "run", "--rm", "--tty"}, c.runFlags()...)
		ctr = append(ctr, containerdImage, id, "sh", "-c", linger("tty"))
		r := runCmd(cmdTimeout, nil, "script", "--quiet", "--return", "--command", shellQuote(ctr), "/dev/null")
		if r.Code != 0 || !strings.Contains(r.Stdout, "/dev/pts/0") {
			c.fatal(id, r, "ctr run --tty: want the program's stdin to be /dev/pts/0")
		}

		// exec --tty into a task that has none.
		id = c.newID("exec-tty")
		c.must(id, c.run("--detach", id, "sleep", "1000")...)
		c.waitStatus(id, "RUNNING")
		ctr = []string{"ctr", "--address", c.sock, "--namespace", c.ns, "task", "exec", "--tty", "--fifo-dir", c.fifoDir(), "--exec-id", "t1", id, "sh", "-c", linger("tty; exit 4")}
		r = runCmd(cmdTimeout, nil, "script", "--quiet", "--return", "--command", shellQuote(ctr), "/dev/null")
		if r.Code != 4 || !strings.Contains(r.Stdout, "/dev/pts/") {
			c.fatal(id, r, "ctr task exec --tty: want a /dev/pts terminal and exit 4")
		}
		c.must(id, "task", "kill", "--signal", "KILL", id)
		c.waitStatus(id, "STOPPED")
		c.must(id, "task", "delete", id)
		c.must(id, "container", "delete", id)
		c.checkGone(id)
	})

	t.Run("KillSIGKILL", func(t *testing.T) {
		c := c.with(t)
		id := c.newID("sigkill")
		c.must(id, c.run("--detach", id, "sleep", "1000")...)
		c.waitStatus(id, "RUNNING")
		c.must(id, "task", "kill", "--signal", "KILL", id)
		c.waitStatus(id, "STOPPED")
		// A kill that comes too late is the shim's NotFound ("process
		// already finished"), which its clients take as done, only
		// when corral says "container not running" as runc does.
		r := c.ctr("task", "kill", "--signal", "KILL", id)
		if r.Code == 0 || !strings.Contains(r.Stderr, "process already finished") || !strings.Contains(r.Stderr, "not found") {
			c.fatal(id, r, "ctr task kill of a stopped task: want the shim's NotFound, process already finished")
		}
		r = c.must(id, "task", "delete", id)
		if !strings.Contains(r.Stderr, "exit code 137") {
			c.fatal(id, r, "ctr task delete: the task's exit code 137 is not reported")
		}
		c.must(id, "container", "delete", id)
		c.checkGone(id)
	})

	t.Run("KillAllAndForceDelete", func(t *testing.T) {
		c := c.with(t)
		id := c.newID("killall")
		c.must(id, c.run("--detach", id, "sh", "-c", "sleep 1000 & sleep 1000 & wait")...)
		c.waitStatus(id, "RUNNING")
		// A detached exec, then signalled by its exec id.
		c.mustExec(id, "bg", "--detach", id, "sleep", "1000")
		c.must(id, "task", "kill", "--exec-id", "bg", "--signal", "KILL", id)
		if !itest.WaitFor(10*time.Second, func() bool {
			r := c.ctr("task", "ps", id)
			return r.Code == 0 && strings.Count(r.Stdout, "\n") == 1+3
		}) {
			r := c.ctr("task", "ps", id)
			c.fatal(id, r, "ctr task ps: want the shell and its two sleeps, the exec gone")
		}
		c.must(id, "task", "kill", "--all", "--signal", "KILL", id)
		c.waitStatus(id, "STOPPED")
		c.must(id, "task", "delete", id)
		c.must(id, "container", "delete", id)
		c.checkGone(id)

		// delete --force of a running task kills it first.
		id = c.newID("force")
		c.must(id, c.run("--detach", id, "sleep", "1000")...)
		c.waitStatus(id, "RUNNING")
		c.must(id, "task", "delete", "--force", id)
		c.must(id, "container", "delete", id)
		c.checkGone(id)
	})
}

// with is c for subtest t: failures are t's.
func (c *containerd) with(t *testing.T) *containerd {
	n := *c
	n.t = t
	return &n
}

// checkGone checks that a deleted container left nothing: no task, no
// container, no corral state, no shim, no mount, no cgroup.
func (c *containerd) checkGone(id string) {
	t := c.t
	t.Helper()
	if st, _ := c.taskStatus(id); st != "" {
		t.Errorf("task %s still listed: %s", id, st)
	}
	r := c.ctr("container", "ls", "--quiet")
	if strings.Contains(r.Stdout, id) {
		t.Errorf("container %s still listed", id)
	}
	if _, err := os.Stat(filepath.Join(c.runcRoot, c.ns, id)); err == nil {
		t.Errorf("corral's state of %s is left", id)
	}
	if m := mountsUnder(c.bundle(id)); len(m) > 0 {
		t.Errorf("mounts left: %v", m)
	}
	// The shim exits once its task is deleted.
	if !itest.WaitFor(5*time.Second, func() bool { return len(c.shimsOf(id)) == 0 }) {
		t.Errorf("shim of %s still running: %v", id, c.shimsOf(id))
	}
	if d := itest.CgroupDirs(filepath.Join(c.ns, id)); len(d) > 0 {
		t.Errorf("cgroups left: %v", d)
	}
}

// shellQuote makes one sh command line of args.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// linger makes a shell script that runs script in a subshell, waits a
// moment, and exits with the subshell's status. ctr (1.6) can lose the output of a process that ends
// at once: when the exit reaches it before its goroutine that opens an
// output fifo has seen the open complete, it cancels the open and the
// stream is dropped (client.Task.Delete: "io.Cancel is used to cancel the
// io goroutine while it is in fifo-opening state"). runc's output is lost
// the same way.
func linger(script string) string {
	return "( " + script + "\n); s=$?; sleep 0.2; exit $s"
}
