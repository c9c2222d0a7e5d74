package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// TestCreateStartKillDelete walks a container through the OCI states and
// checks the state JSON and the pid file on the way.
func TestCreateStartKillDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sleep", "100"}, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.example.key": "value"}
	})
	pidFile := filepath.Join(t.TempDir(), "init.pid")
	e.Must("create", "--bundle", bundle, "--pid-file", pidFile, id)

	s := e.state(id)
	if s.Status != "created" || s.ID != id || s.Bundle != bundle || s.Rootfs != busybox {
		t.Errorf("state after create: %+v", s)
	}
	if s.Version != specs.Version || s.Owner != "root" {
		t.Errorf("ociVersion %q, owner %q", s.Version, s.Owner)
	}
	if s.Annotations["org.example.key"] != "value" {
		t.Errorf("annotations %v", s.Annotations)
	}
	if s.Created.IsZero() || time.Since(s.Created) > time.Minute || s.Created.Location() != time.UTC {
		t.Errorf("created %v", s.Created)
	}
	raw := e.Must("state", id)
	if !strings.Contains(raw, "\n  \"id\": ") {
		t.Errorf("state is not indented with two spaces:\n%s", raw)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if pid, err := strconv.Atoi(string(b)); err != nil || pid != s.Pid || pid <= 0 {
		t.Errorf("pid file holds %q, state pid %d", b, s.Pid)
	}
	if !itest.Alive(s.Pid) {
		t.Errorf("init %d is not alive after create", s.Pid)
	}

	e.Must("start", id)
	if s := e.state(id); s.Status != "running" {
		t.Errorf("status after start: %s", s.Status)
	}
	e.fails([]string{id}, "start", id)

	e.Must("kill", id, "KILL")
	s = e.waitStatus(id, "stopped")
	if s.Pid != 0 {
		t.Errorf("pid of a stopped container: %d", s.Pid)
	}
	e.Must("delete", id)
	e.fails([]string{id, "does not exist"}, "state", id)
}

// TestDeleteCreated deletes a created container without --force, as
// runc allows: its program never ran.
func TestDeleteCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	e.Must("create", "--bundle", e.Bundle(id, []string{"true"}), id)
	pid := e.state(id).Pid
	e.Must("delete", id)
	if itest.Alive(pid) {
		t.Errorf("init %d survived delete", pid)
	}
}

func TestDeleteRunningNeedsForce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	pid := e.state(id).Pid
	e.fails([]string{id, "not stopped", "running"}, "delete", id)
	if s := e.state(id); s.Status != "running" {
		t.Fatalf("a refused delete changed the container: %s", s.Status)
	}
	// Flags after the container id are flags too.
	e.Must("delete", id, "--force")
	if itest.Alive(pid) {
		t.Errorf("init %d survived delete --force", pid)
	}
}

func TestDeleteUnknown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fails([]string{"no-such", "does not exist"}, "delete", "no-such")
	if r := e.Corral("delete", "--force", "no-such"); r.Code != 0 || r.Stderr != "" {
		t.Errorf("delete --force of an unknown container: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestStartStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"true"})
	e.waitStatus(id, "stopped")
	e.fails([]string{id}, "start", id)
	e.Must("delete", id)
}

func TestKill(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	trap := []string{"sh", "-c", `trap "echo got-term; exit 0" TERM; trap "exit 0" USR1; while :; do sleep 0.05; done`}
	for _, sig := range []string{"", "TERM", "SIGTERM", "15", "usr1"} {
		id := e.runDetached(trap)
		waitTrap(t, e.state(id).Pid, syscall.SIGUSR1)
		args := []string{"kill", id}
		if sig != "" {
			args = append(args, sig)
		}
		e.Must(args...)
		e.waitStatus(id, "stopped")
		e.Must("delete", id)
	}
	id := e.runDetached([]string{"sleep", "100"})
	e.fails([]string{"unknown signal"}, "kill", id, "NOSUCHSIG")
	e.Must("kill", "--all", id, "KILL")
	e.waitStatus(id, "stopped")
	e.fails([]string{id, "not running"}, "kill", id)
	e.Must("delete", id)
	e.fails([]string{"no-such"}, "kill", "no-such")
}

func TestDuplicateID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sleep", "100"})
	e.Must("create", "--bundle", bundle, id)
	pid := e.state(id).Pid
	e.fails([]string{id, "already exists"}, "create", "--bundle", bundle, id)
	e.fails([]string{id, "already exists"}, "run", "--detach", "--bundle", bundle, id)
	s := e.state(id)
	if s.Status != "created" || s.Pid != pid || !itest.Alive(pid) {
		t.Errorf("the first container changed: %+v", s)
	}
	e.Must("delete", id)
}

