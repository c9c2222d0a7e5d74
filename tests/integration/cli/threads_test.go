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
	id := e.ID()
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	bundle := e.Bundle(id, []string{"sh", "-c", "cat /proc/self/status > /out/status.tmp && mv /out/status.tmp /out/status"}, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 6}}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/out", Type: "bind", Source: dir, Options: []string{"bind"}})
	})
	e.Must("create", "--bundle", bundle, id)
	defer e.Must("delete", "--force", id)
	threads, err := itest.ThreadStatuses(e.state(id).Pid)
	if err != nil {
		t.Fatal(err)
	}
	e.Must("start", id)
	var final []byte
	if !itest.WaitFor(10*time.Second, func() bool {
		final, err = os.ReadFile(filepath.Join(dir, "status"))
		return err == nil
	}) {
		t.Fatalf("the program wrote no status: %v", err)
	}
	for _, p := range itest.ThreadCredentials(threads, string(final)) {
		t.Error("init: " + p)
	}
}
