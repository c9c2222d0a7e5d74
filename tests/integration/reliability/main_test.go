// Package reliability tests that corral survives what engines do to a
// runtime in production: the runtime killed at every phase of an
// operation, one container driven by many commands at once, a full or
// read-only state root, hostile images, hooks and processes that hang,
// and churn. After every test nothing may be left: no state directory,
// no cgroup, no host mount, no process.
//
// The tests need root; they build corral, with the test hooks
// (internal/faults), and the busybox root filesystem (tests/rootfs)
// themselves. The full churn run is
//
//	CORRAL_CHURN_CLI=1000 go test -run TestChurnCLI -timeout 60m ./tests/integration/reliability/
package reliability

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

var (
	// corralBin is the binary under test.
	corralBin string
	// busybox is the shared root filesystem; containers mount it
	// read-only. Tests that change an image work on a copy.
	busybox string
)

// cgroupParent holds the cgroups of every test container (cgroupsPath
// "/corral-rel-test/<id>"), so that a leak is easy to find; the parent
// is removed at the end.
const cgroupParent = "corral-rel-test"

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the corral reliability tests: they need root to make containers, cgroups and mounts")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		// A fuzzing worker runs only the fuzz target, which needs
		// neither corral nor the rootfs.
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "corral-rel-test-")
	if err != nil {
		return itest.Fail(err)
	}
	defer os.RemoveAll(tmp)
	// With the fault points, for the tests that kill the runtime at each
	// phase (faults_test.go).
	if corralBin, err = itest.BuildCorral(tmp, itest.TestHooks); err != nil {
		return itest.Fail(err)
	}
	if busybox, err = itest.Busybox(); err != nil {
		return itest.Fail(err)
	}
	code := m.Run()
	// The tests' cgroups are gone (each test checks); their parent
	// goes too.
	itest.RemoveCgroupParent(cgroupParent)
	return code
}