// TestCgroupOfAnother runs a container whose cgroup path is that of a
// running container of another state root. The run must fail naming the
// cgroup, and leave nothing: no state, and the other container running in
// its cgroup.
func TestCgroupOfAnother(t *testing.T) {
	t.Parallel()
	first, second := newEnv(t), newEnv(t)
	id := first.runDetached([]string{"sleep", "100"})
	pid := first.state(id).Pid
	bundle := second.Bundle(id, []string{"true"})
	second.fails([]string{"container's cgroup is not empty", strconv.Itoa(pid)}, "run", "--bundle", bundle, id)
	if entries, _ := os.ReadDir(second.Root); len(entries) > 0 {
		t.Errorf("the failed run left %s in its state root", entries[0].Name())
	}
	if s := first.state(id); s.Status != "running" || !itest.Alive(pid) {
		t.Errorf("the other container changed: %+v", s)
	}
	dir := "/sys/fs/cgroup/pids/" + cgroupParent + "/" + id // v1
	if _, err := os.Stat(dir); err != nil {
		dir = "/sys/fs/cgroup/" + cgroupParent + "/" + id // v2
	}
	procs, err := os.ReadFile(dir + "/cgroup.procs")
	if err != nil || !strings.Contains(string(procs), strconv.Itoa(pid)) {
		t.Errorf("the other container's cgroup lost its init %d: %q %v", pid, procs, err)
	}
	first.Must("delete", "--force", id)
}

func TestInvalidID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.Bundle("invalid", []string{"true"})
	e.fails([]string{"invalid container ID"}, "create", "--bundle", bundle, "../escape")
	e.fails([]string{"invalid container ID"}, "state", "a/b")
}

// TestRelativeRootfs runs the bundle as `corral spec` writes it, with its
// rootfs beside config.json, from inside the bundle.
func TestRelativeRootfs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"cat", "/etc/hostname"}, func(s *specs.Spec) {
		s.Root = &specs.Root{Path: "rootfs", Readonly: true}
	})
	if out, err := exec.Command("cp", "-a", busybox, filepath.Join(bundle, "rootfs")).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.Command(ctx, "run", id)
	cmd.Dir = bundle
	r := e.RunCmd(cmd)
	if r.Code != 0 || r.Stdout != "corral-test\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// TestRunExitCodes checks that run exits as the container's program.
func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		script string
		code   int
	}{
		{"echo out; echo err >&2", 0},
		{"exit 3", 3},
		{"exit 255", 255},
	} {
		id := e.ID()
		r := e.Corral("run", "--bundle", e.Bundle(id, []string{"sh", "-c", tc.script}), id)
		if r.Code != tc.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tc.script, r.Code, tc.code, r.Stderr)
		}
		if tc.code == 0 && (r.Stdout != "out\n" || r.Stderr != "err\n") {
			t.Errorf("%q: stdout %q, stderr %q", tc.script, r.Stdout, r.Stderr)
		}
	}
	// A program that is not there fails the start, with an error.
	id := e.ID()
	e.fails([]string{"nosuchprogram"}, "run", "--bundle", e.Bundle(id, []string{"nosuchprogram"}), id)
}

func TestRunKeep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	r := e.Corral("run", "--keep", "--bundle", e.Bundle(id, []string{"sh", "-c", "exit 4"}), id)
	if r.Code != 4 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if s := e.state(id); s.Status != "stopped" {
		t.Errorf("kept container is %s", s.Status)
	}
	e.Must("delete", id)
}

// TestRunForwardsSignals sends corral SIGTERM: the container's init gets
// it, and corral exits with its status.
// trapScript reports the signals it catches and exits 7 on SIGTERM.
const trapScript = `trap "echo hup" HUP; trap "echo usr1" USR1; trap "echo usr2" USR2; trap "exit 7" TERM; while :; do sleep 0.05; done`

