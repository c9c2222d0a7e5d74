package lib

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// delegatedUID is the unprivileged user the delegated-cgroup test runs the
// library as; it needs no passwd entry.
const delegatedUID = 41000

// TestRootlessDelegatedCgroup runs the library as an ordinary user to
// whom root delegated a cgroup v2 subtree: the container gets a cgroup
// there, with the memory limit it asks for. (tests/vm/cgroup2.sh runs it
// on a pure cgroup v2 host.)
func TestRootlessDelegatedCgroup(t *testing.T) {
	if !cgroups.IsCgroup2UnifiedMode() {
		t.Skip("needs a pure cgroup v2 host to delegate a subtree (run by tests/vm/cgroup2.sh)")
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "corral-delegated-" + hex.EncodeToString(b)
	deleg := filepath.Join("/sys/fs/cgroup", name)
	helper := filepath.Join(deleg, "helper")
	for _, d := range []string{deleg, helper} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		os.Remove(filepath.Join(deleg, "ctr"))
		os.Remove(helper)
		os.Remove(deleg)
	})
	// Delegation, as systemd does it: the user owns the directory and
	// the files that let it make children and move its processes.
	for _, p := range []string{deleg, helper, filepath.Join(deleg, "cgroup.procs"), filepath.Join(deleg, "cgroup.subtree_control"),
		filepath.Join(deleg, "cgroup.threads"), filepath.Join(helper, "cgroup.procs"), filepath.Join(helper, "cgroup.threads")} {
		if err := os.Chown(p, delegatedUID, delegatedUID); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := unix.Open(helper, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	work := t.TempDir()
	os.Chmod(filepath.Dir(work), 0o755)
	os.Chown(work, delegatedUID, delegatedUID)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDelegatedHelper$", "-test.v")
	cmd.Env = []string{"CORRAL_DELEGATED_CGROUP=/" + name + "/ctr", "CORRAL_DELEGATED_WORK=" + work,
		"CORRAL_TEST_ROOTFS=" + busybox, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: delegatedUID, Gid: delegatedUID},
		UseCgroupFD: true,
		CgroupFD:    fd,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("library as uid %d: %v\n%s", delegatedUID, err, out)
	}
	if !strings.Contains(string(out), "memory.max=67108864") {
		t.Fatalf("the container did not get its memory limit in the delegated cgroup:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(deleg, "ctr")); err == nil {
		t.Error("the container's cgroup was left in the delegated subtree")
	}
}

// TestDelegatedHelper is the unprivileged side of
// TestRootlessDelegatedCgroup; alone it does nothing.
func TestDelegatedHelper(t *testing.T) {
	path := os.Getenv("CORRAL_DELEGATED_CGROUP")
	if path == "" {
		t.Skip("run by TestRootlessDelegatedCgroup")
	}
	// The user enables the controllers it needs in its own subtree.
	parent := filepath.Join("/sys/fs/cgroup", filepath.Dir(path))
	if err := os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+memory +pids"), 0); err != nil {
		t.Fatalf("enable controllers in the delegated subtree: %v", err)
	}
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: int64(os.Getuid()), Size: 1}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: int64(os.Getgid()), Size: 1}}
	cfg.Cgroups = &configs.Cgroup{Path: path, Resources: &configs.Resources{Memory: 64 << 20}}
	cfg.Devices = nil
	for _, m := range cfg.Mounts {
		// No gid 5 in a single mapping.
		m.Data = strings.ReplaceAll(m.Data, ",gid=5", "")
	}
	c, err := libcontainer.Create(os.Getenv("CORRAL_DELEGATED_WORK"), "delegated", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	var out syncBuffer
	p := &libcontainer.Process{Args: []string{"/bin/sleep", "1000"}, Env: []string{"PATH=/bin"}, Stdout: &out, Stderr: &out, Init: true}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", path, "memory.max"))
	if err != nil {
		t.Fatal(err)
	}
	pids, _ := c.Processes()
	fmt.Printf("memory.max=%s pids=%v\n", strings.TrimSpace(string(b)), pids)
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	p.Wait()
}
