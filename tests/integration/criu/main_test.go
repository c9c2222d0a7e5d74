// Package criu tests checkpoint and restore (issue 9) end to end, through
// the corral command and the libcontainer API, on this kernel with a
// working criu: $CORRAL_CRIU, /opt/criu-trixie/bin/criu (which
// ../shared/criu/install.sh installs), or criu in $PATH, the first whose
// `criu check` passes. Without one every test skips, saying why. The test
// binary is its own container init, as in tests/integration/lib.
package criu

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	_ "github.com/opencontainers/cgroups/devices"

	"github.com/corral-oci/corral/libcontainer"
	_ "github.com/corral-oci/corral/libcontainer/nsenter"
	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
		libcontainer.Init()
		panic("libcontainer.Init returned")
	}
}

var (
	// busybox is the shared root filesystem; containers mount it
	// read-only.
	busybox string
	// corralBin is the corral binary under test.
	corralBin string
	// criuPath is a criu that works here, "" when there is none;
	// noCriu then says why.
	criuPath string
	noCriu   string
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the checkpoint/restore tests: they need root to make containers")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	criuPath, noCriu = findCriu()
	if criuPath == "" {
		fmt.Println("checkpoint/restore tests will skip:", noCriu)
	}
	var err error
	if busybox, err = itest.Busybox(); err != nil {
		return itest.Fail(err)
	}
	tmp, err := os.MkdirTemp("", "corral-criu-test-")
	if err != nil {
		return itest.Fail(err)
	}
	defer os.RemoveAll(tmp)
	if corralBin, err = itest.BuildCorral(tmp); err != nil {
		return itest.Fail(err)
	}
	itest.OpenLibraryHandles()
	code := m.Run()
	itest.RemoveCgroupParent(cgroupParent)
	itest.RemoveCgroupParent(libCgroupParent)
	return code
}

// findCriu returns the first criu whose `criu check` passes, or why there
// is none.
func findCriu() (path, why string) {
	var candidates []string
	if p := os.Getenv("CORRAL_CRIU"); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/opt/criu-trixie/bin/criu")
	if p, err := exec.LookPath("criu"); err == nil {
		candidates = append(candidates, p)
	}
	var reasons []string
	for _, c := range candidates {
		if _, err := os.Stat(c); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		out, err := exec.Command(c, "check").CombinedOutput()
		if err == nil {
			return c, ""
		}
		reasons = append(reasons, fmt.Sprintf("%s: `criu check` failed (%v): %s", c, err, lastLine(string(out))))
	}
	if len(reasons) == 0 {
		return "", "no criu: set CORRAL_CRIU, run ../shared/criu/install.sh, or install criu"
	}
	return "", "no working criu: " + strings.Join(reasons, "; ")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// requireCriu skips the test when no criu works here.
func requireCriu(t *testing.T) {
	t.Helper()
	if criuPath == "" {
		t.Skip(noCriu)
	}
}

// memTracking reports whether criu can pre-dump here (soft-dirty page
// tracking), and why not.
func memTracking() (bool, string) {
	out, err := exec.Command(criuPath, "check", "--feature", "mem_dirty_track").CombinedOutput()
	if err != nil {
		return false, fmt.Sprintf("criu check --feature mem_dirty_track: %v: %s", err, lastLine(string(out)))
	}
	return true, ""
}
