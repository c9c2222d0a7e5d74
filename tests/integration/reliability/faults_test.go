package reliability

import (
	"encoding/json"
	"fmt"
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

// pauseEnv makes corral sleep at phase, writing its pid to file (see
// internal/faults).
func pauseEnv(phase, file string) []string {
	return []string{"CORRAL_TEST_PAUSE_AT=" + phase, "CORRAL_TEST_PAUSE_FILE=" + file}
}

// pausedAt waits for b to reach its pause point and returns the pid it
// wrote; the test fails if b ends first or never gets there.
func pausedAt(t *testing.T, b *bg, file string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if pid, err := readPid(file, 0); err == nil {
			return pid
		}
		select {
		case <-b.done:
			t.Fatalf("corral ended before its pause point: %v", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("corral did not reach its pause point in 20s: %v", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// strayCorral returns the live processes of the corral binary other than
// allowed (the init of a created container).
func strayCorral(allowed int) []proc {
	var out []proc
	for _, p := range allProcs() {
		if len(p.cmdline) > 0 && p.cmdline[0] == corralBin && p.pid != allowed && itest.Alive(p.pid) {
			out = append(out, p)
		}
	}
	return out
}

// waitTruth polls `corral state` until it says want, and checks it
// against the kernel: a stopped container has no live init, any other
// one has. It returns the last state.
func (e *env) waitTruth(id, want string) state {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var s state
	for {
		r := e.corral("state", id)
		if r.code != 0 || r.hung {
			e.t.Fatalf("state must work after the runtime was killed: %v\n%s", r, e.stateFiles(id))
		}
		s = state{}
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			e.t.Fatalf("state %s: %v\n%s", id, err, r.stdout)
		}
		if s.Status == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.Status != want {
		e.t.Errorf("state says %q, want %q\n%s", s.Status, want, e.stateFiles(id))
	}
	if s.ID != id {
		e.t.Errorf("state has id %q, want %q", s.ID, id)
	}
	switch {
	case s.Status == "stopped" && s.Pid != 0 && itest.Alive(s.Pid):
		e.t.Errorf("state says stopped but reports pid %d, which is alive", s.Pid)
	case s.Status != "stopped" && !itest.Alive(s.Pid):
		e.t.Errorf("state says %s but its pid %d is not alive", s.Status, s.Pid)
	}
	return s
}

// checkList checks that `corral list` works and lists id.
func (e *env) checkList(id string) {
	e.t.Helper()
	r := e.corral("list", "--format", "json")
	if r.code != 0 || r.hung {
		e.t.Errorf("list must work after the runtime was killed: %v", r)
		return
	}
	var l []state
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		e.t.Errorf("list --format json: %v\n%s", err, r.stdout)
		return
	}
	for _, s := range l {
		if s.ID == id {
			return
		}
	}
	e.t.Errorf("list does not show container %s, whose state directory is there: %s\n%s", id, r.stdout, e.stateFiles(id))
}

// TestFaultKillRuntime kills -9 the runtime at every phase of create,
// start, exec and delete, then checks that `state` tells the truth, that
// `list` works, and that `delete --force` removes everything.
func TestFaultKillRuntime(t *testing.T) {
	cases := []struct {
		phase string
		// want is the container's status after the kill.
		want string
	}{
		// Nothing runs yet.
		{"create:dir-made", "stopped"},
		{"create:state-saved", "stopped"},
		// init dies with its parent until it is ready.
		{"init:spawned", "stopped"},
		// init has its setup and goes on while the runtime sleeps: it
		// dies with the runtime, or it got ready first (it drops its
		// parent death signal then) and waits for start.
		{"init:recorded", "stopped|created"},
		// init is ready and waits for start.
		{"init:ready", "created"},
		{"start:before-fifo", "created"},
		// The program runs.
		{"start:fifo-read", "running"},
		{"exec:spawned", "running"},
		// init is killed.
		{"destroy:killed", "stopped"},
		{"destroy:torn-down", "stopped"},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.phase, ":", "-"), func(t *testing.T) {
			e := newEnv(t)
			id := e.id()
			marker := e.marker()
			dir := e.bundle(id, []string{"sleep", marker})
			tmp := t.TempDir()
			pauseFile := filepath.Join(tmp, "pause")
			pidFile := filepath.Join(tmp, "pid")
			env := pauseEnv(tc.phase, pauseFile)
			op, _, _ := strings.Cut(tc.phase, ":")
			var b *bg
			var execMarker string
			switch op {
			case "create", "init":
				b = e.background(env, "create", "--bundle", dir, "--pid-file", pidFile, id)
			case "start":
				e.must("create", "--bundle", dir, "--pid-file", pidFile, id)
				b = e.background(env, "start", id)
			case "exec":
				e.must("create", "--bundle", dir, "--pid-file", pidFile, id)
				e.must("start", id)
				execMarker = e.marker()
				b = e.background(env, "exec", id, "sleep", execMarker)
			case "destroy":
				e.must("create", "--bundle", dir, "--pid-file", pidFile, id)
				e.must("start", id)
				b = e.background(env, "delete", "--force", id)
			}
			pid := pausedAt(t, b, pauseFile)
			if pid != b.cmd.Process.Pid {
				t.Fatalf("pause file has pid %d, the runtime is %d", pid, b.cmd.Process.Pid)
			}
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if !b.wait(10 * time.Second) {
				t.Fatalf("the runtime did not die of SIGKILL: %v", b)
			}

			want := tc.want
			if strings.Contains(want, "|") {
				// Give a dying init time to die, then take what is.
				time.Sleep(500 * time.Millisecond)
				s := e.state(id)
				if !strings.Contains("|"+want+"|", "|"+s.Status+"|") {
					t.Errorf("state says %q, want one of %s\n%s", s.Status, want, e.stateFiles(id))
				}
				want = s.Status
				t.Logf("after the kill at %s the container is %s", tc.phase, want)
			}
			s := e.waitTruth(id, want)
			// Whatever the runtime started dies with it, but the init
			// of a created container, which waits for start.
			allowed := 0
			if s.Status == "created" {
				allowed = s.Pid
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(strayCorral(allowed)) > 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if ps := strayCorral(allowed); len(ps) > 0 {
				t.Errorf("runtime processes outlive the killed runtime: %v\n%s", ps, e.stateFiles(id))
			}
			if execMarker != "" {
				if ps := waitNoMarker(execMarker, 5*time.Second); len(ps) > 0 {
					t.Errorf("the exec'd process was started although its runtime was killed before the setup: %v", ps)
				}
			}
			e.checkList(id)

			switch {
			case s.Status == "created":
				// A created container can still be started: an engine
				// retries a start whose runtime died.
				if r := e.corral("start", id); r.code != 0 || r.hung {
					t.Errorf("start of the created container after the killed %s: %v", op, r)
				} else {
					e.waitTruth(id, "running")
				}
			case tc.phase == "start:fifo-read" || tc.phase == "exec:spawned":
				if ps := markerProcs(marker); len(ps) != 1 || ps[0].pid != s.Pid {
					t.Errorf("the container's program: %v, want one process, pid %d", ps, s.Pid)
				}
			}
			e.deleteClean(id)
			if ps := waitNoMarker(marker, 5*time.Second); len(ps) > 0 {
				t.Errorf("delete --force left the container's program: %v", ps)
			}
		})
	}
}

// TestFaultKillInitBeforeStart kills -9 a created container's init
// between create and start: start fails clearly, state says stopped,
// delete --force removes everything.
func TestFaultKillInitBeforeStart(t *testing.T) {
	e := newEnv(t)
	id := e.id()
	pidFile := filepath.Join(t.TempDir(), "pid")
	e.must("create", "--bundle", e.bundle(id, []string{"sleep", e.marker()}), "--pid-file", pidFile, id)
	pid, err := readPid(pidFile, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if !waitDead(pid, 10*time.Second) {
		t.Fatalf("init %d survives SIGKILL", pid)
	}
	e.waitTruth(id, "stopped")
	e.fails([]string{id, "stopped"}, "start", id)
	e.waitTruth(id, "stopped")
	e.checkList(id)
	e.deleteClean(id)
}

// freezerDir is the v1 freezer cgroup of container id.
func freezerDir(id string) string {
	return "/sys/fs/cgroup/freezer" + cgroupsPath(id)
}

// setFreezer writes state (FROZEN or THAWED) to the freezer cgroup dir
// and waits until the cgroup is in that state.
func setFreezer(t *testing.T, dir, state string) {
	t.Helper()
	f := filepath.Join(dir, "freezer.state")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := os.WriteFile(f, []byte(state), 0); err != nil {
			t.Fatalf("freezer: %v", err)
		}
		b, _ := os.ReadFile(f)
		if strings.TrimSpace(string(b)) == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %q, not %s, after 10s", f, b, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFaultKillInitDuringStart kills -9 init while `corral start` waits
// for it to run the program. A startContainer hook (it runs in init,
// after start released it) holds init long enough that start is surely
// under way when init dies: start must fail with a clear error, not
// hang, and delete --force removes everything.
func TestFaultKillInitDuringStart(t *testing.T) {
	e := newEnv(t)
	id := e.id()
	pidFile := filepath.Join(t.TempDir(), "pid")
	bundle := e.bundle(id, []string{"sleep", e.marker()}, func(s *specs.Spec) {
		if s.Hooks == nil {
			s.Hooks = &specs.Hooks{}
		}
		s.Hooks.StartContainer = []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "30"}}}
	})
	e.must("create", "--bundle", bundle, "--pid-file", pidFile, id)
	pid, err := readPid(pidFile, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b := e.background(nil, "start", id)
	if b.wait(500 * time.Millisecond) {
		t.Fatalf("start ended although the startContainer hook still runs: %v", b)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if !waitDead(pid, 10*time.Second) {
		t.Fatalf("init %d survives SIGKILL", pid)
	}
	if !b.wait(20 * time.Second) {
		t.Fatalf("start hangs after init died: %v\n%s", b, e.stateFiles(id))
	}
	if code := b.exitCode(); code != 1 {
		t.Errorf("start of a container whose init died: exit %d, want 1: %v", code, b)
	}
	_, stderr := b.out.read()
	if !strings.Contains(stderr, id) || !strings.Contains(stderr, "init") {
		t.Errorf("start's error should name the container and say init died: %q", stderr)
	}
	e.waitTruth(id, "stopped")
	e.deleteClean(id)
	// The hook's sleep was init's child, in the container: gone too.
	if procs := waitNoMarker("sleep 30", 5*time.Second); len(procs) > 0 {
		t.Errorf("processes left: %v", procs)
	}
}

// TestFaultKillInitDuringCreate kills -9 init while create sets it up (a
// createRuntime hook kills it): create fails with a clear error and
// leaves nothing.
func TestFaultKillInitDuringCreate(t *testing.T) {
	e := newEnv(t)
	id := e.id()
	// The hook gets the state, with init's pid, on stdin.
	killer := `pid=$(tr -d '\n ' | sed -n 's/.*"pid":\([0-9][0-9]*\).*/\1/p'); kill -9 "$pid"`
	dir := e.bundle(id, []string{"sleep", e.marker()}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", killer}}}}
	})
	r := e.fails([]string{id}, "create", "--bundle", dir, id)
	if !strings.Contains(r.stderr, "init") && !strings.Contains(r.stderr, "signal") && !strings.Contains(r.stderr, "killed") {
		t.Errorf("create's error should say init died: %q", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.root, id)); err == nil {
		t.Errorf("a failed create left its state: %s", e.stateFiles(id))
		e.deleteClean(id)
	}
}

// TestFrozenWhenInitDied puts the container in the state the concurrency
// test met once in a dozen runs: init dead (a pause met it exiting) and
// the cgroup frozen, holding a process that is not in init's pid
// namespace (there: an exec's bootstrap, frozen as it joined the
// freezer; here: a sleep the test moves into every hierarchy). resume
// thaws what is left, though the container is stopped, and delete
// --force kills it and removes every cgroup. Before, delete --force
// spent its whole timeout in one attempt to remove the busy cgroups
// without killing or thawing anything, and failed; the exec hung.
func TestFrozenWhenInitDied(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/freezer"); err != nil {
		t.Skip("no cgroup v1 freezer hierarchy on this host")
	}
	e := newEnv(t)
	id := e.id()
	marker := e.marker()
	e.must("run", "--detach", "--bundle", e.bundle(id, []string{"sleep", marker}), id)
	pid := e.state(id).Pid
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, thaw := range []bool{true, false} {
		left := exec.Command("sleep", marker)
		if err := left.Start(); err != nil {
			t.Fatal(err)
		}
		defer left.Process.Kill()
		for _, line := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
			f := strings.SplitN(line, ":", 3)
			hier := strings.TrimPrefix(f[1], "name=")
			if hier == "" {
				hier = "unified"
			}
			procs := filepath.Join("/sys/fs/cgroup", hier, f[2], "cgroup.procs")
			if err := os.WriteFile(procs, []byte(strconv.Itoa(left.Process.Pid)), 0); err != nil {
				t.Fatalf("move pid %d into %s: %v", left.Process.Pid, procs, err)
			}
		}
		if thaw {
			setFreezer(t, freezerDir(id), "FROZEN")
			// Frozen, init's SIGKILL waits for the thaw: as after a
			// pause that met init exiting, thaw it alone.
			syscall.Kill(pid, syscall.SIGKILL)
			setFreezer(t, freezerDir(id), "THAWED")
			if !waitDead(pid, 10*time.Second) {
				t.Fatalf("init %d survives SIGKILL", pid)
			}
			setFreezer(t, freezerDir(id), "FROZEN")
			e.waitTruth(id, "stopped")
			e.fails([]string{"not paused", "stopped"}, "resume", id)
			b, _ := os.ReadFile(filepath.Join(freezerDir(id), "freezer.state"))
			if s := strings.TrimSpace(string(b)); s != "THAWED" {
				t.Errorf("resume of a stopped container left its cgroup %s", s)
			}
			continue
		}
		setFreezer(t, freezerDir(id), "FROZEN")
	}
	start := time.Now()
	e.deleteClean(id)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("delete --force took %v", d)
	}
	if ps := waitNoMarker(marker, 5*time.Second); len(ps) > 0 {
		t.Errorf("processes outlive delete --force: %v", ps)
	}
}
