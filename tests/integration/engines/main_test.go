// Package engines drives corral through the container engines that drive
// runc: containerd (through ctr and its io.containerd.runc.v2 shim) and
// podman. Each engine runs privately, on sockets, state and storage under
// temporary directories, so that the tests neither need nor disturb an
// engine of the host. The tests need root and the engines' binaries;
// without them they skip and say why.
package engines

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var (
	// corralBin is the runtime under test, built once.
	corralBin string
	// busybox is the test root filesystem that tests/rootfs builds.
	busybox string
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the engine integration tests: they need root to run containerd and podman")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "corral-engines-")
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
	return m.Run()
}

// needBinaries skips the test, saying which, unless every one of names is
// on PATH.
func needBinaries(t *testing.T, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Skipf("skipping: %v not installed (Debian: apt-get install containerd podman)", missing)
	}
}
