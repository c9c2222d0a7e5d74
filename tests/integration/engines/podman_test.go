package engines

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// podman is rootful podman with configuration, storage, state and cgroups
// of the test's own, and corral as its OCI runtime.
type podman struct {
	t   *testing.T
	dir string
	env []string
	// rootfs is the test's copy of the busybox rootfs: podman --rootfs
	// writes into the directory it is given.
	rootfs string
	// cgroupParent holds the containers' and conmon's cgroups.
	cgroupParent string
	// input is podman's stdin (none when empty).
	input string
	// runtime is the OCI runtime podman runs: corral, or a wrapper of
	// it named corral (bundles_test.go).
	runtime string
	// madeDirs are the host directories that podman and corral make
	// and that were not there before the test (/run/corral: rootful
	// podman passes no --root; /run/containers/networks: podman makes
	// it whatever its configuration says).
	madeDirs []string
}

// corralRoot is the state root that corral uses when podman drives it:
// rootful podman passes no --root.
const corralRoot = "/run/corral"

// newPodman writes podman's configuration under a temporary directory:
// vfs storage, file locks, cgroupfs, file events, no network, rlimits
// that need no CAP_SYS_RESOURCE, and corral as a runtime that takes
// --log-format=json.
func newPodman(t *testing.T) *podman {
	t.Helper()
	dir, err := os.MkdirTemp("", "corral-podman-")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	p := &podman{
		t:            t,
		dir:          dir,
		rootfs:       filepath.Join(dir, "rootfs"),
		cgroupParent: "/corral-podman-" + hex.EncodeToString(b),
		runtime:      corralBin,
	}
	for _, d := range []string{"/run/containers", "/run/containers/networks", corralRoot} {
		if _, err := os.Stat(d); err != nil {
			p.madeDirs = append([]string{d}, p.madeDirs...)
		}
	}
	t.Cleanup(p.cleanup)

	// The static dir (the database) is left to its default under the
	// graph root: conmon runs `podman container cleanup` with --root
	// and this configuration, and that podman must find the same
	// database. podman lowers its own RLIMIT_NPROC before it starts
	// conmon, and raising a hard limit needs CAP_SYS_RESOURCE, which
	// root may lack (in a container): the ulimits are low ones.
	conf := fmt.Sprintf(`[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
lock_type = "file"
tmp_dir = %q
volume_path = %q
runtime_supports_json = ["corral", "crun", "runc", "kata", "runsc", "youki", "krun"]

[engine.runtimes]
corral = [%q]

[network]
network_config_dir = %q
`, filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp"), filepath.Join(dir, "volumes"), corralBin, filepath.Join(dir, "networks"))
	storage := fmt.Sprintf(`[storage]
driver = "vfs"
graphroot = %q
runroot = %q
`, filepath.Join(dir, "graph"), filepath.Join(dir, "run"))
	confPath := filepath.Join(dir, "containers.conf")
	storagePath := filepath.Join(dir, "storage.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(storagePath, []byte(storage), 0o644); err != nil {
		t.Fatal(err)
	}
	p.env = []string{"CONTAINERS_CONF=" + confPath, "CONTAINERS_STORAGE_CONF=" + storagePath}
	if err := copyTree(busybox, p.rootfs); err != nil {
		t.Fatalf("copy the rootfs: %v", err)
	}
	return p
}

// podman runs podman with the test's configuration and corral as the
// runtime.
func (p *podman) podman(args ...string) itest.Result {
	return runCmdInput(p.input, cmdTimeout, p.env, "podman", append(p.globalArgs(), args...)...)
}

// globalArgs are podman's global flags: corral as the runtime, and the
// storage and settings of the configuration files again, as podman
// passes them on to the cleanup that conmon runs.
func (p *podman) globalArgs() []string {
	return []string{
		"--runtime", p.runtime,
		"--root", filepath.Join(p.dir, "graph"),
		"--runroot", filepath.Join(p.dir, "run"),
		"--cgroup-manager", "cgroupfs",
		"--events-backend", "file",
	}
}

// inTerminal runs podman with args in a terminal that script(1) makes:
// --tty wants one on podman's stdin.
func (p *podman) inTerminal(args ...string) itest.Result {
	cmd := append(append([]string{"podman"}, p.globalArgs()...), args...)
	return runCmd(cmdTimeout, p.env, "script", "--quiet", "--return", "--command", shellQuote(cmd), "/dev/null")
}

// withInput is p with input on podman's stdin.
func (p *podman) withInput(input string) *podman {
	n := *p
	n.input = input
	return &n
}

// must runs podman and fails the test unless it succeeds.
func (p *podman) must(args ...string) itest.Result {
	p.t.Helper()
	r := p.podman(args...)
	if r.Code != 0 {
		p.fatal(r, "podman failed")
	}
	return r
}

// fatal fails the test with what went wrong, podman's command r and
// corral's logs.
func (p *podman) fatal(r itest.Result, format string, args ...any) {
	p.t.Helper()
	p.fatalf("%s\n%s", fmt.Sprintf(format, args...), r)
}

// fatalf fails the test with a message and corral's logs: podman gives
// corral a log file per container and per exec session, oci-log.
func (p *podman) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), p.logs())
}

