package engines

import (
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

// dockerBin is Debian's docker client: another one earlier on PATH may
// speak an API that dockerd 20.10 does not.
const dockerBin = "/usr/bin/docker"

// dockerImage is the name the test image is loaded under.
const dockerImage = "corral-busybox:test"

// dockerd is a Docker daemon of the test's own with corral as its default
// runtime: its data root, exec root, socket, pidfile and configuration
// are under dir, it runs on a containerd of its own, puts its
// containers' cgroups under cgroupParent, and stops with the test.
type dockerd struct {
	t    *testing.T
	dir  string
	sock string
	ctrd *containerd
	// cgroupParent holds the containers' cgroups: docker's cgroupfs
	// driver makes <cgroupParent>/<id>.
	cgroupParent string
	logPath      string
	cmd          *exec.Cmd
	exited       chan struct{}
}

// startDockerd starts a containerd and a dockerd on it, both on
// temporary paths, waits for dockerd's socket, and registers their stop
// (and the removal of all they made) as cleanups.
func startDockerd(t *testing.T) *dockerd {
	t.Helper()
	return startDockerdWith(t, corralBin)
}

// startDockerdWith is startDockerd with runtime as the binary of the
// runtime named corral, and extra flags for dockerd.
func startDockerdWith(t *testing.T, runtime string, extra ...string) *dockerd {
	t.Helper()
	// dockerd 20.10 takes /run/containerd/containerd.sock when it
	// exists, whatever else runs: --containerd names the test's own.
	ctrd := startContainerd(t)
	dir, err := os.MkdirTemp("", "corral-docker-")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	d := &dockerd{
		t:            t,
		dir:          dir,
		sock:         filepath.Join(dir, "docker.sock"),
		ctrd:         ctrd,
		cgroupParent: "/corral-docker-" + hex.EncodeToString(b),
		logPath:      filepath.Join(dir, "dockerd.log"),
		exited:       make(chan struct{}),
	}
	t.Cleanup(d.cleanup)

	// deprecated-key-path: 20.10 writes its trust key to
	// /etc/docker/key.json otherwise.
	conf := fmt.Sprintf(`{"deprecated-key-path": %q}`, filepath.Join(dir, "key.json"))
	confPath := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	d.cmd = exec.Command("dockerd", append([]string{
		"--config-file", confPath,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--host", "unix://" + d.sock,
		"--containerd", ctrd.sock,
		// No network of the host's is touched: containers run with
		// --network none.
		"--bridge=none", "--iptables=false", "--ip6tables=false",
		"--ip-forward=false", "--ip-masq=false",
		"--add-runtime", "corral=" + runtime,
		"--default-runtime", "corral",
		"--exec-opt", "native.cgroupdriver=cgroupfs",
		"--cgroup-parent", d.cgroupParent,
		// Lowering its own oom_score_adj (-500 by default) needs
		// CAP_SYS_RESOURCE, which root may lack (in a container).
		"--oom-score-adjust", "0",
	}, extra...)...)
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	// Its own process group: a ^C of the test run is the test's to
	// handle, and the cleanup stops the daemon.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start dockerd: %v", err)
	}
	go func() {
		d.cmd.Wait()
		close(d.exited)
	}()
	ready := itest.WaitFor(30*time.Second, func() bool {
		select {
		case <-d.exited:
			return true
		default:
		}
		conn, err := net.Dial("unix", d.sock)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
	select {
	case <-d.exited:
		t.Fatalf("dockerd exited at start: %v\n%s", d.cmd.ProcessState, d.log())
	default:
	}
	if !ready {
		t.Fatalf("dockerd's socket %s is not there after 30s\n%s", d.sock, d.log())
	}
	return d
}

// docker runs Debian's docker client against the test's dockerd.
func (d *dockerd) docker(args ...string) itest.Result {
	return d.dockerInput("", args...)
}

// dockerInput is docker with input on its stdin.
func (d *dockerd) dockerInput(input string, args ...string) itest.Result {
	// DOCKER_CONFIG: the client's own files stay out of ~/.docker.
	env := []string{"DOCKER_CONFIG=" + filepath.Join(d.dir, "client")}
	return runCmdInput(input, cmdTimeout, env, dockerBin, append([]string{"--host", "unix://" + d.sock}, args...)...)
}

// must runs docker and fails the test, with the logs, unless it
// succeeds.
func (d *dockerd) must(args ...string) itest.Result {
	d.t.Helper()
	r := d.docker(args...)
	if r.Code != 0 {
		d.fatal(r, "docker failed")
	}
	return r
}

// fatal fails the test with what went wrong, the command r and the
// daemons' logs.
func (d *dockerd) fatal(r itest.Result, format string, args ...any) {
	d.t.Helper()
	d.fatalf("%s\n%s", fmt.Sprintf(format, args...), r)
}

// fatalf fails the test with a message and the daemons' logs.
func (d *dockerd) fatalf(format string, args ...any) {
	d.t.Helper()
	d.t.Fatalf("%s\n%s\n%s", fmt.Sprintf(format, args...), d.log(), d.ctrd.logs(""))
}

// log is the tail of dockerd's log, and corral's log lines that the
// shims keep in the containers' bundles.
func (d *dockerd) log() string {
	var s strings.Builder
	logs, _ := filepath.Glob(filepath.Join(d.ctrd.dir, "state", "io.containerd.runtime.v2.task", "moby", "*", "log.json"))
	for _, p := range logs {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			fmt.Fprintf(&s, "--- %s ---\n%s\n", p, b)
		}
	}
	b, _ := os.ReadFile(d.logPath)
	const max = 8000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	fmt.Fprintf(&s, "--- dockerd log (%s, tail) ---\n%s", d.logPath, b)
	return s.String()
}

// with is d for subtest t: failures are t's.
func (d *dockerd) with(t *testing.T) *dockerd {
	n := *d
	n.t = t
	n.ctrd = d.ctrd.with(t)
	return &n
}

// loadImage loads the test image, the busybox rootfs running sh.
func (d *dockerd) loadImage() {
	d.t.Helper()
	path := filepath.Join(d.dir, "image.tar")
	writeImage(d.t, path, dockerImage, []string{"sh"})
	d.must("load", "--input", path)
	if got := d.inspect(dockerImage, "{{.Config.Cmd}}"); got != "[sh]" {
		d.fatalf("image %s after docker load: Cmd %q, want [sh]", dockerImage, got)
	}
}

// run runs docker run with flags and the command args in the test
// image, with no network.
func (d *dockerd) run(flags []string, args ...string) itest.Result {
	return d.docker(d.runArgs(flags, args...)...)
}

// runArgs are the arguments of docker run with flags and args.
func (d *dockerd) runArgs(flags []string, args ...string) []string {
	out := append([]string{"run", "--network", "none"}, flags...)
	return append(append(out, dockerImage), args...)
}

// runDetached starts container name with flags and args in the
// background, and returns its full id.
func (d *dockerd) runDetached(name string, flags []string, args ...string) string {
	d.t.Helper()
	r := d.must(d.runArgs(append([]string{"--detach", "--name", name}, flags...), args...)...)
	return strings.TrimSpace(r.Stdout)
}

// inspect is the docker inspect field of object name, per format.
func (d *dockerd) inspect(name, format string) string {
	d.t.Helper()
	return strings.TrimSpace(d.must("inspect", "--format", format, name).Stdout)
}

// pid is the pid of container name's init, as docker knows it.
func (d *dockerd) pid(name string) int {
	d.t.Helper()
	pid, err := strconv.Atoi(d.inspect(name, "{{.State.Pid}}"))
	if err != nil || pid <= 0 {
		d.fatalf("container %s: pid %d (%v)", name, pid, err)
	}
	return pid
}

// corralStates are the state.json files of corral's containers in the
// state roots that dockerd has the shims give it, in its exec root.
func (d *dockerd) corralStates() []string {
	states, _ := filepath.Glob(filepath.Join(d.dir, "exec", "runtime-*", "moby", "*", "state.json"))
	return states
}

// corralState is what corral says of container id, in the state root
// that the shim gives it.
func (d *dockerd) corralState(id string) itest.Result {
	d.t.Helper()
	for _, s := range d.corralStates() {
		if filepath.Base(filepath.Dir(s)) == id {
			return runCmd(cmdTimeout, nil, corralBin, "--root", filepath.Dir(filepath.Dir(s)), "state", id)
		}
	}
	d.fatalf("corral has no state of %s in %s: is corral the runtime?", id, filepath.Join(d.dir, "exec"))
	return itest.Result{}
}

// cgroup is container id's cgroup, relative to a hierarchy's root.
func (d *dockerd) cgroup(id string) string { return filepath.Join(d.cgroupParent, id) }

// waitState waits until container name's .State per format is want.
func (d *dockerd) waitState(name, format, want string) {
	d.t.Helper()
	var got string
	if !itest.WaitFor(15*time.Second, func() bool {
		got = strings.TrimSpace(d.docker("inspect", "--format", format, name).Stdout)
		return got == want
	}) {
		d.fatalf("container %s: %s is %q, not %q, after 15s", name, format, got, want)
	}
}

// remove removes container name, which must not run, and checks that
// it left nothing.
func (d *dockerd) remove(name string) {
	d.t.Helper()
	id, merged, _ := strings.Cut(d.inspect(name, "{{.Id}} {{.GraphDriver.Data.MergedDir}}"), " ")
	d.must("rm", name)
	d.checkGone(id, merged)
}

// checkGone checks that a removed container left nothing: no container
// of docker's, no corral state, no cgroup, no mount of its rootfs or of
// its own, no shim.
func (d *dockerd) checkGone(id, merged string) {
	t := d.t
	t.Helper()
	if r := d.docker("ps", "--all", "--quiet", "--no-trunc"); strings.Contains(r.Stdout, id) {
		t.Errorf("container %s still listed after rm", id)
	}
	for _, s := range d.corralStates() {
		if filepath.Base(filepath.Dir(s)) == id {
			t.Errorf("corral state of %s left: %s", id, s)
		}
	}
	if dirs := itest.CgroupDirs(d.cgroup(id)); len(dirs) > 0 {
		t.Errorf("cgroups left: %v", dirs)
	}
	if m := mountsUnder(filepath.Join(d.dir, "data", "containers", id)); len(m) > 0 {
		t.Errorf("mounts left: %v", m)
	}
	if merged != "" && merged != "<no value>" {
		if m := mountsUnder(merged); len(m) > 0 {
			t.Errorf("rootfs still mounted: %v", m)
		}
	}
	if !itest.WaitFor(5*time.Second, func() bool { return len(d.ctrd.shimsOf(id)) == 0 }) {
		t.Errorf("shim of %s still running: %v", id, d.ctrd.shimsOf(id))
	}
}

// cleanup removes what the test made, also after a failure: the
// containers through docker while dockerd runs, then dockerd, what
// corral left in its state roots, the mounts, the cgroups and the
// directory. The containerd under it has a cleanup of its own, which
// runs after this one.
func (d *dockerd) cleanup() {
	t := d.t
	running := d.cmd != nil && d.cmd.Process != nil
	if running {
		select {
		case <-d.exited:
			running = false
		default:
		}
	}
	if running {
		if r := d.docker("ps", "--all", "--quiet"); strings.TrimSpace(r.Stdout) != "" {
			d.docker(append([]string{"rm", "--force"}, strings.Fields(r.Stdout)...)...)
		}
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(15 * time.Second):
			t.Logf("cleanup: dockerd did not stop on SIGTERM in 15s: killing it")
			d.cmd.Process.Kill()
			<-d.exited
		}
	}
	for _, s := range d.corralStates() {
		root, id := filepath.Dir(filepath.Dir(s)), filepath.Base(filepath.Dir(s))
		t.Errorf("corral state left behind: %s", s)
		runCmd(cmdTimeout, nil, corralBin, "--root", root, "delete", "--force", id)
	}
	unmountAll(t, d.dir)
	removeCgroups(t, d.cgroupParent)
	if err := os.RemoveAll(d.dir); err != nil {
		t.Logf("cleanup: %v", err)
	}
}

