// Package engines drives corral through the container engines that drive
// runc: containerd (through ctr and its io.containerd.runc.v2 shim),
// podman, Docker (a dockerd on a containerd of its own) and Kubernetes'
// path (containerd's CRI plugin, driven by crictl as the kubelet drives
// it). Each engine runs privately, on sockets, state and storage under
// temporary directories, so that the tests neither need nor disturb an
// engine of the host. The tests need root and the engines' binaries
// (tests/setup.sh installs them); without them they skip and say why.
package engines

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

var (
	// corralBin is the runtime under test, built once.
	corralBin string
	// busybox is the test root filesystem that tests/rootfs builds.
	busybox string
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the engine integration tests: they need root to run the engines' daemons")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "corral-engines-")
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
	made := missingDirs(engineHostDirs)
	code := m.Run()
	for _, d := range made {
		os.Remove(d) // when empty: someone else may use it now
	}
	return code
}

// engineHostDirs are the host directories that the engines make whatever
// their configuration says, parents first: the shims' sockets
// (/run/containerd/s), dockerd's plugin directory, the CNI library's
// cache (/var/lib/cni/results). The package removes, after its last
// test, those that were not there before its first: its daemons run in
// parallel, and one that stops cannot tell whether another still needs
// them.
var engineHostDirs = []string{
	"/run/containerd", "/run/containerd/s",
	"/run/docker", "/run/docker/plugins",
	"/var/lib/cni", "/var/lib/cni/results",
}

// missingDirs are those of dirs that do not exist, children first.
func missingDirs(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			out = append([]string{d}, out...)
		}
	}
	return out
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
		t.Skipf("skipping: %v not installed (tests/setup.sh installs them: Debian's containerd, podman, docker.io, iproute2)", missing)
	}
}
