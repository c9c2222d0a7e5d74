package criu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// TestCounterContinues checkpoints a counter, which deletes the
// container, restores it, and finds it counting on from where it was. The
// restored container is a container like any other: state, exec, the
// mounts of its config, kill and delete work on it.
func TestCounterContinues(t *testing.T) {
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, counter)
	out := e.startCounter(id, bundle)
	for out.next() < 3 {
	}
	images := t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	last := out.last()
	e.gone(id)

	out = e.restoreCounter(id, bundle, images)
	if n := out.next(); n != last+1 {
		t.Errorf("the restored counter printed %d after %d", n, last)
	}
	st := e.state(id)
	if st.Status != "running" || st.Pid <= 0 {
		t.Fatalf("state of the restored container: %+v", st)
	}
	if cg := pidsCgroup(t, st.Pid); !strings.HasSuffix(cg, "/"+cgroupParent+"/"+id) {
		t.Errorf("the restored init is in cgroup %q, not the container's", cg)
	}
	if got := strings.TrimSpace(e.Must("exec", id, "hostname")); got != "corral" {
		t.Errorf("exec hostname in the restored container: %q", got)
	}
	// What the config's mounts and paths make of the container holds
	// after the restore: a read-only root, masked and read-only paths,
	// device nodes.
	script := `
		touch /probe 2>/dev/null && echo "root is writable"
		[ -s /proc/keys ] && echo "/proc/keys is not masked"
		ls /proc/acpi | grep -q . && echo "/proc/acpi is not masked"
		echo 1 2>/dev/null >/proc/sys/kernel/printk_ratelimit && echo "/proc/sys is writable"
		[ -c /dev/null ] || echo "/dev/null is not a device"
		echo x >/dev/null || echo "/dev/null does not work"
		true`
	if got := strings.TrimSpace(e.Must("exec", id, "sh", "-c", script)); got != "" {
		t.Errorf("the restored container's mounts:\n%s", got)
	}
	e.Must("kill", id, "KILL")
	waitStatus(t, e, id, "stopped")
	e.Must("delete", id)
	e.gone(id)
}

// TestLeaveRunning checkpoints with --leave-running: the container goes
// on counting, and the checkpoint restores as a second container.
func TestLeaveRunning(t *testing.T) {
	e := newEnv(t)
	id := e.ID()
	out := e.startCounter(id, e.Bundle(id, counter))
	for out.next() < 3 {
	}
	images := t.TempDir()
	e.Must("checkpoint", "--leave-running", "--image-path", images, id)
	if st := e.state(id); st.Status != "running" {
		t.Fatalf("after checkpoint --leave-running: %+v", st)
	}
	before := out.seen
	if n := out.next(); n != before+1 {
		t.Errorf("the original counter printed %d after %d", n, before)
	}
	copyID := e.ID()
	copyOut := e.restoreCounter(copyID, e.Bundle(copyID, counter), images)
	// The copy goes on from the checkpoint, which the original has
	// passed by now.
	if n := copyOut.next(); n <= 3 || n > out.latest()+1 {
		t.Errorf("the restored copy printed %d; the original is at %d", n, out.seen)
	}
	// Both count on, each in its own container.
	a, b := out.next(), copyOut.next()
	if out.next() != a+1 || copyOut.next() != b+1 {
		t.Error("the original and its copy do not both count")
	}
	if e.state(id).Pid == e.state(copyID).Pid {
		t.Error("the original and the restored copy have the same init")
	}
	e.Must("delete", "--force", id)
	e.Must("delete", "--force", copyID)
}

// TestRestoreTwice checkpoints a restored container and restores it
// again.
func TestRestoreTwice(t *testing.T) {
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, counter)
	out := e.startCounter(id, bundle)
	for out.next() < 3 {
	}
	for round := 1; round <= 2; round++ {
		images := t.TempDir()
		e.Must("checkpoint", "--image-path", images, id)
		last := out.last()
		out = e.restoreCounter(id, bundle, images)
		if n := out.next(); n != last+1 {
			t.Errorf("round %d: the restored counter printed %d after %d", round, n, last)
		}
	}
	e.Must("delete", "--force", id)
}

