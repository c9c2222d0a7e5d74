package itest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// CmdTimeout bounds one corral invocation: a hang is a failure, not a
// stuck test run.
const CmdTimeout = 60 * time.Second

// Suite is what a test package of the corral command prepared in its
// TestMain.
type Suite struct {
	// Bin is the corral binary under test.
	Bin string
	// Rootfs is the root filesystem of the bundles, shared by every
	// container of the package, which mounts it read-only.
	Rootfs string
	// CgroupParent holds the cgroups of the package's containers, so
	// that a leak is easy to find.
	CgroupParent string
	// Flags are global flags corral gets before every command, after
	// --root (the criu suite's --criu).
	Flags []string
}

// Env is one test's corral: a state root of its own, and the ids of the
// containers the test made, for the package's leak checks.
type Env struct {
	Suite
	T    *testing.T
	Root string

	mu  sync.Mutex
	ids []string
}

// NewEnv gives the test a corral with a new state root. The caller
// registers its package's leak checks.
func NewEnv(t *testing.T, s Suite) *Env {
	t.Helper()
	return &Env{Suite: s, T: t, Root: t.TempDir()}
}

// ID returns a container id unique to this run, named after the test.
func (e *Env) ID() string {
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.ToLower(e.T.Name())
	name = strings.NewReplacer("/", "-", "_", "-", "#", "-").Replace(name)
	name = strings.TrimPrefix(name, "test")
	if len(name) > 40 {
		name = name[:40]
	}
	id := name + "-" + hex.EncodeToString(b)
	e.mu.Lock()
	e.ids = append(e.ids, id)
	e.mu.Unlock()
	return id
}

// IDs are the ids ID returned.
func (e *Env) IDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.ids...)
}

// CgroupsPath is the cgroup of container id.
func (e *Env) CgroupsPath(id string) string {
	return "/" + e.CgroupParent + "/" + id
}

// Bundle writes a bundle for container id that runs args: `corral spec`,
// then the suite's rootfs (read-only, shared), no terminal, the
// container's cgroup, and whatever mods change.
func (e *Env) Bundle(id string, args []string, mods ...func(*specs.Spec)) string {
	e.T.Helper()
	dir := e.T.TempDir()
	e.Must("spec", "--bundle", dir)
	EditSpec(e.T, dir, func(s *specs.Spec) {
		s.Root = &specs.Root{Path: e.Rootfs, Readonly: true}
		s.Process.Terminal = false
		s.Process.Args = args
		s.Linux.CgroupsPath = e.CgroupsPath(id)
		for _, m := range mods {
			m(s)
		}
	})
	return dir
}

// Command is corral with the test's state root, the suite's flags and
// args, its stdin /dev/null. Run it with RunCmd.
func (e *Env) Command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string{"--root", e.Root}, e.Flags...), args...)
	return exec.CommandContext(ctx, e.Bin, full...)
}

// Corral runs corral with args to its end, or CmdTimeout.
func (e *Env) Corral(args ...string) Result {
	e.T.Helper()
	return e.RunCmd(e.Command(context.Background(), args...))
}

// CorralTo runs corral with args, its stdout and stderr to out (a pipe a
// detached container inherits, say), to its end or CmdTimeout.
func (e *Env) CorralTo(out *os.File, args ...string) Result {
	e.T.Helper()
	cmd := e.Command(context.Background(), args...)
	cmd.Stdout, cmd.Stderr = out, out
	return e.RunCmd(cmd)
}

// RunCmd runs cmd, a Command, with Run. A command that cannot be run
// at all fails the test, so it must be called from the test's
// goroutine.
func (e *Env) RunCmd(cmd *exec.Cmd) Result {
	e.T.Helper()
	r := Run(cmd, CmdTimeout)
	if r.Err != nil && !r.Hung {
		e.T.Fatalf("%v", r)
	}
	return r
}

// Must runs corral and fails the test unless it succeeds; it returns
// corral's stdout.
func (e *Env) Must(args ...string) string {
	e.T.Helper()
	r := e.Corral(args...)
	if r.Code != 0 {
		e.T.Fatalf("%v", r)
	}
	return r.Stdout
}

// Fails runs corral, expects it to fail (a non-zero exit status, not a
// hang) with an error on stderr that contains every one of wants, and
// returns stderr. Suites that hold corral to one exit status check it
// themselves.
func (e *Env) Fails(wants []string, args ...string) string {
	e.T.Helper()
	r := e.Corral(args...)
	if r.Code <= 0 {
		e.T.Fatalf("want a failure: %v", r)
	}
	for _, w := range wants {
		if !strings.Contains(r.Stderr, w) {
			e.T.Errorf("corral %q: stderr %q lacks %q", args, r.Stderr, w)
		}
	}
	return r.Stderr
}
