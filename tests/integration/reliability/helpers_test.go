package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// cmdTimeout bounds one corral invocation: a hang is a failure, not a
// stuck test run.
const cmdTimeout = itest.CmdTimeout

// env is a test's corral: its own state root, the containers and markers
// it made, and the leak checks that run when the test ends.
type env struct {
	*itest.Env
	// t and root are the Env's T and Root, by the names the tests use.
	t    *testing.T
	root string
	// tmp holds the test's temporary directories.
	tmp string

	mu      sync.Mutex
	markers []string
}

// newEnv makes the test's state root and registers the leak checks.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, "")
}

// newEnvAt is newEnv with the state root root (which the caller made),
// or a new one when root is empty.
func newEnvAt(t *testing.T, root string) *env {
	t.Helper()
	ie := itest.NewEnv(t, itest.Suite{Bin: corralBin, Rootfs: busybox, CgroupParent: cgroupParent})
	if root != "" {
		ie.Root = root
	}
	e := &env{Env: ie, t: t, root: ie.Root, tmp: filepath.Dir(t.TempDir())}
	before := itest.MountPoints(t, nil)
	t.Cleanup(func() { e.checkNoLeaks(before) })
	return e
}

// id returns a container id unique to this test run.
func (e *env) id() string { return e.ID() }

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// marker returns a number unique to this test run, to be used as the
// argument of a container's program (`sleep <marker>`): a process whose
// command line holds it after the test is a leak.
func (e *env) marker() string {
	var b [4]byte
	rand.Read(b[:])
	m := strconv.Itoa(100000 + int(binary.LittleEndian.Uint32(b[:])%800000))
	e.mu.Lock()
	e.markers = append(e.markers, m)
	e.mu.Unlock()
	return m
}

// cgroupsPath is the absolute cgroup of container id.
func cgroupsPath(id string) string { return "/" + cgroupParent + "/" + id }

// bundle writes a bundle for container id that runs args (Env.Bundle).
func (e *env) bundle(id string, args []string, mods ...func(*specs.Spec)) string {
	e.t.Helper()
	return e.Bundle(id, args, mods...)
}

// result is what one corral invocation did.
type result struct {
	args           []string
	stdout, stderr string
	code           int
	// hung is set when the command outlived its timeout and was killed.
	hung    bool
	elapsed time.Duration
}

func (r result) String() string {
	s := fmt.Sprintf("corral %q: exit %d after %v", r.args, r.code, r.elapsed.Round(time.Millisecond))
	if r.hung {
		s += " (HUNG: killed at its timeout)"
	}
	return s + fmt.Sprintf("\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
}

// command is corral with the test's root and args. Its stdio are files,
// never pipes: a detached container inherits them, and a pipe it holds
// open would keep exec.Cmd.Wait waiting for the container's end.
func (e *env) command(ctx context.Context, extraEnv []string, args ...string) *exec.Cmd {
	cmd := e.Command(ctx, args...)
	if len(extraEnv) > 0 {
		cmd.Env = append(os.Environ(), extraEnv...)
	}
	return cmd
}

// corral runs corral to its end and returns its output and exit code.
func (e *env) corral(args ...string) result {
	return e.corralT(cmdTimeout, nil, args...)
}

// corralT runs corral with a timeout and extra environment. It may be
// called from any goroutine.
func (e *env) corralT(timeout time.Duration, extraEnv []string, args ...string) result {
	r := itest.Run(e.command(context.Background(), extraEnv, args...), timeout)
	res := result{args: args, stdout: r.Stdout, stderr: r.Stderr, code: r.Code, hung: r.Hung, elapsed: r.Elapsed}
	if r.Err != nil && !r.Hung {
		res.stderr += "\n" + r.Err.Error()
	}
	return res
}

// outFiles are the stdout and stderr files of a command in the
// background.
type outFiles struct {
	dir            string
	stdout, stderr *os.File
}

func outputFiles() (*outFiles, error) {
	dir, err := os.MkdirTemp("", "corral-rel-out-")
	if err != nil {
		return nil, err
	}
	o := &outFiles{dir: dir}
	if o.stdout, err = os.Create(filepath.Join(dir, "stdout")); err == nil {
		o.stderr, err = os.Create(filepath.Join(dir, "stderr"))
	}
	if err != nil {
		o.remove()
		return nil, err
	}
	return o, nil
}

func (o *outFiles) read() (string, string) {
	a, _ := os.ReadFile(o.stdout.Name())
	b, _ := os.ReadFile(o.stderr.Name())
	return string(a), string(b)
}

func (o *outFiles) remove() {
	if o.stdout != nil {
		o.stdout.Close()
	}
	if o.stderr != nil {
		o.stderr.Close()
	}
	os.RemoveAll(o.dir)
}

// must runs corral and fails the test unless it succeeds (Env.Must).
func (e *env) must(args ...string) string {
	e.t.Helper()
	return e.Must(args...)
}

// fails runs corral, expects it to fail (exit 1, in time) with an error
// on stderr that contains every one of wants, and returns the result.
func (e *env) fails(wants []string, args ...string) result {
	e.t.Helper()
	r := e.corral(args...)
	if want := failureCode(args); r.code != want || r.hung {
		e.t.Errorf("want exit %d: %v", want, r)
		return r
	}
	for _, w := range wants {
		if !strings.Contains(strings.ToLower(r.stderr), strings.ToLower(w)) {
			e.t.Errorf("corral %q: stderr %q lacks %q", args, r.stderr, w)
		}
	}
	return r
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
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
}

// state runs `corral state id`, which must succeed with valid JSON.
func (e *env) state(id string) state {
	e.t.Helper()
	r := e.corral("state", id)
	if r.code != 0 {
		e.t.Fatalf("state must work: %v", r)
	}
	var s state
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		e.t.Fatalf("state %s: %v\n%s", id, err, r.stdout)
	}
	return s
}

