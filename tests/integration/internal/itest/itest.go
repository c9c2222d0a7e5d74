// Package itest is the setup the integration test packages share: the
// corral binary under test, the busybox root filesystem, the handles that
// libraries keep for the life of a process, and the cgroup parent a
// package's containers live under. Paths are relative to a test package's
// directory, tests/integration/<package>.
package itest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
)

// BuildCorral builds cmd/corral into dir and returns the binary's path.
func BuildCorral(dir string) (string, error) {
	bin := filepath.Join(dir, "corral")
	build := exec.Command("go", "build", "-o", bin, "./cmd/corral")
	build.Dir = "../../.."
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build corral: %v\n%s", err, out)
	}
	return bin, nil
}

// Busybox returns the busybox root filesystem, building it with
// tests/rootfs/build.sh unless CORRAL_TEST_ROOTFS names one ready-made (as
// in the cgroup v2 VM).
func Busybox() (string, error) {
	if dir := os.Getenv("CORRAL_TEST_ROOTFS"); dir != "" {
		return dir, nil
	}
	dir, err := filepath.Abs("../../rootfs/busybox")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("../../rootfs/build.sh", dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the busybox rootfs: %v\n%s", err, out)
	}
	return dir, nil
}

// OpenLibraryHandles opens now the handles the cgroups library (one of
// /sys/fs/cgroup) and pathrs-lite (its private procfs) keep for the life
// of the process, so that leak checks do not count them.
func OpenLibraryHandles() {
	if f, err := cgroups.OpenFile("/sys/fs/cgroup/pids", "cgroup.procs", os.O_RDONLY); err == nil {
		f.Close()
	}
	if h, err := procfs.OpenProcRoot(); err == nil {
		h.Close()
	}
}

// RemoveCgroupParent removes the cgroup parent name in every hierarchy,
// once the tests have removed (and checked) their own cgroups under it.
func RemoveCgroupParent(name string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	for _, d := range dirs {
		os.Remove(d)
	}
	os.Remove("/sys/fs/cgroup/" + name)
}

// Fail prints err and returns the exit code of a failed setup.
func Fail(err error) int {
	fmt.Fprintln(os.Stderr, err)
	return 1
}