// sendSignals sends corral (cmd) the signals trapScript reports, one at a
// time, and SIGTERM last.
func sendSignals(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond) // the trap's turn comes between sleeps
	}
}

func TestRunForwardsSignals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sh", "-c", trapScript})
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.Command(ctx, "run", "--bundle", bundle, id)
	done := make(chan itest.Result, 1)
	go func() { done <- e.RunCmd(cmd) }()
	waitTrap(t, e.waitStatus(id, "running").Pid, syscall.SIGTERM)
	sendSignals(t, cmd)
	r := <-done
	if r.Code != 7 || r.Stdout != "hup\nusr1\nusr2\n" {
		t.Fatalf("exit %d, want 7; stdout %q, want hup, usr1, usr2; stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestExecForwardsSignals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	initPid := e.state(id).Pid
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.Command(ctx, "exec", id, "sh", "-c", trapScript)
	done := make(chan itest.Result, 1)
	go func() { done <- e.RunCmd(cmd) }()
	var pid int
	deadline := time.Now().Add(10 * time.Second)
	for pid == 0 && time.Now().Before(deadline) {
		var pids []int
		if err := json.Unmarshal([]byte(e.Must("ps", "--format", "json", id)), &pids); err != nil {
			t.Fatal(err)
		}
		for _, p := range pids {
			comm, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/comm")
			if p != initPid && string(comm) == "sh\n" {
				pid = p
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the exec'd process did not appear")
	}
	waitTrap(t, pid, syscall.SIGTERM)
	sendSignals(t, cmd)
	r := <-done
	if r.Code != 7 || r.Stdout != "hup\nusr1\nusr2\n" {
		t.Fatalf("exit %d, want 7; stdout %q, want hup, usr1, usr2; stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	e.Must("delete", "--force", id)
}

// TestRunKilledExitCode kills a foreground container: corral exits with
// 128+9.
func TestRunKilledExitCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sleep", "100"})
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	done := make(chan itest.Result, 1)
	go func() { done <- e.RunCmd(e.Command(ctx, "run", "--bundle", bundle, id)) }()
	e.waitStatus(id, "running")
	e.Must("kill", id, "KILL")
	if r := <-done; r.Code != 137 {
		t.Fatalf("exit %d, want 137; stderr %q", r.Code, r.Stderr)
	}
}

func TestRunDetachPidFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	pidFile := filepath.Join(t.TempDir(), "pid")
	e.Must("run", "-d", "--pid-file", pidFile, "--bundle", e.Bundle(id, []string{"sleep", "100"}), id)
	b, _ := os.ReadFile(pidFile)
	if s := e.state(id); s.Status != "running" || strconv.Itoa(s.Pid) != string(b) {
		t.Errorf("state %+v, pid file %q", s, b)
	}
	e.Must("delete", "-f", id)
}

// TestNoPivotNoNewKeyring runs with the flags that change how the root
// and the keyring are set up.
func TestNoPivotNoNewKeyring(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	r := e.Corral("run", "--no-pivot", "--no-new-keyring", "--bundle", e.Bundle(id, []string{"cat", "/etc/hostname"}), id)
	if r.Code != 0 || r.Stdout != "corral-test\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestDebugLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := filepath.Join(t.TempDir(), "log")
	id := e.ID()
	r := e.Corral("--debug", "--log", log, "run", "--bundle", e.Bundle(id, []string{"sh", "-c", "exit 9"}), id)
	if r.Code != 9 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "level=debug") {
		t.Errorf("no debug entry in the log: %q", b)
	}
}

// A program that passes the checks at create but that the kernel refuses
// to exec: start reads init's answer to the end and says why, and the
// container is stopped.
func TestStartExecFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	prog := filepath.Join(t.TempDir(), "notaprogram")
	if err := os.WriteFile(prog, []byte("neither ELF nor a script\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	bundle := e.Bundle(id, []string{"/notaprogram"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/notaprogram", Type: "bind", Source: prog, Options: []string{"bind", "ro"}})
	})
	e.Must("create", "--bundle", bundle, id)
	out := e.fails([]string{"exec format error", id}, "start", id)
	if !strings.Contains(out, "/notaprogram") {
		t.Errorf("start's error does not name the program: %q", out)
	}
	if s := e.state(id); s.Status != "stopped" {
		t.Errorf("status after a failed start: %s", s.Status)
	}
	e.Must("delete", id)
}
