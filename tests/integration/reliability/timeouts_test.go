package reliability

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// TestHookTimeout gives every kind of hook a program that hangs and a
// timeout of 1 s: the hook is killed at its timeout, the command fails
// (or, for poststart, warns) after about a second naming the hook, and
// nothing is left.
func TestHookTimeout(t *testing.T) {
	one := 1
	cases := []struct {
		name, kind string
		set        func(h *specs.Hooks, hook specs.Hook)
		// op is the command the hook runs in.
		op string
		// fails is set when the command must fail.
		fails bool
		// child makes the hook a shell that waits for a child that
		// hangs: the child must not outlive the timeout either.
		child bool
	}{
		//lint:ignore SA1019 prestart hooks are deprecated but run, and must time out too
		{"prestart", "prestart", func(h *specs.Hooks, k specs.Hook) { h.Prestart = []specs.Hook{k} }, "create", true, false},
		{"createRuntime", "createRuntime", func(h *specs.Hooks, k specs.Hook) { h.CreateRuntime = []specs.Hook{k} }, "create", true, false},
		{"createRuntime-child", "createRuntime", func(h *specs.Hooks, k specs.Hook) { h.CreateRuntime = []specs.Hook{k} }, "create", true, true},
		{"createContainer", "createContainer", func(h *specs.Hooks, k specs.Hook) { h.CreateContainer = []specs.Hook{k} }, "create", true, false},
		{"startContainer", "startContainer", func(h *specs.Hooks, k specs.Hook) { h.StartContainer = []specs.Hook{k} }, "start", true, false},
		// The runtime spec makes a failed poststart hook a warning.
		{"poststart", "poststart", func(h *specs.Hooks, k specs.Hook) { h.Poststart = []specs.Hook{k} }, "start", false, false},
		{"poststop", "poststop", func(h *specs.Hooks, k specs.Hook) { h.Poststop = []specs.Hook{k} }, "delete", true, false},
		{"poststop-child", "poststop", func(h *specs.Hooks, k specs.Hook) { h.Poststop = []specs.Hook{k} }, "delete", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.id()
			hookMarker := e.marker()
			// /bin/sleep is on the host and in the busybox image (the
			// create- and startContainer hooks run in the container).
			hook := specs.Hook{Path: "/bin/sleep", Args: []string{"sleep", hookMarker}, Timeout: &one}
			if tc.child {
				hook = specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep " + hookMarker + " & wait"}, Timeout: &one}
			}
			dir := e.bundle(id, []string{"sleep", e.marker()}, func(s *specs.Spec) {
				s.Hooks = &specs.Hooks{}
				tc.set(s.Hooks, hook)
			})
			var r result
			switch tc.op {
			case "create":
				r = e.corralT(30*time.Second, nil, "create", "--bundle", dir, id)
			case "start":
				e.must("create", "--bundle", dir, id)
				r = e.corralT(30*time.Second, nil, "start", id)
			case "delete":
				e.must("run", "--detach", "--bundle", dir, id)
				r = e.corralT(30*time.Second, nil, "delete", "--force", id)
			}
			t.Logf("%s with a hanging %s hook: exit %d after %v: %s", tc.op, tc.kind, r.code, r.elapsed.Round(time.Millisecond), strings.TrimSpace(r.stderr))
			switch {
			case r.hung:
				t.Errorf("HANG: %v", r)
			case r.elapsed > 10*time.Second:
				t.Errorf("the hook was not killed at its timeout of 1s: %v", r)
			case r.elapsed < 900*time.Millisecond:
				t.Errorf("the command ended before the hook's timeout: %v", r)
			}
			if tc.fails && r.code != 1 {
				t.Errorf("want exit 1: %v", r)
			}
			if !tc.fails && r.code != 0 {
				t.Errorf("a failed %s hook is a warning only: %v", tc.kind, r)
			}
			low := strings.ToLower(r.stderr)
			if !strings.Contains(low, strings.ToLower(tc.kind)) || !strings.Contains(low, "timed out") {
				t.Errorf("the error should name the %s hook and its timeout: %q", tc.kind, r.stderr)
			}
			if ps := waitNoMarker(hookMarker, 5*time.Second); len(ps) > 0 {
				t.Errorf("the hook outlives its timeout: %v", ps)
			}
			if tc.op == "delete" {
				if _, err := os.Stat(filepath.Join(e.root, id)); err == nil {
					t.Errorf("delete with a failed poststop hook left the container: %s", e.stateFiles(id))
					e.deleteClean(id)
				}
				return
			}
			if tc.fails {
				if _, err := os.Stat(filepath.Join(e.root, id)); err == nil && tc.op == "create" {
					t.Errorf("a failed create left its state: %s", e.stateFiles(id))
				}
			}
			e.corral("delete", "--force", id)
		})
	}
}

