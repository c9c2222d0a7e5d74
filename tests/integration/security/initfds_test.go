package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// createdInit creates a container from cfg without starting it and
// returns its init's pid; the container is destroyed when the test ends.
func createdInit(t *testing.T, cfg *configs.Config, user string) (*libcontainer.Container, int) {
	t.Helper()
	c, err := libcontainer.Create(t.TempDir(), randomID(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Destroy() })
	p := &libcontainer.Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}, User: user, Init: true}
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	st, err := c.OCIState()
	if err != nil || st.Status != "created" {
		t.Fatalf("state %+v, %v", st, err)
	}
	return c, st.Pid
}

// TestCreatedInitHoldsNoHostFile (issue 17 point 1): until start, init
// held an fd of the host's procfs (its /proc/self/fd, to reopen the exec
// fifo), and the runtime binary's handle. A process of the container
// with CAP_SYS_PTRACE and no user namespace (here a second container in
// the created one's pid namespace, as a pod's sidecar is) walked from
// /proc/1/fd/N up to the host's procfs, into another host process's
// root/, read a host file and created one, and found the host's
// /proc/sys writable. Now init's only procfs is its own, of the
// container's pid namespace, read-only and without sys/.
func TestCreatedInitHoldsNoHostFile(t *testing.T) {
	guardMounts(t)
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "secret"), []byte("HOSTSECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, pid := createdInit(t, newConfig(t, busybox), "")

	// What init holds, seen from the host: stdio, the init-sync
	// socket, the fifo's handle, and nothing of the host's filesystem
	// but that.
	for _, l := range initFDs(t, pid) {
		n := strings.Fields(l)[0]
		path := fmt.Sprintf("/proc/%d/fd/%s", pid, n)
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			t.Errorf("init holds a host file: fd %s", l)
		case unix.S_IFDIR:
			var fs unix.Statfs_t
			if err := unix.Statfs(path, &fs); err != nil || fs.Type != unix.PROC_SUPER_MAGIC {
				t.Errorf("init holds a directory that is not a procfs: fd %s", l)
				continue
			}
			// A procfs of the container's pid namespace: it shows
			// no host process (this test is one), and no sys/.
			if _, err := os.Lstat(fmt.Sprintf("%s/%d", path, os.Getpid())); err == nil {
				t.Errorf("fd %s is a procfs that shows host processes", l)
			}
			if _, err := os.Lstat(path + "/sys"); err == nil {
				t.Errorf("fd %s is a procfs with sys/", l)
			}
		}
	}

	// The attack, from inside.
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Remove(configs.NEWPID)
	cfg.Namespaces.Add(configs.NEWPID, fmt.Sprintf("/proc/%d/ns/pid", pid))
	caps := append([]string{"CAP_SYS_PTRACE"}, defaultCaps...)
	cfg.Capabilities = &configs.Capabilities{Bounding: caps, Effective: caps, Permitted: caps}
	script := fmt.Sprintf(`for fd in /proc/1/fd/*; do for up in "" /.. /../.. /../../..; do
		d=$fd$up
		cat $d/%d/root%s/secret 2>/dev/null && echo "READ through $d"
		echo x 2>/dev/null > $d/%d/root%s/created && echo "CREATED through $d"
		[ -w $d/sys/kernel/domainname ] && echo "SYSWRITABLE through $d"
	done; done; true`, os.Getpid(), hostDir, os.Getpid(), hostDir)
	out := sh(t, cfg, script)
	if strings.Contains(out, "HOSTSECRET") || strings.Contains(out, "READ") {
		t.Errorf("a container process read a host file through the created init's fds:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(hostDir, "created")); err == nil || strings.Contains(out, "CREATED") {
		t.Errorf("a container process created a host file through the created init's fds:\n%s", out)
	}
	if strings.Contains(out, "SYSWRITABLE") {
		t.Errorf("a container process found a writable /proc/sys through the created init's fds:\n%s", out)
	}
}
