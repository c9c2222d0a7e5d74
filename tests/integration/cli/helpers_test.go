package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// cmdTimeout bounds one corral invocation: a hang is a failure, not a
// stuck test run.
const cmdTimeout = itest.CmdTimeout

// env is a test's corral: its own state root, the containers it made,
// and the leak checks that run when the test ends.
type env struct {
	*itest.Env
}

// newEnv makes the test's state root and registers the leak checks.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{itest.NewEnv(t, itest.Suite{Bin: corralBin, Rootfs: busybox, CgroupParent: cgroupParent})}
	before := itest.MountPoints(t, itest.TestMount)
	t.Cleanup(func() { e.checkNoLeaks(before) })
	return e
}

// fails runs corral, expects it to fail (exit status 1, or 255 for an
// exec, as runc) with an error on stderr that contains every one of
// wants, and returns stderr.
func (e *env) fails(wants []string, args ...string) string {
	e.T.Helper()
	r := e.Corral(args...)
	if want := failureCode(args); r.Code != want {
		e.T.Fatalf("want exit %d: %v", want, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.Stderr, w) {
			e.T.Errorf("corral %q: stderr %q lacks %q", args, r.Stderr, w)
		}
	}
	return r.Stderr
}

// failureCode is corral's exit status for a command that fails: 255 for
// an exec (so that callers tell it from a program that exited 1), else 1.
func failureCode(args []string) int {
	if len(args) > 0 && args[0] == "exec" {
		return 255
	}
	return 1
}

// state is `corral state` decoded.
type state struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations"`
}

func (e *env) state(id string) state {
	e.T.Helper()
	out := e.Must("state", id)
	var s state
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		e.T.Fatalf("state %s: %v\n%s", id, err, out)
	}
	return s
}

// waitStatus polls the container until it has status; a container that
// does not exist yet (its create is under way) is waited for too.
func (e *env) waitStatus(id, status string) state {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var s state
		r := e.Corral("state", id)
		if r.Code == 0 {
			if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
				e.T.Fatalf("state %s: %v\n%s", id, err, r.Stdout)
			}
			if s.Status == status {
				return s
			}
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("container %s is not %s after 10s: %q %q", id, status, s.Status, r.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runDetached starts a container running args in the background.
func (e *env) runDetached(args []string, mods ...func(*specs.Spec)) string {
	e.T.Helper()
	id := e.ID()
	e.Must("run", "--detach", "--bundle", e.Bundle(id, args, mods...), id)
	return id
}

// checkNoLeaks deletes what the test left (so that one failure does not
// spill over) and fails the test if there was anything: a state
// directory, a cgroup, a host mount.
func (e *env) checkNoLeaks(before []string) {
	t := e.T
	entries, _ := os.ReadDir(e.Root)
	for _, ent := range entries {
		if ent.Name() == ".cache" {
			// The compiled seccomp filters, kept for the state
			// root's life by design.
			continue
		}
		t.Errorf("left behind in the state root: %s", ent.Name())
		e.Corral("delete", "--force", ent.Name())
	}
	for _, id := range e.IDs() {
		if leaked := itest.CgroupDirs(e.CgroupsPath(id)); len(leaked) > 0 {
			t.Errorf("cgroups left behind: %v", leaked)
			for _, d := range leaked {
				os.Remove(d)
			}
		}
	}
	if d := itest.Diff(before, itest.MountPoints(t, itest.TestMount)); d != "" {
		t.Errorf("host mounts left behind: %s", d)
	}
}

// commandNoRoot is corral with args alone, for tests of the global flags.
func (e *env) commandNoRoot(args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	e.T.Cleanup(cancel)
	return exec.CommandContext(ctx, corralBin, args...)
}

// waitTrap waits until process pid handles signal sig (a shell's trap is
// set), so that a test does not signal it before it is ready.
func waitTrap(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "SigCgt:"); ok {
				mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				if err == nil && mask&(1<<(uint(sig)-1)) != 0 {
					return
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d does not handle %v after 10s", pid, sig)
}