// logs are corral's log files under podman's storage, and podman's
// events.
func (p *podman) logs() string {
	var s strings.Builder
	filepath.WalkDir(p.dir, func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || de.Name() != "oci-log" {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			fmt.Fprintf(&s, "--- %s ---\n%s\n", path, b)
		}
		return nil
	})
	if b, err := os.ReadFile(filepath.Join(p.dir, "events.log")); err == nil {
		const max = 4000
		if len(b) > max {
			b = b[len(b)-max:]
		}
		fmt.Fprintf(&s, "--- podman events (tail) ---\n%s\n", b)
	}
	return s.String()
}

// runArgs are the arguments of podman run with flags, the test's cgroup
// parent and rootfs, and the command args: --rootfs must come after
// every other option.
func (p *podman) runArgs(flags []string, args ...string) []string {
	out := append([]string{"run"}, flags...)
	out = append(out, "--cgroup-parent", p.cgroupParent, "--rootfs", p.rootfs)
	return append(out, args...)
}

// inspect is the podman inspect field of container name, per format.
func (p *podman) inspect(name, format string) string {
	p.t.Helper()
	return strings.TrimSpace(p.must("inspect", "--format", format, name).Stdout)
}

// corralState is corral's own view of container id, in the state root
// podman lets it use.
func corralState(id string) itest.Result {
	return runCmd(cmdTimeout, nil, corralBin, "--root", corralRoot, "state", id)
}

// containerIDs are the full ids of every container podman knows.
func (p *podman) containerIDs() []string {
	r := p.podman("ps", "--all", "--quiet", "--no-trunc")
	return strings.Fields(r.Stdout)
}