// bg is a corral command running in the background.
type bg struct {
	cmd  *exec.Cmd
	out  *outFiles
	done chan struct{}
	err  error
}

// background starts corral with extraEnv and args; it is killed when the
// test ends if it is still running.
func (e *env) background(extraEnv []string, args ...string) *bg {
	e.t.Helper()
	cmd := e.command(context.Background(), extraEnv, args...)
	out, err := outputFiles()
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out.stdout, out.stderr
	if err := cmd.Start(); err != nil {
		out.remove()
		e.t.Fatal(err)
	}
	b := &bg{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			cmd.Process.Kill()
			<-b.done
		}
		out.remove()
	})
	return b
}

// wait waits up to timeout for the command's end; false if it is still
// running.
func (b *bg) wait(timeout time.Duration) bool {
	select {
	case <-b.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (b *bg) String() string {
	o, e := b.out.read()
	code := "running"
	select {
	case <-b.done:
		code = fmt.Sprint(b.err)
	default:
	}
	return fmt.Sprintf("corral %q: %s\nstdout: %s\nstderr: %s", b.cmd.Args[1:], code, o, e)
}

// exitCode is the command's exit status once it is done.
func (b *bg) exitCode() int {
	<-b.done
	return b.cmd.ProcessState.ExitCode()
}

// readPid reads a pid file, waiting up to timeout for it to appear.
func readPid(path string, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strconv.Atoi(string(bytes.TrimSpace(b)))
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no pid in %s after %v", path, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkNoLeaks deletes what the test left (so that one failure does not
// spill over) and fails the test if there was anything: a state
// directory, a cgroup, a host mount, a process.
func (e *env) checkNoLeaks(before []string) {
	t := e.t
	if entries, err := os.ReadDir(e.root); err == nil {
		for _, ent := range entries {
			t.Errorf("left behind in the state root: %s", ent.Name())
			e.corral("delete", "--force", ent.Name())
			os.RemoveAll(filepath.Join(e.root, ent.Name()))
		}
	}
	e.mu.Lock()
	markers := append([]string(nil), e.markers...)
	e.mu.Unlock()
	ids := e.IDs()
	// Processes first: a live one keeps its cgroup.
	for _, p := range leakedProcs(markers) {
		t.Errorf("process left behind: %s", p)
		syscall.Kill(p.pid, syscall.SIGKILL)
	}
	for _, id := range ids {
		if leaked := cgroupDirs(id); len(leaked) > 0 {
			t.Errorf("cgroups left behind: %v", leaked)
			for _, d := range leaked {
				removeCgroup(d)
			}
		}
	}
	if d := e.newMounts(before); len(d) > 0 {
		t.Errorf("host mounts left behind: %s", strings.Join(d, ", "))
	}
}

// newMounts lists the host mounts that were not there before and may be
// the test's. Other programs (other test packages run at the same time)
// mount under /tmp: only the test's own directories there count.
func (e *env) newMounts(before []string) []string {
	var out []string
	for _, m := range itest.Extra(before, itest.MountPoints(e.t, nil)) {
		if strings.HasPrefix(m, "/tmp/") && !strings.HasPrefix(m, "/tmp/corral-rel-") && !strings.HasPrefix(m, e.tmp+"/") {
			continue
		}
		out = append(out, m)
	}
	return out
}

// cgroupDirs lists the cgroup directories of container id, in every
// hierarchy.
func cgroupDirs(id string) []string { return itest.CgroupDirs(cgroupsPath(id)) }

// removeCgroup removes a cgroup directory, killing what is in it.
func removeCgroup(dir string) {
	for i := 0; i < 100; i++ {
		if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
		time.Sleep(20 * time.Millisecond)
	}
}

// proc is a process found on the host.
type proc struct {
	pid     int
	cmdline []string
}

func (p proc) String() string { return fmt.Sprintf("pid %d %q", p.pid, p.cmdline) }

// leakedProcs returns the processes that run corral (the binary under
// test: a runtime, an init or an exec child), or whose command line has
// one of markers as an argument.
func leakedProcs(markers []string) []proc {
	var out []proc
	for _, p := range allProcs() {
		if len(p.cmdline) == 0 {
			continue
		}
		leak := p.cmdline[0] == corralBin
		for _, a := range p.cmdline[1:] {
			for _, m := range markers {
				if a == m {
					leak = true
				}
			}
		}
		if leak {
			out = append(out, p)
		}
	}
	return out
}

// allProcs lists the host's processes but this one, with their command
// lines (zombies have none).
func allProcs() []proc {
	ents, _ := os.ReadDir("/proc")
	var out []proc
	self := os.Getpid()
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		out = append(out, proc{pid: pid, cmdline: args})
	}
	return out
}

// markerProcs returns the live processes with marker as an argument.
func markerProcs(marker string) []proc {
	var out []proc
	for _, p := range leakedProcs([]string{marker}) {
		if len(p.cmdline) > 0 && p.cmdline[0] != corralBin {
			out = append(out, p)
		}
	}
	return out
}

// waitNoMarker waits until no process has marker as an argument, and
// returns those that still have it.
func waitNoMarker(marker string, timeout time.Duration) []proc {
	var ps []proc
	itest.WaitFor(timeout, func() bool {
		ps = markerProcs(marker)
		return len(ps) == 0
	})
	return ps
}

// waitDead waits until pid is gone or a zombie.
func waitDead(pid int, timeout time.Duration) bool {
	return itest.WaitFor(timeout, func() bool { return !itest.Alive(pid) })
}

// stateFiles lists what is in the container's state directory, for
// failure messages.
func (e *env) stateFiles(id string) string {
	dir := filepath.Join(e.root, id)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var names []string
	for _, ent := range ents {
		names = append(names, ent.Name())
	}
	s := dir + ": " + strings.Join(names, " ")
	if b, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
		var st struct {
			Pid   int               `json:"init_process_pid"`
			Start uint64            `json:"init_process_start"`
			Cg    map[string]string `json:"cgroup_paths"`
		}
		json.Unmarshal(b, &st)
		s += fmt.Sprintf("\nstate.json: init_process_pid=%d init_process_start=%d (alive: %v) cgroup_paths: %d", st.Pid, st.Start, itest.Alive(st.Pid), len(st.Cg))
	}
	return s
}

// deleteClean runs `delete --force` on id, which must succeed; the leak
// checks at the end of the test check that nothing is left.
func (e *env) deleteClean(id string) {
	e.t.Helper()
	r := e.corral("delete", "--force", id)
	if r.code != 0 || r.hung {
		e.t.Errorf("delete --force must remove the container: %v\n%s", r, e.stateFiles(id))
		return
	}
	if _, err := os.Stat(filepath.Join(e.root, id)); err == nil {
		e.t.Errorf("delete --force %s succeeded but left its state directory: %s", id, e.stateFiles(id))
	}
	if d := cgroupDirs(id); len(d) > 0 {
		e.t.Errorf("delete --force %s succeeded but left cgroups %v", id, d)
	}
}
