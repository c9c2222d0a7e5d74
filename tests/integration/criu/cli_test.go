package criu

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// cgroupParent holds the cgroups of the CLI tests' containers.
const cgroupParent = "corral-criu-cli-test"

// env is a CLI test's corral (itest's, with criu: every command gets
// --criu), and the leak checks that run when the test ends.
type env struct {
	*itest.Env
}

// newEnv skips without criu, makes the test's state root and registers
// the leak checks, which run after every cleanup the test adds later.
func newEnv(t *testing.T) *env {
	t.Helper()
	requireCriu(t)
	e := &env{itest.NewEnv(t, itest.Suite{
		Bin: corralBin, Rootfs: busybox, CgroupParent: cgroupParent,
		Flags: []string{"--criu", criuPath},
	})}
	keep := testMounts(filepath.Dir(e.Root) + "/")
	before := itest.MountPoints(t, keep)
	t.Cleanup(func() { e.checkNoLeaks(before, keep) })
	return e
}

// state is `corral state` decoded.
type state struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"`
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

// gone checks that the container no longer exists.
func (e *env) gone(id string) {
	e.T.Helper()
	if r := e.Corral("state", id); r.Code == 0 {
		e.T.Errorf("container %s still exists: %s", id, r.Stdout)
	}
}

// startCounter runs the counter in a detached container from bundle, its
// output into a pipe, and returns the reader of its numbers.
func (e *env) startCounter(id, bundle string) *lineReader {
	e.T.Helper()
	r, w := pipe(e.T)
	res := e.CorralTo(w, "run", "--detach", "--bundle", bundle, id)
	w.Close()
	if res.Code != 0 {
		e.T.Fatalf("run %s: exit %d", id, res.Code)
	}
	e.T.Cleanup(func() { e.Corral("delete", "--force", id) })
	return newLineReader(e.T, r)
}

// restoreCounter restores the counter from images, detached, its output
// into a new pipe, and returns the reader of its numbers.
func (e *env) restoreCounter(id, bundle, images string, extra ...string) *lineReader {
	e.T.Helper()
	r, w := pipe(e.T)
	args := append([]string{"restore", "--detach", "--image-path", images, "--bundle", bundle}, extra...)
	res := e.CorralTo(w, append(args, id)...)
	w.Close()
	if res.Code != 0 {
		out, _ := readAvailable(r)
		e.T.Fatalf("restore %s: exit %d: %s", id, res.Code, out)
	}
	e.T.Cleanup(func() { e.Corral("delete", "--force", id) })
	return newLineReader(e.T, r)
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
// anything: a state directory, a cgroup, a host mount that keep accepts.
func (e *env) checkNoLeaks(before []string, keep func(string) bool) {
	t := e.T
	entries, _ := os.ReadDir(e.Root)
	for _, ent := range entries {
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
	if d := itest.Diff(before, itest.MountPoints(t, keep)); d != "" {
		t.Errorf("host mounts left behind: %s", d)
	}
}

// testMounts accepts the host mount points a test could leave: under its
// temporary directories tmp (state root, images, bundles), the busybox
// rootfs, and its network namespaces. Tests of other packages, run
// meanwhile, mount elsewhere.
func testMounts(tmp string) func(string) bool {
	return func(mp string) bool {
		return strings.HasPrefix(mp, tmp) || strings.HasPrefix(mp, busybox+"/") || strings.HasPrefix(mp, "/run/netns/corral-criu-")
	}
}

// recvFD receives the fd the console socket protocol sends on l; it is
// closed when the test ends.
func recvFD(t *testing.T, l *net.UnixListener) *os.File {
	t.Helper()
	f, _ := itest.RecvFD(t, l, itest.CmdTimeout)
	t.Cleanup(func() { f.Close() })
	return f
}
