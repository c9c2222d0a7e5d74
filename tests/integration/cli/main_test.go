// Package cli tests the corral command end to end, as engines drive it:
// the binary is built once, and each test runs it against bundles made
// with `corral spec` around the busybox root filesystem that tests/rootfs
// builds, with a state root of its own. After every test nothing may be
// left: no state, no cgroup, no host mount.
package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	corralBin = filepath.Join(tmp, "corral")
	if out, err := exec.Command("go", "build", "-o", corralBin, "../../../cmd/corral").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build corral: %v\n%s", err, out)
		return 1
	}
	if busybox, err = filepath.Abs("../../rootfs/busybox"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if out, err := exec.Command("../../rootfs/build.sh", busybox).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the busybox rootfs: %v\n%s", err, out)
		return 1
	}
	code := m.Run()
	// The tests' cgroups are gone (each test checks); their parent
	// goes too.
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + cgroupParent)
	for _, d := range dirs {
		os.Remove(d)
	}
	os.Remove("/sys/fs/cgroup/" + cgroupParent)
	return code
}
