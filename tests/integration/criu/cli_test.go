package criu

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// cgroupParent holds the cgroups of the CLI tests' containers.
const cgroupParent = "corral-criu-cli-test"

// cmdTimeout bounds one corral invocation.
const cmdTimeout = 60 * time.Second

// env is a CLI test's corral: its state root, the containers it made, and
// the leak checks that run when the test ends.
type env struct {
	t    *testing.T
	root string
	// tmp holds the test's temporary directories.
	tmp string
	ids []string
}

// newEnv skips without criu, makes the test's state root and registers
// the leak checks, which run after every cleanup the test adds later.
func newEnv(t *testing.T) *env {
	t.Helper()
	requireCriu(t)
	e := &env{t: t, root: t.TempDir()}
	e.tmp = filepath.Dir(e.root) + "/"
	before := mountPoints(t, e.tmp)
	t.Cleanup(func() { e.checkNoLeaks(before) })
	return e
}

// id returns a container id unique to this run.
func (e *env) id() string {
	id := randomID(e.t)
	e.ids = append(e.ids, id)
	return id
}

// bundle writes a bundle for container id that runs args: `corral spec`,
// the busybox rootfs read-only, no terminal, the test's cgroup, and mods.
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

// run runs corral with the test's root and criu. Its stdout and stderr
// go to files, or to out when it is set: a detached container inherits
// them.
func (e *env) run(out *os.File, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	full := append([]string{"--root", e.root, "--criu", criuPath}, args...)
	cmd := exec.CommandContext(ctx, corralBin, full...)
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
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	err = cmd.Run()
	res := result{}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("corral %q: %v", args, err)
	}
	o, _ := os.ReadFile(stdout.Name())
	s, _ := os.ReadFile(stderr.Name())
	res.stdout, res.stderr = string(o), string(s)
	return res
}

// must runs corral and fails the test unless it succeeds.
func (e *env) must(args ...string) string {
	e.t.Helper()
	r := e.run(nil, args...)
	if r.code != 0 {
		e.t.Fatalf("corral %q: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs corral, expects it to fail with every one of wants in its
// error, and returns the error.
func (e *env) fails(wants []string, args ...string) string {
	e.t.Helper()
	r := e.run(nil, args...)
	if r.code == 0 {
		e.t.Fatalf("corral %q succeeded, want an error", args)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			e.t.Errorf("corral %q: error %q lacks %q", args, r.stderr, w)
		}
	}
	return r.stderr
}

// state is `corral state` decoded.
type state struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"`
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

// gone checks that the container no longer exists.
func (e *env) gone(id string) {
	e.t.Helper()
	if r := e.run(nil, "state", id); r.code == 0 {
		e.t.Errorf("container %s still exists: %s", id, r.stdout)
	}
}

// startCounter runs the counter in a detached container from bundle, its
// output into a pipe, and returns the reader of its numbers.
func (e *env) startCounter(id, bundle string) *lineReader {
	e.t.Helper()
	r, w := pipe(e.t)
	res := e.run(w, "run", "--detach", "--bundle", bundle, id)
	w.Close()
	if res.code != 0 {
		e.t.Fatalf("run %s: exit %d", id, res.code)
	}
	e.t.Cleanup(func() { e.run(nil, "delete", "--force", id) })
	return newLineReader(e.t, r)
}

// restoreCounter restores the counter from images, detached, its output
// into a new pipe, and returns the reader of its numbers.
func (e *env) restoreCounter(id, bundle, images string, extra ...string) *lineReader {
	e.t.Helper()
	r, w := pipe(e.t)
	args := append([]string{"restore", "--detach", "--image-path", images, "--bundle", bundle}, extra...)
	res := e.run(w, append(args, id)...)
	w.Close()
	if res.code != 0 {
		out, _ := readAvailable(r)
		e.t.Fatalf("restore %s: exit %d: %s", id, res.code, out)
	}
	e.t.Cleanup(func() { e.run(nil, "delete", "--force", id) })
	return newLineReader(e.t, r)
}

// readAvailable reads what a pipe holds without blocking.
func readAvailable(r *os.File) (string, error) {
	if err := unix.SetNonblock(int(r.Fd()), true); err != nil {
		return "", err
	}
	b := make([]byte, 64<<10)
	n, err := r.Read(b)
	if n < 0 {
		n = 0
	}
	return string(b[:n]), err
}

// checkNoLeaks deletes what the test left and fails it if there was
// anything: a state directory, a cgroup, a host mount.
func (e *env) checkNoLeaks(before []string) {
	t := e.t
	entries, _ := os.ReadDir(e.root)
	for _, ent := range entries {
		t.Errorf("left behind in the state root: %s", ent.Name())
		e.run(nil, "delete", "--force", ent.Name())
	}
	for _, id := range e.ids {
		for _, p := range []string{"/sys/fs/cgroup/*/" + cgroupParent + "/" + id, "/sys/fs/cgroup/" + cgroupParent + "/" + id} {
			if leaked, _ := filepath.Glob(p); len(leaked) > 0 {
				t.Errorf("cgroups left behind: %v", leaked)
				for _, d := range leaked {
					os.Remove(d)
				}
			}
		}
	}
	if d := itest.Diff(before, mountPoints(t, e.tmp)); d != "" {
		t.Errorf("host mounts left behind: %s", d)
	}
}

// recvFD receives the fd the console socket protocol sends on l; it is
// closed when the test ends.
func recvFD(t *testing.T, l *net.UnixListener) *os.File {
	t.Helper()
	f, _ := itest.RecvFD(t, l, cmdTimeout)
	t.Cleanup(func() { f.Close() })
	return f
}
