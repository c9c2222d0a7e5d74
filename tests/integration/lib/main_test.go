// Package lib tests the libcontainer API end to end: real containers on
// this kernel from the busybox root filesystem that tests/rootfs builds.
// The test binary is its own container init.
package lib

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
	_ "github.com/opencontainers/cgroups/devices"

	"github.com/corral-oci/corral/libcontainer"
	_ "github.com/corral-oci/corral/libcontainer/nsenter"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
		libcontainer.Init()
		panic("libcontainer.Init returned")
	}
}

// busybox is the shared, read-only-by-convention busybox rootfs.
var busybox string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 && os.Getenv("CORRAL_DELEGATED_CGROUP") == "" {
		fmt.Println("skipping the libcontainer integration tests: they need root to make containers")
		os.Exit(0)
	}
	// In the cgroup v2 VM the rootfs is shipped ready-made.
	dir := os.Getenv("CORRAL_TEST_ROOTFS")
	if dir == "" {
		var err error
		if dir, err = filepath.Abs("../../rootfs/busybox"); err != nil {
			panic(err)
		}
		if out, err := exec.Command("../../rootfs/build.sh", dir).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build busybox rootfs: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	busybox = dir
	// The cgroups library keeps one handle of /sys/fs/cgroup for the
	// life of the process; open it now so leak checks do not see it.
	if f, err := cgroups.OpenFile("/sys/fs/cgroup/pids", "cgroup.procs", os.O_RDONLY); err == nil {
		f.Close()
	}
	// So does pathrs-lite with its private procfs.
	if h, err := procfs.OpenProcRoot(); err == nil {
		h.Close()
	}
	os.Exit(m.Run())
}
