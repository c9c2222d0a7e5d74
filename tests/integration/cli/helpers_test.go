package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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
const cmdTimeout = 60 * time.Second

// env is a test's corral: its own state root, the containers it made,
// and the leak checks that run when the test ends.
type env struct {
	t    *testing.T
	root string
	ids  []string
}

// newEnv makes the test's state root and registers the leak checks.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, root: t.TempDir()}
	before := mountPoints(t)
	t.Cleanup(func() { e.checkNoLeaks(before) })
	return e
}

// id returns a container id unique to this test run.
func (e *env) id() string {
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.ToLower(e.t.Name())
	name = strings.NewReplacer("/", "-", "_", "-").Replace(name)
	name = strings.TrimPrefix(name, "test")
	if len(name) > 40 {
		name = name[:40]
	}
	id := name + "-" + hex.EncodeToString(b)
	e.ids = append(e.ids, id)
	return id
}

// bundle writes a bundle for container id that runs args: `corral spec`,
// then the busybox rootfs (read-only, shared), no terminal, the test
// cgroup, and whatever mods change.
func (e *env) bundle(id string, args []string, mods ...func(*specs.Spec)) string {
	e.t.Helper()
	dir := e.t.TempDir()
	e.must("spec", "--bundle", dir)
	itest.EditSpec(e.t, dir, func(s *specs.Spec) {
		s.Root = &specs.Root{Path: busybox, Readonly: true}
		s.Process.Terminal = false
		s.Process.Args = args
		s.Linux.CgroupsPath = "/" + cgroupParent + "/" + id
		for _, m := range mods {
			m(s)
		}
	})
	return dir
}

// result is what one corral invocation did.
type result struct {
	stdout, stderr string
	code           int
}

// command is corral with the test's root and args. Its stdio are files,
// never pipes: a detached container inherits them, and a pipe it holds
// open would keep exec.Cmd.Wait waiting for the container's end.
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, corralBin, append([]string{"--root", e.root}, args...)...)
	cmd.Stdin = nil // /dev/null
	return cmd
}

// corral runs corral to its end and returns its output and exit code.
func (e *env) corral(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	return e.runCmd(e.command(ctx, args...))
}

// runCmd runs cmd with its stdout and stderr in files.
func (e *env) runCmd(cmd *exec.Cmd) result {
	e.t.Helper()
	dir := e.t.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	res := result{code: 0}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("corral %q: %v", cmd.Args[1:], err)
	}
	o, _ := os.ReadFile(stdout.Name())
	s, _ := os.ReadFile(stderr.Name())
	res.stdout, res.stderr = string(o), string(s)
	return res
}

// must runs corral and fails the test unless it succeeds.
func (e *env) must(args ...string) string {
	e.t.Helper()
	r := e.corral(args...)
	if r.code != 0 {
		e.t.Fatalf("corral %q: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs corral, expects exit status 1 and an error on stderr that
// contains every one of wants, and returns stderr.
func (e *env) fails(wants []string, args ...string) string {
	e.t.Helper()
	r := e.corral(args...)
	if r.code != 1 {
		e.t.Fatalf("corral %q: exit %d, want 1\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			e.t.Errorf("corral %q: stderr %q lacks %q", args, r.stderr, w)
		}
	}
	return r.stderr
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
	e.t.Helper()
	out := e.must("state", id)
	var s state
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		e.t.Fatalf("state %s: %v\n%s", id, err, out)
	}
	return s
}

// waitStatus polls the container until it has status; a container that
// does not exist yet (its create is under way) is waited for too.
func (e *env) waitStatus(id, status string) state {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var s state
		r := e.corral("state", id)
		if r.code == 0 {
			if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
				e.t.Fatalf("state %s: %v\n%s", id, err, r.stdout)
			}
			if s.Status == status {
				return s
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s is not %s after 10s: %q %q", id, status, s.Status, r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runDetached starts a container running args in the background.
func (e *env) runDetached(args []string, mods ...func(*specs.Spec)) string {
	e.t.Helper()
	id := e.id()
	e.must("run", "--detach", "--bundle", e.bundle(id, args, mods...), id)
	return id
}

// checkNoLeaks deletes what the test left (so that one failure does not
// spill over) and fails the test if there was anything: a state
// directory, a cgroup, a host mount.
func (e *env) checkNoLeaks(before []string) {
	t := e.t
	entries, _ := os.ReadDir(e.root)
	for _, ent := range entries {
		t.Errorf("left behind in the state root: %s", ent.Name())
		e.corral("delete", "--force", ent.Name())
	}
	for _, id := range e.ids {
		pattern := []string{
			"/sys/fs/cgroup/*/" + cgroupParent + "/" + id,
			"/sys/fs/cgroup/" + cgroupParent + "/" + id,
		}
		for _, p := range pattern {
			if leaked, _ := filepath.Glob(p); len(leaked) > 0 {
				t.Errorf("cgroups left behind: %v", leaked)
				for _, d := range leaked {
					os.Remove(d)
				}
			}
		}
	}
	if d := itest.Diff(before, mountPoints(t)); d != "" {
		t.Errorf("host mounts left behind: %s", d)
	}
}

func mountPoints(t *testing.T) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) > 4 && ownedMount(f[4]) {
			out = append(out, f[4])
		}
	}
	sort.Strings(out)
	return out
}

// ownedMount says whether a host mount point is one this suite could
// leak: under a test's temporary directory or the busybox rootfs, or a
// top-level host path a container mount could escape to. Mounts other
// suites running at the same time (go test runs packages in parallel)
// make in their own directories are not this suite's.
func ownedMount(path string) bool {
	if strings.HasPrefix(path, os.TempDir()+"/Test") || strings.Contains(path, "/tests/rootfs/") {
		return true
	}
	return strings.Count(path, "/") <= 2
}

// commandNoRoot is corral with args alone, for tests of the global flags.
func (e *env) commandNoRoot(args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	e.t.Cleanup(cancel)
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