// TestDeleteStuckInit puts a running container's init in
// uninterruptible sleep: it is moved to a cgroup v1 freezer cgroup of
// the test's, which is frozen, so SIGKILL stays pending. delete --force
// must come back in bounded time (the library waits ~10 s for a killed
// init) with an error or success; once the test thaws init, delete
// --force removes everything.
func TestDeleteStuckInit(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/freezer"); err != nil {
		t.Skip("no cgroup v1 freezer:", err)
	}
	e := newEnv(t)
	id := e.id()
	marker := e.marker()
	e.must("run", "--detach", "--bundle", e.bundle(id, []string{"sleep", marker}), id)
	s := e.state(id)
	if s.Status != "running" {
		t.Fatalf("container: %+v", s)
	}
	freezer := "/sys/fs/cgroup/freezer/corral-rel-stuck-" + randHex(4)
	if err := os.Mkdir(freezer, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Thaw whatever is left, let it die, remove the cgroup.
		os.WriteFile(filepath.Join(freezer, "freezer.state"), []byte("THAWED"), 0)
		removeCgroup(freezer)
	})
	if err := os.WriteFile(filepath.Join(freezer, "cgroup.procs"), []byte(strconv.Itoa(s.Pid)), 0); err != nil {
		t.Fatalf("move init to %s: %v", freezer, err)
	}
	setFreezer(t, freezer, "FROZEN")
	if st := procState(s.Pid); st != "D" {
		t.Logf("frozen init %d is in state %q", s.Pid, st)
	}

	r := e.corralT(60*time.Second, nil, "delete", "--force", id)
	t.Logf("delete --force of a container whose init is frozen: exit %d after %v: %s", r.code, r.elapsed.Round(time.Millisecond), strings.TrimSpace(r.stderr))
	switch {
	case r.hung:
		t.Errorf("delete --force HANGS on an init stuck in D state: %v", r)
	case r.elapsed > 30*time.Second:
		t.Errorf("delete --force took %v on an init stuck in D state, want about 10s", r.elapsed)
	}
	checkOutcome(t, r)
	if r.code == 0 {
		if itest.Alive(s.Pid) {
			t.Errorf("delete --force succeeded but init %d is alive (frozen): nothing left to find it by", s.Pid)
		}
	} else if _, err := os.Stat(filepath.Join(e.root, id)); err != nil {
		t.Errorf("delete --force failed but removed the state, the only way to find init %d again: %v", s.Pid, err)
	}
	// state still answers while init is stuck.
	if _, err := os.Stat(filepath.Join(e.root, id)); err == nil {
		if r := e.corralT(10*time.Second, nil, "state", id); r.hung || r.code != 0 {
			t.Errorf("state of the container with a stuck init: %v", r)
		}
	}

	setFreezer(t, freezer, "THAWED")
	if !waitDead(s.Pid, 10*time.Second) {
		t.Errorf("init %d survives its pending SIGKILL once thawed", s.Pid)
		syscall.Kill(s.Pid, syscall.SIGKILL)
	}
	e.deleteClean(id)
	if err := os.Remove(freezer); err != nil {
		t.Errorf("remove %s: %v", freezer, err)
	}
}

// procState is the state letter of pid (R, S, D, Z...).
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return err.Error()
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return "?"
	}
	return s[i+2 : i+3]
}
