package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// TestInitThreadsDropRoot checks, on the binary as built to ship, that no
// thread of a created container's init holds more than the program will
// (issue 17): ids, groups, the five capability sets, no_new_privs and
// seccomp of every thread equal the program's own. With musl, whose
// credential change signals every thread by the ids it keeps, this failed
// while the bootstrap's clone left the child with its parent's thread
// id; Go's other threads kept the runtime's capabilities until init
// exec'd into its single-threaded wait mode.
func TestInitThreadsDropRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, dir, bundle := statusBundle(t, e)
	e.Must("create", "--bundle", bundle, id)
	defer e.Must("delete", "--force", id)
	threads, err := itest.ThreadStatuses(e.state(id).Pid)
	if err != nil {
		t.Fatal(err)
	}
	e.Must("start", id)
	final := programStatus(t, dir)
	for _, p := range itest.ThreadCredentials(threads, final) {
		t.Error("init: " + p)
	}
}

// TestStartHooksThreadsDropRoot: with a startContainer hook, init execs
// from its wait mode into Go once more, to run the hook after start (the
// hooks mode): every thread of that Go process holds what the program
// will, no more. The hook, a process of the container, reads them.
func TestStartHooksThreadsDropRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, dir, bundle := statusBundle(t, e, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
			`mkdir /out/tasks && for t in /proc/1/task/*; do cat $t/status > /out/tasks/${t##*/}; done`}}}}
	})
	e.Must("create", "--bundle", bundle, id)
	defer e.Must("delete", "--force", id)
	e.Must("start", id)
	final := programStatus(t, dir)
	tasks, err := os.ReadDir(filepath.Join(dir, "tasks"))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("the hook saw no thread of init: %v", err)
	}
	threads := map[string]string{}
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, "tasks", task.Name()))
		if err != nil {
			t.Fatal(err)
		}
		threads[task.Name()] = string(b)
	}
	if len(threads) < 2 {
		t.Errorf("init ran the hook with %d thread(s): not Go's runtime", len(threads))
	}
	for _, p := range itest.ThreadCredentials(threads, final) {
		t.Error("init's hooks mode: " + p)
	}
}

// statusBundle makes a bundle whose program, as uid 1000 with two more
// groups, writes its /proc/self/status to dir's "status" (bound on /out).
func statusBundle(t *testing.T, e *env, mods ...func(*specs.Spec)) (id, dir, bundle string) {
	id = e.ID()
	dir = t.TempDir()
	os.Chmod(dir, 0o777)
	bundle = e.Bundle(id, []string{"sh", "-c", "cat /proc/self/status > /out/status.tmp && mv /out/status.tmp /out/status"},
		append([]func(*specs.Spec){func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 6}}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/out", Type: "bind", Source: dir, Options: []string{"bind"}})
		}}, mods...)...)
	return id, dir, bundle
}

// programStatus waits for the status statusBundle's program writes.
func programStatus(t *testing.T, dir string) string {
	var final []byte
	var err error
	if !itest.WaitFor(10*time.Second, func() bool {
		final, err = os.ReadFile(filepath.Join(dir, "status"))
		return err == nil
	}) {
		t.Fatalf("the program wrote no status: %v", err)
	}
	return string(final)
}