// TestDocker runs the busybox image through a private dockerd (Debian's
// docker.io 20.10) with corral as its default runtime: run, logs,
// resource limits in the cgroup, exec, top, stats, pause, update,
// restart (docker restart and restart policies), OOM reporting, stop,
// kill and rm, each leaving nothing behind.
func TestDocker(t *testing.T) {
	needBinaries(t, "dockerd", "containerd", "containerd-shim-runc-v2")
	if _, err := os.Stat(dockerBin); err != nil {
		t.Skipf("skipping: %s not installed (Debian: apt-get install docker.io)", dockerBin)
	}
	t.Parallel()
	d := startDockerd(t)
	if r := d.must("info", "--format", "{{.DefaultRuntime}} {{.CgroupDriver}}"); strings.TrimSpace(r.Stdout) != "corral cgroupfs" {
		d.fatal(r, "docker info: want corral as the default runtime and the cgroupfs driver")
	}
	d.loadImage()

	t.Run("RunAndLogs", func(t *testing.T) {
		d := d.with(t)
		r := d.run([]string{"--rm"}, "sh", "-c", "echo out; echo err >&2; exit 3")
		if r.Code != 3 || r.Stdout != "out\n" || r.Stderr != "err\n" {
			d.fatal(r, "docker run: want exit 3, out on stdout and err on stderr")
		}
		// A terminal: docker gives the container one without a
		// terminal of its own when stdin stays closed.
		r = d.run([]string{"--rm", "--tty"}, "tty")
		if r.Code != 0 || !strings.Contains(r.Stdout, "/dev/pts/0") {
			d.fatal(r, "docker run --tty: want the program's stdin to be /dev/pts/0")
		}

		// logs: the json-file driver keeps what a detached container
		// wrote, per stream.
		name := "corral-logs"
		d.runDetached(name, nil, "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 4")
		if r := d.must("wait", name); strings.TrimSpace(r.Stdout) != "4" {
			d.fatal(r, "docker wait: want exit status 4")
		}
		r = d.must("logs", name)
		if r.Stdout != "to-stdout\n" || r.Stderr != "to-stderr\n" {
			d.fatal(r, "docker logs: want to-stdout on stdout and to-stderr on stderr")
		}
		d.remove(name)
	})

	t.Run("LimitsExecPauseUpdateStop", func(t *testing.T) {
		d := d.with(t)
		name := "corral-limits"
		// A shell that ends with status 0 on SIGTERM: pid 1 has no
		// default action for it.
		script := `trap "exit 0" TERM; while :; do sleep 1 & wait; done`
		id := d.runDetached(name, []string{
			"--memory", "64m", "--memory-swap", "96m",
			"--cpus", "0.5", "--cpu-shares", "512",
			"--pids-limit", "50",
		}, "sh", "-c", script)
		if got := d.inspect(name, "{{.HostConfig.Runtime}} {{.State.Status}}"); got != "corral running" {
			d.fatalf("runtime and status %q after run --detach, want %q", got, "corral running")
		}
		pid := d.pid(name)
		// corral runs it: its state root has it.
		r := d.corralState(id)
		if r.Code != 0 || !strings.Contains(r.Stdout, `"status": "running"`) || !strings.Contains(r.Stdout, fmt.Sprintf(`"pid": %d,`, pid)) {
			d.fatal(r, "corral state: want %s running with pid %d", id, pid)
		}
		d.checkCgroup(id, pid, cgroupWant{
			v1: map[string]string{
				"memory/memory.limit_in_bytes":       "67108864",
				"memory/memory.memsw.limit_in_bytes": "100663296",
				"cpu/cpu.cfs_quota_us":               "50000",
				"cpu/cpu.cfs_period_us":              "100000",
				"cpu/cpu.shares":                     "512",
				"pids/pids.max":                      "50",
			},
			v2: map[string]string{
				"memory.max":      "67108864",
				"memory.swap.max": "33554432",
				"cpu.max":         "50000 100000",
				// cpu.shares 512 is cpu.weight 59 by runc's conversion.
				"cpu.weight": "59",
				"pids.max":   "50",
			},
		})

		// exec: output, stderr and exit code, in the container's pid
		// namespace; a user, the environment and the directory; stdin;
		// a terminal.
		r = d.docker("exec", name, "sh", "-c", "echo out; cat /proc/1/comm; echo err >&2; exit 5")
		if r.Code != 5 || r.Stdout != "out\nsh\n" || r.Stderr != "err\n" {
			d.fatal(r, "docker exec: want exit 5, stdout %q, err on stderr", "out\nsh\n")
		}
		r = d.must("exec", "--user", "1000", "--env", "FOO=bar", "--workdir", "/tmp", name, "sh", "-c", "id; echo $FOO; pwd")
		if !strings.HasPrefix(r.Stdout, "uid=1000(user1) gid=1000(user1)") || !strings.HasSuffix(r.Stdout, "\nbar\n/tmp\n") {
			d.fatal(r, "docker exec --user 1000 --env FOO=bar --workdir /tmp: want uid 1000, bar and /tmp")
		}
		r = d.dockerInput("from stdin\n", "exec", "--interactive", name, "cat")
		if r.Code != 0 || r.Stdout != "from stdin\n" {
			d.fatal(r, "docker exec --interactive: want the input back from cat")
		}
		r = d.docker("exec", "--tty", name, "sh", "-c", "tty; exit 6")
		if r.Code != 6 || !strings.Contains(r.Stdout, "/dev/pts/") {
			d.fatal(r, "docker exec --tty: want a /dev/pts terminal and exit 6")
		}

		// top: corral ps, the pids seen from the host.
		r = d.must("top", name)
		if !strings.Contains(r.Stdout, " "+strconv.Itoa(pid)+" ") {
			d.fatal(r, "docker top: init pid %d is not listed", pid)
		}
		// stats: the shim reads the container's cgroup.
		r = d.must("stats", "--no-stream", "--format", "{{.MemUsage}}|{{.PIDs}}", name)
		if f := strings.Split(strings.TrimSpace(r.Stdout), "|"); len(f) != 2 || !strings.HasSuffix(f[0], "/ 64MiB") || f[1] == "0" {
			d.fatal(r, "docker stats: want the memory limit 64MiB and a count of pids")
		}

		d.must("pause", name)
		if got := d.inspect(name, "{{.State.Status}} {{.State.Paused}}"); got != "paused true" {
			d.fatalf("status %q after pause", got)
		}
		d.checkCgroup(id, pid, cgroupWant{
			v1: map[string]string{"freezer/freezer.state": "FROZEN"},
			v2: map[string]string{"cgroup.freeze": "1"},
		})
		d.must("unpause", name)
		if got := d.inspect(name, "{{.State.Status}} {{.State.Paused}}"); got != "running false" {
			d.fatalf("status %q after unpause", got)
		}
		d.checkCgroup(id, pid, cgroupWant{
			v1: map[string]string{"freezer/freezer.state": "THAWED"},
			v2: map[string]string{"cgroup.freeze": "0"},
		})

		// update, up and then down: the memory limit must stay under
		// memory+swap's at every write.
		d.must("update", "--memory", "128m", "--memory-swap", "256m", "--cpus", "0.25", "--cpu-shares", "256", "--pids-limit", "60", name)
		d.checkCgroup(id, pid, cgroupWant{
			v1: map[string]string{
				"memory/memory.limit_in_bytes":       "134217728",
				"memory/memory.memsw.limit_in_bytes": "268435456",
				"cpu/cpu.cfs_quota_us":               "25000",
				"cpu/cpu.shares":                     "256",
				"pids/pids.max":                      "60",
			},
			v2: map[string]string{
				"memory.max":      "134217728",
				"memory.swap.max": "134217728",
				"cpu.max":         "25000 100000",
				"cpu.weight":      "35",
				"pids.max":        "60",
			},
		})
		d.must("update", "--memory", "32m", "--memory-swap", "32m", name)
		d.checkCgroup(id, pid, cgroupWant{
			v1: map[string]string{
				"memory/memory.limit_in_bytes":       "33554432",
				"memory/memory.memsw.limit_in_bytes": "33554432",
			},
			v2: map[string]string{"memory.max": "33554432", "memory.swap.max": "0"},
		})
		r = d.must("stats", "--no-stream", "--format", "{{.MemUsage}}", name)
		if !strings.HasSuffix(strings.TrimSpace(r.Stdout), "/ 32MiB") {
			d.fatal(r, "docker stats after update: want the memory limit 32MiB")
		}

		// stop: SIGTERM, which the shell traps and exits 0 on.
		start := time.Now()
		d.must("stop", "--time", "10", name)
		if el := time.Since(start); el > 8*time.Second {
			t.Errorf("docker stop took %v: SIGTERM did not reach the shell", el)
		}
		if got := d.inspect(name, "{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}"); got != "exited 0 false" {
			d.fatalf("status, exit code and OOMKilled %q after stop, want %q", got, "exited 0 false")
		}
		if itest.Alive(pid) {
			t.Errorf("init %d still alive after docker stop", pid)
		}
		d.remove(name)
	})

	t.Run("OOM", func(t *testing.T) {
		d := d.with(t)
		name := "corral-oom"
		// A string that doubles until the memory cgroup's limit kills
		// the shell; no swap to escape to.
		d.runDetached(name, []string{"--memory", "16m", "--memory-swap", "16m"},
			"sh", "-c", "echo started; x=a; while :; do x=$x$x; done")
		if r := d.must("wait", name); strings.TrimSpace(r.Stdout) != "137" {
			d.fatal(r, "docker wait: want 137, the SIGKILL of the OOM killer")
		}
		if got := d.inspect(name, "{{.State.OOMKilled}} {{.State.ExitCode}}"); got != "true 137" {
			d.fatalf("OOMKilled and exit code %q, want %q", got, "true 137")
		}
		if r := d.must("logs", name); r.Stdout != "started\n" {
			d.fatal(r, "docker logs: want started")
		}
		d.remove(name)
	})

	t.Run("Restart", func(t *testing.T) {
		d := d.with(t)
		name := "corral-restart"
		id := d.runDetached(name, []string{"--memory", "64m"}, "sh", "-c", `trap "exit 0" TERM; echo up; while :; do sleep 1 & wait; done`)
		pid := d.pid(name)
		d.must("restart", "--time", "5", name)
		d.waitState(name, "{{.State.Status}}", "running")
		pid2 := d.pid(name)
		if pid2 == pid || itest.Alive(pid) {
			d.fatalf("docker restart: init %d is still there (new pid %d)", pid, pid2)
		}
		// The container is created anew under the same id, with its
		// limits, in the same cgroup.
		r := d.corralState(id)
		if r.Code != 0 || !strings.Contains(r.Stdout, fmt.Sprintf(`"pid": %d,`, pid2)) {
			d.fatal(r, "corral state after restart: want pid %d", pid2)
		}
		d.checkCgroup(id, pid2, cgroupWant{
			v1: map[string]string{"memory/memory.limit_in_bytes": "67108864"},
			v2: map[string]string{"memory.max": "67108864"},
		})
		if r := d.must("logs", name); r.Stdout != "up\nup\n" {
			d.fatal(r, "docker logs after restart: want up twice")
		}
		d.must("stop", "--time", "10", name)
		d.remove(name)

		// A policy that restarts a failing container twice, then
		// leaves it: three runs, one log.
		name = "corral-on-failure"
		d.runDetached(name, []string{"--restart", "on-failure:2"}, "sh", "-c", "echo run; exit 3")
		d.waitState(name, "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", "exited 2 3")
		if r := d.must("logs", name); r.Stdout != "run\nrun\nrun\n" {
			d.fatal(r, "docker logs after two restarts: want run three times")
		}
		d.remove(name)

		// A container that dies (its init killed from the host) comes
		// back with --restart always, until docker stop.
		name = "corral-always"
		d.runDetached(name, []string{"--restart", "always"}, "sleep", "1000")
		pid = d.pid(name)
		syscall.Kill(pid, syscall.SIGKILL)
		d.waitState(name, "{{.State.Status}} {{.RestartCount}}", "running 1")
		if pid2 := d.pid(name); pid2 == pid {
			d.fatalf("--restart always: the same pid %d after the restart", pid)
		}
		// sleep as pid 1 ignores SIGTERM: stop falls back to SIGKILL.
		d.must("stop", "--time", "1", name)
		if got := d.inspect(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
			d.fatalf("status and exit code %q after stop, want %q", got, "exited 137")
		}
		d.remove(name)
	})

	t.Run("KillAndForceRemove", func(t *testing.T) {
		d := d.with(t)
		name := "corral-kill"
		d.runDetached(name, nil, "sh", "-c", `trap "exit 9" USR1; while :; do sleep 1 & wait; done`)
		d.must("kill", "--signal", "USR1", name)
		if r := d.must("wait", name); strings.TrimSpace(r.Stdout) != "9" {
			d.fatal(r, "docker wait after kill --signal USR1: want the trap's exit 9")
		}
		d.remove(name)

		// rm --force of a running container kills it first.
		name = "corral-force"
		id := d.runDetached(name, nil, "sleep", "1000")
		pid := d.pid(name)
		merged := d.inspect(name, "{{.GraphDriver.Data.MergedDir}}")
		d.must("rm", "--force", name)
		if itest.Alive(pid) {
			t.Errorf("init %d still alive after docker rm --force", pid)
		}
		d.checkGone(id, merged)
	})
}