// TestExternalNetworkNamespace runs a container in a network namespace
// given by path: the checkpoint treats it as external, the restore puts
// the container back into it, and fails clearly once it is gone.
func TestExternalNetworkNamespace(t *testing.T) {
	requireCriu(t)
	nsPath, deleteNS := addNetNS(t)
	// The leak checks run before the namespace is deleted, and know it.
	e := newEnv(t)
	var ns unix.Stat_t
	if err := unix.Stat(nsPath, &ns); err != nil {
		t.Fatal(err)
	}
	joinNS := func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			if n.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = nsPath
			}
		}
	}
	id := e.ID()
	bundle := e.Bundle(id, counter, joinNS)
	out := e.startCounter(id, bundle)
	for out.next() < 3 {
	}
	images := t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	last := out.last()

	out = e.restoreCounter(id, bundle, images)
	if n := out.next(); n != last+1 {
		t.Errorf("the restored counter printed %d after %d", n, last)
	}
	var restored unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/net", e.state(id).Pid), &restored); err != nil {
		t.Fatal(err)
	}
	if restored.Ino != ns.Ino || restored.Dev != ns.Dev {
		t.Errorf("the restored init is in network namespace %d, not %s (%d)", restored.Ino, nsPath, ns.Ino)
	}

	images = t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	deleteNS()
	e.Fails([]string{"restore container", nsPath, "does not exist"},
		"restore", "--detach", "--image-path", images, "--bundle", bundle, id)
	e.gone(id)
}

// addNetNS makes a network namespace with `ip netns add` and returns its
// path and the function that deletes it, which also runs at the end of
// the test.
func addNetNS(t *testing.T) (string, func()) {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "corral-criu-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	deleted := false
	del := func() {
		if deleted {
			return
		}
		deleted = true
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	}
	t.Cleanup(del)
	return "/run/netns/" + name, del
}

// TestTerminal restores a container whose init has a terminal: the new
// terminal's master goes to the console socket, and the program goes on
// writing to it.
func TestTerminal(t *testing.T) {
	e := newEnv(t)
	id := e.ID()
	tty := func(s *specs.Spec) { s.Process.Terminal = true }
	bundle := e.Bundle(id, counter, tty)
	sock := itest.ListenUnix(t)
	res := e.Corral("run", "--detach", "--console-socket", sock.Addr().String(), "--bundle", bundle, id)
	if res.Code != 0 {
		t.Fatalf("run: exit %d: %s", res.Code, res.Stderr)
	}
	t.Cleanup(func() { e.Corral("delete", "--force", id) })
	out := newLineReader(t, recvFD(t, sock))
	for out.next() < 3 {
	}
	images := t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	last := out.last()

	sock = itest.ListenUnix(t)
	e.Must("restore", "--detach", "--console-socket", sock.Addr().String(), "--image-path", images, "--bundle", bundle, id)
	master := recvFD(t, sock)
	out = newLineReader(t, master)
	if n := out.next(); n != last+1 {
		t.Errorf("the restored counter printed %d on its new terminal after %d", n, last)
	}
	// The new terminal is init's stdout and controlling terminal, and
	// the container's /dev/console.
	pid := e.state(id).Pid
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/1", pid), &st); err != nil || unix.Major(st.Rdev) < 136 || unix.Major(st.Rdev) > 143 {
		t.Errorf("the restored init's stdout is not a pty (%v)", err)
	}
	if f := procStatFields(t, pid); len(f) < 7 || f[6] == "0" {
		t.Errorf("the restored init has no controlling terminal: %v", f)
	}
	if got := e.Must("exec", id, "sh", "-c", "[ -c /dev/console ] && echo ok"); strings.TrimSpace(got) != "ok" {
		t.Errorf("/dev/console of the restored container: %q", got)
	}
	e.Must("delete", "--force", id)

	// A terminal must go somewhere.
	sock = itest.ListenUnix(t)
	e.Must("run", "--detach", "--console-socket", sock.Addr().String(), "--bundle", bundle, id)
	recvFD(t, sock)
	images = t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	e.Fails([]string{"cannot allocate a tty"}, "restore", "--detach", "--image-path", images, "--bundle", bundle, id)
	e.gone(id)
}