// conmons are the pids of the conmon processes that serve this test's
// containers: their command line names the test's directory.
func (p *podman) conmons() []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range procs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if filepath.Base(args[0]) == "conmon" && strings.Contains(string(b), p.dir+"/") {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// cleanup removes what the test made, also after a failure: the
// containers through podman, then whatever corral or conmon left, the
// mounts, the cgroups, the directories.
func (p *podman) cleanup() {
	t := p.t
	ids := p.containerIDs()
	if len(ids) > 0 {
		if r := p.podman("rm", "--force", "--all", "--time", "0"); r.Code != 0 {
			t.Logf("cleanup: podman %s", r)
		}
	}
	// conmon ends after its container, once it has run podman's
	// cleanup for it.
	itest.WaitFor(10*time.Second, func() bool { return len(p.conmons()) == 0 })
	for _, pid := range p.conmons() {
		t.Logf("cleanup: conmon %d is still running after 10s: killing it", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(corralRoot, id)); err == nil {
			t.Errorf("corral state of %s left in %s after podman rm", id, corralRoot)
			runCmd(cmdTimeout, nil, corralBin, "--root", corralRoot, "delete", "--force", id)
		}
	}
	unmountAll(t, p.dir)
	removeCgroups(t, p.cgroupParent)
	for _, d := range p.madeDirs {
		os.Remove(d) // when empty: someone else may use it now
	}
	if err := os.RemoveAll(p.dir); err != nil {
		t.Logf("cleanup: %v", err)
	}
}

// TestPodman runs --rootfs containers through rootful podman with corral
// as the runtime: run, errors, exec into a detached container (output,
// exit code, user, stdin, terminal), update, pause, stop, kill, start
// again, rm.
func TestPodman(t *testing.T) {
	needBinaries(t, "podman", "conmon")
	t.Parallel()
	p := newPodman(t)
	if r := p.podman("info"); r.Code != 0 {
		p.fatal(r, "podman does not work here")
	}

	t.Run("Run", func(t *testing.T) {
		p := p.with(t)
		r := p.must(p.runArgs([]string{"--rm"}, "echo", "hi")...)
		if r.Stdout != "hi\n" {
			p.fatal(r, "podman run: stdout %q, want %q", r.Stdout, "hi\n")
		}
		r = p.podman(p.runArgs([]string{"--rm"}, "sh", "-c", "echo to-stderr >&2; exit 3")...)
		if r.Code != 3 || !strings.Contains(r.Stderr, "to-stderr") {
			p.fatal(r, "podman run: want exit 3 and to-stderr on stderr")
		}
	})

	t.Run("Errors", func(t *testing.T) {
		// podman reads corral's JSON log and maps "no such file or
		// directory" to exit status 127, "permission denied" to 126,
		// as for runc.
		p := p.with(t)
		r := p.podman(p.runArgs([]string{"--rm"}, "/nonexistent")...)
		if r.Code != 127 || !strings.Contains(r.Stderr, `"/nonexistent": no such file or directory`) {
			p.fatal(r, "podman run of a missing program: want exit 127 and corral's error")
		}
		r = p.podman(p.runArgs([]string{"--rm"}, "/etc/passwd")...)
		if r.Code != 126 || !strings.Contains(r.Stderr, `"/etc/passwd": permission denied`) {
			p.fatal(r, "podman run of a file that is no program: want exit 126 and corral's error")
		}
		if ids := p.containerIDs(); len(ids) != 0 {
			t.Errorf("containers left after failed runs with --rm: %v", ids)
		}
	})

	t.Run("DetachedExecStop", func(t *testing.T) {
		p := p.with(t)
		name := "corral-x"
		script := `trap "exit 0" TERM; while :; do sleep 0.1; done`
		id := strings.TrimSpace(p.must(p.runArgs([]string{"--detach", "--name", name}, "sh", "-c", script)...).Stdout)
		if got := p.inspect(name, "{{.State.Status}}"); got != "running" {
			t.Fatalf("status %q after run --detach", got)
		}
		// corral runs it: its default state root has it.
		pid := p.inspect(name, "{{.State.Pid}}")
		r := corralState(id)
		if r.Code != 0 || !strings.Contains(r.Stdout, `"status": "running"`) || !strings.Contains(r.Stdout, `"pid": `+pid+",") {
			p.fatal(r, "corral state: want %s running with pid %s", id, pid)
		}

		r = p.podman("exec", name, "sh", "-c", "echo out; cat /proc/1/comm; echo err >&2; exit 5")
		if r.Code != 5 || r.Stdout != "out\nsh\n" || !strings.Contains(r.Stderr, "err") {
			p.fatal(r, "podman exec: want exit 5, stdout %q, err on stderr", "out\nsh\n")
		}
		r = p.must("exec", "--user", "1000", name, "id")
		if !strings.HasPrefix(r.Stdout, "uid=1000(user1) gid=1000(user1)") {
			p.fatal(r, "podman exec --user 1000: want uid=1000(user1) gid=1000(user1)")
		}
		r = p.withInput("from stdin\n").must("exec", "--interactive", name, "cat")
		if r.Stdout != "from stdin\n" {
			p.fatal(r, "podman exec --interactive: want the input back from cat")
		}
		r = p.must("exec", "--env", "FOO=bar", "--workdir", "/tmp", name, "sh", "-c", `echo $FOO; pwd`)
		if r.Stdout != "bar\n/tmp\n" {
			p.fatal(r, "podman exec --env --workdir: want bar and /tmp")
		}

		// update: podman hands corral the resources as JSON.
		p.must("update", "--memory", "64m", "--cpu-shares", "512", name)
		cg := filepath.Join(p.cgroupParent, "libpod-"+id)
		want := map[string]string{
			filepath.Join("memory", cg, "memory.limit_in_bytes"): "67108864",
			filepath.Join("cpu", cg, "cpu.shares"):               "512",
		}
		if cgroupV2() {
			// cpu.shares 512 is cpu.weight 59 by runc's conversion.
			want = map[string]string{
				filepath.Join(cg, "memory.max"): "67108864",
				filepath.Join(cg, "cpu.weight"): "59",
			}
		}
		for f, v := range want {
			f = filepath.Join("/sys/fs/cgroup", f)
			if b, err := os.ReadFile(f); err != nil || strings.TrimSpace(string(b)) != v {
				p.fatalf("podman update --memory 64m --cpu-shares 512: %s holds %q (%v), want %s", f, b, err, v)
			}
		}

		p.must("pause", name)
		if got := p.inspect(name, "{{.State.Status}}"); got != "paused" {
			t.Errorf("status %q after pause", got)
		}
		p.must("unpause", name)
		if got := p.inspect(name, "{{.State.Status}}"); got != "running" {
			t.Errorf("status %q after unpause", got)
		}

		// stop: SIGTERM, which the shell traps and exits 0 on.
		start := time.Now()
		p.must("stop", "--time", "10", name)
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("podman stop took %v: SIGTERM did not reach the shell", d)
		}
		if got := p.inspect(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
			p.fatalf("status and exit code %q after stop, want %q", got, "exited 0")
		}
		p.must("rm", name)
		p.checkGone(id)
	})

	t.Run("TTYRestartKill", func(t *testing.T) {
		// podman -t wants a terminal on its stdin: script(1) gives it one.
		needBinaries(t, "script")
		p := p.with(t)
		r := p.inTerminal(p.runArgs([]string{"--rm", "--tty"}, "tty")...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "/dev/pts/0") {
			p.fatal(r, "podman run --tty: want the program's stdin to be /dev/pts/0")
		}

		name := "corral-tty"
		id := strings.TrimSpace(p.must(p.runArgs([]string{"--detach", "--name", name}, "sleep", "1000")...).Stdout)
		r = p.inTerminal("exec", "--tty", name, "sh", "-c", "tty; exit 6")
		if r.Code != 6 || !strings.Contains(r.Stdout, "/dev/pts/") {
			p.fatal(r, "podman exec --tty: want a /dev/pts terminal and exit 6")
		}

		// kill, then start the same container again: corral creates it
		// anew under the same id.
		p.must("kill", "--signal", "KILL", name)
		p.must("wait", name)
		if got := p.inspect(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
			p.fatalf("status and exit code %q after kill, want %q", got, "exited 137")
		}
		p.must("start", name)
		if got := p.inspect(name, "{{.State.Status}}"); got != "running" {
			p.fatalf("status %q after start", got)
		}
		r = p.must("exec", name, "cat", "/proc/1/cmdline")
		if r.Stdout != "sleep\x001000\x00" {
			p.fatal(r, "podman exec after start: want init's cmdline")
		}
		p.must("rm", "--force", "--time", "0", name)
		p.checkGone(id)
	})

	t.Run("StopKills", func(t *testing.T) {
		p := p.with(t)
		name := "corral-sleep"
		// sleep as pid 1 ignores SIGTERM: stop falls back to SIGKILL.
		id := strings.TrimSpace(p.must(p.runArgs([]string{"--detach", "--name", name}, "sleep", "1000")...).Stdout)
		p.must("stop", "--time", "1", name)
		if got := p.inspect(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
			p.fatalf("status and exit code %q after stop, want %q", got, "exited 137")
		}
		p.must("rm", name)
		p.checkGone(id)
	})
}

// with is p for subtest t.
func (p *podman) with(t *testing.T) *podman {
	n := *p
	n.t = t
	return &n
}

// checkGone checks that a removed container left nothing: no podman
// container, no corral state, no cgroup.
func (p *podman) checkGone(id string) {
	t := p.t
	t.Helper()
	for _, known := range p.containerIDs() {
		if known == id {
			t.Errorf("container %s still listed after rm", id)
		}
	}
	if _, err := os.Stat(filepath.Join(corralRoot, id)); err == nil {
		t.Errorf("corral state of %s left in %s", id, corralRoot)
	}
	if d := itest.CgroupDirs(filepath.Join(p.cgroupParent, "libpod-"+id)); len(d) > 0 {
		t.Errorf("cgroups left: %v", d)
	}
}
