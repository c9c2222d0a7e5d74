package cli

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// TestInitThreadsDropRoot checks, on the binary as built to ship, that
// every thread of a created container's init has become the process's
// user and groups, and that none but the one that execs keeps a
// capability: until exec the Go runtime's other threads are part of a
// process in the container. With musl, whose credential change signals
// every thread by the ids it keeps, this failed while the bootstrap's
// clone left the child with its parent's thread id.
func TestInitThreadsDropRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"true"}, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 6}}
	})
	e.Must("create", "--bundle", bundle, id)
	defer e.Must("delete", "--force", id)
	problems, err := itest.ThreadCredentials(e.state(id).Pid, "1000", "5 6")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error("init: " + p)
	}
}
