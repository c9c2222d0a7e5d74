package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

func TestExec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"}, func(s *specs.Spec) {
		s.Process.Env = append(s.Process.Env, "FROM_SPEC=yes")
	})
	initPid := e.state(id).Pid

	for _, tc := range []struct {
		name string
		args []string
		want string
		code int
	}{
		// "-c" after the container id is sh's, not --cap.
		{"exit code", []string{id, "sh", "-c", "exit 3"}, "", 3},
		{"output", []string{id, "echo", "hello"}, "hello\n", 0},
		{"double dash", []string{id, "--", "echo", "ok"}, "ok\n", 0},
		{"env from the spec", []string{id, "sh", "-c", "echo $FROM_SPEC"}, "yes\n", 0},
		{"env", []string{"-e", "FOO=bar", "--env", "FROM_SPEC=overridden", id, "sh", "-c", "echo $FOO $FROM_SPEC"}, "bar overridden\n", 0},
		{"env path", []string{"-e", "PATH=/bin", id, "sh", "-c", "echo $PATH"}, "/bin\n", 0},
		{"cwd", []string{"--cwd", "/tmp", id, "pwd"}, "/tmp\n", 0},
		{"user", []string{"-u", "1000:1000", id, "id"}, "uid=1000(user1) gid=1000(user1)", 0},
		{"uid only", []string{"--user", "1000", id, "id", "-u"}, "1000\n", 0},
		// The container's /etc/passwd names the uid and gives its
		// home; the gid is the one asked for (0 by default), as runc
		// does.
		{"user of /etc/passwd", []string{"--user", "1000", id, "sh", "-c", "id; echo $HOME"}, "uid=1000(user1) gid=0(root)\n/home/user1\n", 0},
		{"empty HOME", []string{"-e", "HOME=", "--user", "1", id, "sh", "-c", "echo $HOME"}, "/usr/sbin\n", 0},
		{"additional gids", []string{"-u", "1000:1000", "-g", "29", "--additional-gids", "100", id, "id", "-G"}, "1000 29 100\n", 0},
		{"same pid namespace", []string{id, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"}, "sleep 100 ", 0},
		{"no new privs", []string{"--no-new-privs", id, "grep", "NoNewPrivs", "/proc/self/status"}, "NoNewPrivs:\t1\n", 0},
	} {
		r := e.Corral(append([]string{"exec"}, tc.args...)...)
		if r.Code != tc.code {
			t.Errorf("%s: exit %d, want %d; stderr %q", tc.name, r.Code, tc.code, r.Stderr)
			continue
		}
		if !strings.HasPrefix(r.Stdout, tc.want) {
			t.Errorf("%s: stdout %q, want %q", tc.name, r.Stdout, tc.want)
		}
	}

	// --cap adds to the effective set: CAP_SYS_ADMIN is bit 21.
	capEff := func(args ...string) uint64 {
		out := e.Must(append(append([]string{"exec"}, args...), id, "grep", "CapEff", "/proc/self/status")...)
		v, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(out, "CapEff:")), 16, 64)
		if err != nil {
			t.Fatalf("CapEff %q: %v", out, err)
		}
		return v
	}
	if base, with := capEff(), capEff("--cap", "sys_admin"); base&(1<<21) != 0 || with&(1<<21) == 0 {
		t.Errorf("CapEff without --cap %x, with %x", base, with)
	}
	e.fails([]string{"unknown capability"}, "exec", "--cap", "CAP_NOPE", id, "true")
	e.fails([]string{"not a uid"}, "exec", "-u", "bob", id, "true")

	if s := e.state(id); s.Status != "running" || s.Pid != initPid {
		t.Errorf("exec changed the container: %+v", s)
	}
	e.Must("delete", "-f", id)
	e.fails([]string{id}, "exec", id, "true")
}

func TestExecProcessJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	dir := t.TempDir()
	write := func(name string, p specs.Process) string {
		b, _ := json.Marshal(p)
		path := filepath.Join(dir, name)
		os.WriteFile(path, b, 0o644)
		return path
	}
	good := write("good.json", specs.Process{
		Args: []string{"sh", "-c", "echo $A; id -u; pwd; exit 6"},
		Env:  []string{"PATH=/bin", "A=from-json"},
		Cwd:  "/etc",
		User: specs.User{UID: 1000, GID: 1000},
	})
	r := e.Corral("exec", "--process", good, id)
	if r.Code != 6 || r.Stdout != "from-json\n1000\n/etc\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	noArgs := write("noargs.json", specs.Process{Cwd: "/"})
	e.fails([]string{noArgs, "args"}, "exec", "-p", noArgs, id)
	badRlimit := write("rlimit.json", specs.Process{Args: []string{"true"}, Cwd: "/", Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOPE"}}})
	e.fails([]string{badRlimit, "rlimits[0].type"}, "exec", "-p", badRlimit, id)
	e.fails([]string{"--process"}, "exec", "-p", filepath.Join(dir, "missing.json"), id)
	e.Must("delete", "-f", id)
}

// TestExecDetach starts a process that must outlive the corral that
// started it, as containerd's `exec --detach --pid-file` expects.
func TestExecDetach(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	e.Must("exec", "--detach", "--pid-file", pidFile, id, "sleep", "100")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("pid file %q", b)
	}
	time.Sleep(100 * time.Millisecond)
	if !itest.Alive(pid) {
		t.Errorf("the detached process %d died with the corral that started it", pid)
	}
	out := e.Must("ps", "--format", "json", id)
	if !strings.Contains(out, strconv.Itoa(pid)) {
		t.Errorf("ps %s lacks the exec'd pid %d", out, pid)
	}
	e.Must("delete", "-f", id)
}

func TestExecStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"true"})
	e.waitStatus(id, "stopped")
	e.fails([]string{id, "stopped"}, "exec", id, "true")
	e.Must("delete", id)
}

// TestExecCreated runs a process in a container that was created but not
// started, as runc allows.
func TestExecCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	e.Must("create", "--bundle", e.Bundle(id, []string{"sleep", "100"}), id)
	if out := e.Must("exec", id, "echo", "in-created"); out != "in-created\n" {
		t.Errorf("stdout %q", out)
	}
	e.Must("delete", id)
}
