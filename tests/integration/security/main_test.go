// Package security performs, against corral's libcontainer, each attack
// class by which containers have escaped runc (issue 6): every test is an
// attack, and fails if the attack works or the defence it relies on is
// missing. The test binary is its own container init, as in
// tests/integration/lib, and also plays the other parts an attack needs:
// a runtime that exits, a hook, and the runtime's binary run inside a
// container (see roles_test.go).
package security

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

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
	// Started for another part than init or the tests: play it and
	// never reach TestMain.
	if role := os.Getenv(envRole); role != "" {
		os.Exit(playRole(role))
	}
}

// busybox is this run's private copy of the busybox rootfs, read-only by
// convention: tests that change a rootfs copy it (newRootfs). The shared
// one under tests/rootfs is not used directly, since other test packages
// write into it while these tests copy it.
var busybox string

// workDir holds the private rootfs and the syscaller binary for the run.
var workDir string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the security tests: they need root to make containers")
		os.Exit(0)
	}
	shared, err := itest.Busybox()
	if err != nil {
		os.Exit(itest.Fail(err))
	}
	if workDir, err = os.MkdirTemp("", "corral-security-"); err != nil {
		panic(err)
	}
	// Reachable by the root of a user namespace (host uid 100000).
	os.Chmod(workDir, 0o755)
	busybox = filepath.Join(workDir, "busybox")
	if err := copyRootfs(shared, busybox); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	itest.OpenLibraryHandles()
	code := m.Run()
	os.RemoveAll(workDir)
	os.Exit(code)
}

// copyRootfs copies the shared rootfs, again if a test of another package
// changed it under cp's feet.
func copyRootfs(src, dst string) error {
	var out []byte
	var err error
	for try := 0; try < 5; try++ {
		os.RemoveAll(dst)
		if out, err = exec.Command("cp", "-a", src, dst).CombinedOutput(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("copy rootfs %s: %v: %s", src, err, out)
}
