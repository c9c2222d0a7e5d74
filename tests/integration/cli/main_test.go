// Package cli tests the corral command end to end, as engines drive it:
// the binary is built once, and each test runs it against bundles made
// with `corral spec` around the busybox root filesystem that tests/rootfs
// builds, with a state root of its own. After every test nothing may be
// left: no state, no cgroup, no host mount.
package cli

import (
	"fmt"
	"os"
	"testing"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

var (
	// corralBin is the binary under test.
	corralBin string
	// busybox is the shared root filesystem; containers mount it
	// read-only.
	busybox string
)

// cgroupParent holds the cgroups of every test container, so that a
// leak is easy to find and the parent is removed at the end.
const cgroupParent = "corral-cli-test"

// suiteTmp holds what the suite builds for its tests; it is removed
// after the last one.
var suiteTmp string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the corral CLI integration tests: they need root to make containers")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "corral-cli-test-")
	if err != nil {
		return itest.Fail(err)
	}
	defer os.RemoveAll(tmp)
	suiteTmp = tmp
	if corralBin, err = itest.BuildCorral(tmp); err != nil {
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
