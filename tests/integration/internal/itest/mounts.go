package itest

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// MountPoints lists the host's mount points, sorted, that keep accepts
// (all of them when keep is nil): what a test compares before and after
// to find the mounts it left. Other test packages run at the same time
// and mount in their own directories, which keep leaves out.
func MountPoints(t testing.TB, keep func(mountPoint string) bool) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return ParseMountPoints(string(b), keep)
}

// ParseMountPoints lists the mount points of mountinfo, the text of a
// /proc/<pid>/mountinfo, sorted, that keep accepts (all when it is nil).
func ParseMountPoints(mountinfo string, keep func(mountPoint string) bool) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(mountinfo), "\n") {
		if f := strings.Fields(l); len(f) > 4 && (keep == nil || keep(f[4])) {
			out = append(out, f[4])
		}
	}
	sort.Strings(out)
	return out
}

// TestMount says whether a host mount point is one a test of this
// package could leak: under a test's temporary directory or the busybox
// rootfs, or a top-level host path a container mount could escape to.
func TestMount(path string) bool {
	if strings.HasPrefix(path, os.TempDir()+"/Test") || strings.Contains(path, "/tests/rootfs/") {
		return true
	}
	return strings.Count(path, "/") <= 2
}