// cgroupWant are the values that files of a container's cgroup must
// hold: on cgroup v1, files named <controller>/<file>; on v2, the
// unified hierarchy's files.
type cgroupWant struct {
	v1, v2 map[string]string
}

// checkCgroup checks that the files of container id's cgroup hold what
// want says, and that its init pid is in the cgroup.
func (d *dockerd) checkCgroup(id string, pid int, want cgroupWant) {
	d.t.Helper()
	if problems := cgroupProblems(d.cgroup(id), pid, want); len(problems) > 0 {
		d.fatalf("cgroup %s:\n%s", d.cgroup(id), strings.Join(problems, "\n"))
	}
}

// cgroupProblems lists how the files of cgroup rel differ from want, and
// whether pid is missing from it.
func cgroupProblems(rel string, pid int, want cgroupWant) []string {
	var problems []string
	check := func(path, value string) {
		b, err := os.ReadFile(path)
		if err != nil {
			problems = append(problems, err.Error())
		} else if got := strings.TrimSpace(string(b)); got != value {
			problems = append(problems, fmt.Sprintf("%s holds %q, want %q", path, got, value))
		}
	}
	procs := []string{filepath.Join("/sys/fs/cgroup", rel, "cgroup.procs")}
	if cgroupV2() {
		for f, v := range want.v2 {
			check(filepath.Join("/sys/fs/cgroup", rel, f), v)
		}
	} else {
		procs = procs[:0]
		for f, v := range want.v1 {
			controller, file, _ := strings.Cut(f, "/")
			check(filepath.Join("/sys/fs/cgroup", controller, rel, file), v)
			procs = append(procs, filepath.Join("/sys/fs/cgroup", controller, rel, "cgroup.procs"))
		}
	}
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && !strings.Contains("\n"+string(b), "\n"+strconv.Itoa(pid)+"\n") {
			problems = append(problems, fmt.Sprintf("pid %d is not in %s: %q", pid, p, b))
		}
	}
	return problems
}
