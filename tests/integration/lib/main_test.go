// Package lib tests the libcontainer API end to end: real containers on
// this kernel from the busybox root filesystem that tests/rootfs builds.
// The test binary is its own container init.
package lib

import (
	"fmt"
	"os"
	"runtime"
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

// busybox is the shared, read-only-by-convention busybox rootfs.
var busybox string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 && os.Getenv("CORRAL_DELEGATED_CGROUP") == "" {
		fmt.Println("skipping the libcontainer integration tests: they need root to make containers")
		os.Exit(0)
	}
	var err error
	if busybox, err = itest.Busybox(); err != nil {
		os.Exit(itest.Fail(err))
	}
	itest.OpenLibraryHandles()
	os.Exit(m.Run())
}
