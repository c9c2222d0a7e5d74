// Package itest is what the integration test packages share: the setup
// (the corral binary under test, the busybox root filesystem, the handles
// that libraries keep for the life of a process, the cgroup parent a
// package's containers live under), running a command with a timeout and
// its output in files (Run), a test's own corral (Env), and what leak
// checks compare (MountPoints, CgroupDirs). Paths are relative to a test
// package's directory, tests/integration/<package>.
package itest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
)

// TestHooks is the build tag of the test hooks: internal/faults's points,
// where the crash tests stop the runtime to kill it.
const TestHooks = "corral_testhooks"

// BuildCorral builds cmd/corral into dir as build.sh does, so that the
// tests run the binary that ships (static, with musl where it is
// installed), and returns the binary's path. Build tags (TestHooks) make
// a binary for the tests that need it instead. CORRAL_TEST_BINARY names
// one built so beforehand, with the same tags, where there is no Go to
// build it (as in the VM of tests/vm/criu.sh).
func BuildCorral(dir string, tags ...string) (string, error) {
	if bin := os.Getenv("CORRAL_TEST_BINARY"); bin != "" {
		return bin, nil
	}
	bin := filepath.Join(dir, "corral")
	build := exec.Command("./build.sh", bin)
	build.Dir = "../../.."
	if len(tags) > 0 {
		build.Env = append(os.Environ(), "CORRAL_BUILD_TAGS="+strings.Join(tags, ","))
	}
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

// CgroupDirs lists the directories of cgroup rel (its path from a
// hierarchy's root) that exist: one per cgroup v1 hierarchy, and the one
// of the unified hierarchy.
func CgroupDirs(rel string) []string {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/*", rel))
	dirs = append(dirs, filepath.Join("/sys/fs/cgroup", rel))
	var out []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

// Fail prints err and returns the exit code of a failed setup.
func Fail(err error) int {
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// credentialFields are the lines of /proc/<pid>/status that say what a
// thread may do.
var credentialFields = []string{"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"}

// StatusFields returns the credential lines of a status file's text,
// by field.
func StatusFields(status string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && slices.Contains(credentialFields, k) {
			out[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return out
}

// ThreadStatuses reads the status file of every thread of pid, by tid.
func ThreadStatuses(pid int) (map[string]string, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
		if err != nil {
			return nil, err
		}
		out[task.Name()] = string(b)
	}
	return out, nil
}

// ThreadCredentials compares the threads' statuses (ThreadStatuses)
// with final, the status of the process the container runs: uid, gid,
// groups, the five capability sets, no_new_privs and seccomp. It
// returns one line per difference.
func ThreadCredentials(threads map[string]string, final string) []string {
	want := StatusFields(final)
	if len(want) != len(credentialFields) {
		return []string{fmt.Sprintf("the program's status has %d of the %d credential fields: %q", len(want), len(credentialFields), final)}
	}
	var problems []string
	for tid, status := range threads {
		got := StatusFields(status)
		for _, k := range credentialFields {
			if got[k] != want[k] {
				problems = append(problems, fmt.Sprintf("thread %s of %d: %s %q, the program has %q", tid, len(threads), k, got[k], want[k]))
			}
		}
	}
	return problems
}