// TestBindMount checkpoints a container with a bind mount of a host
// directory, an external mount: the restored counter writes on to it.
func TestBindMount(t *testing.T) {
	e := newEnv(t)
	data := t.TempDir()
	bind := func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: data, Options: []string{"rbind", "rw"}})
	}
	id := e.ID()
	script := "i=0; while true; do i=$((i+1)); echo $i > /data/n; echo $i; sleep 0.1; done"
	bundle := e.Bundle(id, []string{"/bin/sh", "-c", script}, bind)
	out := e.startCounter(id, bundle)
	for out.next() < 3 {
	}
	images := t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	last := out.last()

	out = e.restoreCounter(id, bundle, images)
	n := out.next()
	if n != last+1 {
		t.Errorf("the restored counter printed %d after %d", n, last)
	}
	out.next()
	b, err := os.ReadFile(filepath.Join(data, "n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := strconv.Atoi(strings.TrimSpace(string(b))); got <= n {
		t.Errorf("the host directory holds %d; the restored counter is past %d", got, n)
	}
	e.Must("delete", "--force", id)
}

// TestNoCriu checks the error when the criu binary is missing: it says
// what to do, and the container is left as it was.
func TestNoCriu(t *testing.T) {
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, counter)
	out := e.startCounter(id, bundle)
	out.next()
	r := e.Corral("--criu", "/nonexistent/criu", "checkpoint", "--image-path", t.TempDir(), id)
	if r.Code == 0 {
		t.Fatal("checkpoint with a missing criu succeeded")
	}
	for _, want := range []string{"criu not found", "install criu", "--criu", "/nonexistent/criu"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("error %q lacks %q", r.Stderr, want)
		}
	}
	if st := e.state(id); st.Status != "running" {
		t.Errorf("after the failed checkpoint: %+v", st)
	}
	e.Must("delete", "--force", id)
	r = e.Corral("--criu", "/nonexistent/criu", "restore", "--detach", "--image-path", t.TempDir(), "--bundle", bundle, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "criu not found") {
		t.Errorf("restore with a missing criu: exit %d: %s", r.Code, r.Stderr)
	}
	e.gone(id)
}

// TestPreDump migrates iteratively: a pre-dump, then a checkpoint on top
// of it, then the restore. It needs the kernel's soft-dirty tracking.
func TestPreDump(t *testing.T) {
	e := newEnv(t)
	if ok, why := memTracking(); !ok {
		// Without it, corral says why.
		id := e.ID()
		out := e.startCounter(id, e.Bundle(id, counter))
		out.next()
		e.Fails([]string{"pre-dump", "soft-dirty"}, "checkpoint", "--pre-dump", "--image-path", t.TempDir(), id)
		e.Must("delete", "--force", id)
		t.Skip("pre-dump cannot run here: " + why)
	}
	id := e.ID()
	bundle := e.Bundle(id, counter)
	out := e.startCounter(id, bundle)
	for out.next() < 3 {
	}
	dir := t.TempDir()
	parent, images := filepath.Join(dir, "parent"), filepath.Join(dir, "final")
	e.Must("checkpoint", "--pre-dump", "--image-path", parent, id)
	if st := e.state(id); st.Status != "running" {
		t.Fatalf("after the pre-dump: %+v", st)
	}
	e.Must("checkpoint", "--parent-path", "../parent", "--image-path", images, id)
	last := out.last()
	out = e.restoreCounter(id, bundle, images)
	if n := out.next(); n != last+1 {
		t.Errorf("the restored counter printed %d after %d", n, last)
	}
	e.Must("delete", "--force", id)
}

// pidsCgroup returns the cgroup of pid in the pids hierarchy, or in the
// unified one on a cgroup v2 host, as the host sees it.
func pidsCgroup(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	unified := ""
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		switch {
		case len(f) != 3:
		case f[1] == "pids":
			return f[2]
		case f[0] == "0":
			unified = f[2]
		}
	}
	return unified
}

// procStatFields returns the fields of /proc/<pid>/stat, the command
// counted as one.
func procStatFields(t *testing.T, pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return append([]string{"pid", "comm"}, strings.Fields(s[i+1:])...)
}

// waitStatus polls the container until it has status.
func waitStatus(t *testing.T, e *env, id, status string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s := e.state(id); s.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is not %s after 10s", id, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
