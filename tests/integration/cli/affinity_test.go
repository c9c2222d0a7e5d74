package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// pinned is corral pinned to cpu 0 by taskset, as a runtime started by a
// service with systemd's CPUAffinity= is.
func (e *env) pinned(args ...string) string {
	e.T.Helper()
	cmd := exec.CommandContext(context.Background(), "taskset", append([]string{"-c", "0", e.Bin, "--root", e.Root}, args...)...)
	r := e.RunCmd(cmd)
	if r.Code != 0 {
		e.T.Fatalf("%v", r)
	}
	return r.Stdout
}

// cpusAllowed is the Cpus_allowed_list line of a process's status.
func cpusAllowed(t *testing.T, pid string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list in the status of %s", pid)
	return ""
}

const showCPUs = "grep Cpus_allowed_list /proc/self/status | cut -f2"

// TestCPUAffinityReset: a runtime pinned to a cpu does not pin its
// containers there. Their processes, init and exec'd ones, run on the
// container's cpuset, or on every cpu without one, as with runc (since
// 1.2.7 and 1.3.1): Kubernetes' static CPU manager gives a container its
// cpus with a cpuset and counts on it.
func TestCPUAffinityReset(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("this machine has one cpu: an affinity cannot differ from the default")
	}
	t.Parallel()
	e := newEnv(t)
	all := cpusAllowed(t, "self")

	id := e.ID()
	out := e.pinned("run", "--bundle", e.Bundle(id, []string{"sh", "-c", showCPUs}), id)
	if out != all+"\n" {
		t.Errorf("no cpuset: init runs on cpus %q, want %q", out, all)
	}
	id = e.ID()
	out = e.pinned("run", "--bundle", e.Bundle(id, []string{"sh", "-c", showCPUs}, cpuset("1")), id)
	if out != "1\n" {
		t.Errorf("cpuset 1: init runs on cpus %q, want 1", out)
	}

	id = e.ID()
	e.pinned("run", "--detach", "--bundle", e.Bundle(id, []string{"sleep", "100"}, cpuset("0-1")), id)
	if out := e.pinned("exec", id, "sh", "-c", showCPUs); out != "0-1\n" {
		t.Errorf("cpuset 0-1: exec runs on cpus %q, want 0-1", out)
	}
	e.Must("delete", "--force", id)
}

// TestExecCPUAffinity: process.execCPUAffinity pins the processes exec'd
// in the container, not init, as the runtime spec says and runc does; an
// exec'd process's own execCPUAffinity wins, and its initial cpus alone
// leave it on the container's cpuset.
func TestExecCPUAffinity(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("this machine has one cpu: an affinity cannot differ from the default")
	}
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sleep", "100"}, cpuset("0-1"), func(s *specs.Spec) {
		s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "1"}
	})
	e.pinned("run", "--detach", "--bundle", bundle, id)
	if got := cpusAllowed(t, itoa(e.state(id).Pid)); got != "0-1" {
		t.Errorf("init runs on cpus %q, want the cpuset's, 0-1", got)
	}
	if out := e.pinned("exec", id, "sh", "-c", showCPUs); out != "1\n" {
		t.Errorf("exec runs on cpus %q, want execCPUAffinity.final, 1", out)
	}
	for _, tc := range []struct {
		affinity specs.CPUAffinity
		want     string
	}{
		{specs.CPUAffinity{Final: "0"}, "0\n"},
		{specs.CPUAffinity{Initial: "1"}, "0-1\n"},
	} {
		sp := specs.Process{Args: []string{"sh", "-c", showCPUs}, Cwd: "/", Env: []string{"PATH=/bin"}, ExecCPUAffinity: &tc.affinity}
		b, err := json.Marshal(sp)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "process.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if out := e.pinned("exec", "--process", path, id); out != tc.want {
			t.Errorf("exec with execCPUAffinity %+v runs on cpus %q, want %q", tc.affinity, out, tc.want)
		}
	}
	e.Must("delete", "--force", id)
}

func cpuset(cpus string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: cpus, Mems: "0"}
	}
}
