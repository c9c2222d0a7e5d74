// Package sidebyside runs every bundle of the corpus
// (tests/integration/testdata/bundles) under runc and under corral, with
// the busybox rootfs and a probe as the process, and holds corral to what
// runc's process sees: both start it or both refuse; the probe exits the
// same; its view of itself (ids, capabilities, mounts, hostname, rlimits,
// seccomp, no_new_privs, env, cwd, umask, cgroup limits) is the same,
// but for the differences that knownDifferences lists with their reason.
package sidebyside

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

var (
	corralBin, runcBin string
	busybox            string
)

// cgroupParent holds the cgroups of every container of the package.
const cgroupParent = "corral-sidebyside"

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the side-by-side tests: they need root to make containers")
		os.Exit(0)
	}
	var err error
	if runcBin, err = exec.LookPath("runc"); err != nil {
		fmt.Println("skipping the side-by-side tests: no runc on PATH (Debian: apt-get install runc)")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "corral-sidebyside-")
	if err != nil {
		return itest.Fail(err)
	}
	defer os.RemoveAll(tmp)
	if corralBin, err = itest.BuildCorral(tmp); err != nil {
		return itest.Fail(err)
	}
	if busybox, err = itest.Busybox(); err != nil {
		return itest.Fail(err)
	}
	code := m.Run()
	itest.RemoveCgroupParent(cgroupParent)
	return code
}
