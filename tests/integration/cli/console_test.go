package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// readAll reads the pty master until the peer is gone (EIO) or timeout.
func readAll(t *testing.T, master *os.File, timeout time.Duration) string {
	t.Helper()
	done := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, master)
		done <- b.Bytes()
	}()
	select {
	case b := <-done:
		return string(b)
	case <-time.After(timeout):
		master.Close()
		return string(<-done)
	}
}

// TestConsoleSocket plays the engine's part: it listens on a socket,
// receives the pty master of a created container and reads what the
// container's program writes on its terminal.
func TestConsoleSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sh", "-c", "tty; echo size $(stty size)"}, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 30, Width: 100}
	})
	l := itest.ListenUnix(t)
	e.Must("create", "--console-socket", l.Addr().String(), "--bundle", bundle, id)
	master, name := itest.RecvFD(t, l, cmdTimeout)
	defer master.Close()
	if !strings.HasPrefix(name, "/dev/pts/") {
		t.Errorf("the master is sent as %q", name)
	}
	if _, err := unix.IoctlGetTermios(int(master.Fd()), unix.TCGETS); err != nil {
		t.Fatalf("the fd received is not a terminal: %v", err)
	}
	e.Must("start", id)
	out := strings.ReplaceAll(readAll(t, master, 10*time.Second), "\r", "")
	if !strings.Contains(out, "/dev/pts/0\n") || !strings.Contains(out, "size 30 100\n") {
		t.Errorf("terminal output %q", out)
	}
	e.waitStatus(id, "stopped")
	e.Must("delete", id)
}

// TestRunTerminal runs a terminal container in the foreground: corral
// relays the pty to its own stdio.
func TestRunTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sh", "-c", "tty; exit 2"}, func(s *specs.Spec) { s.Process.Terminal = true })
	r := e.Corral("run", "--bundle", bundle, id)
	if r.Code != 2 || !strings.Contains(r.Stdout, "/dev/pts/0") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestExecTTY(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	r := e.Corral("exec", "-t", id, "sh", "-c", "tty; exit 5")
	if r.Code != 5 || !strings.Contains(r.Stdout, "/dev/pts/") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	e.fails([]string{"console-socket"}, "exec", "-t", "-d", id, "true")

	l := itest.ListenUnix(t)
	e.Must("exec", "-t", "-d", "--console-socket", l.Addr().String(), id, "sh", "-c", "echo via-socket")
	master, _ := itest.RecvFD(t, l, cmdTimeout)
	defer master.Close()
	if out := readAll(t, master, 10*time.Second); !strings.Contains(out, "via-socket") {
		t.Errorf("exec terminal output %q", out)
	}
	e.Must("delete", "-f", id)
}

// TestTerminalIsTheUsers: the terminal of a process run as a user is the
// user's, its group devpts' (gid=5), as with runc, so that the process
// can open it again by its name.
func TestTerminalIsTheUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const script = "stat -c %u:%g $(tty) /dev/console; echo reopened > $(tty)"
	id := e.ID()
	bundle := e.Bundle(id, []string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.User = specs.User{UID: 1000, GID: 1000}
	})
	r := e.Corral("run", "--bundle", bundle, id)
	if out := strings.ReplaceAll(r.Stdout, "\r", ""); r.Code != 0 || out != "1000:5\n1000:5\nreopened\n" {
		t.Errorf("run: exit %d, stdout %q, stderr %q", r.Code, out, r.Stderr)
	}
	id = e.runDetached([]string{"sleep", "100"})
	r = e.Corral("exec", "-t", "--user", "1000:1000", id, "sh", "-c", "stat -c %u:%g $(tty); echo reopened > $(tty)")
	if out := strings.ReplaceAll(r.Stdout, "\r", ""); r.Code != 0 || out != "1000:5\nreopened\n" {
		t.Errorf("exec: exit %d, stdout %q, stderr %q", r.Code, out, r.Stderr)
	}
	e.Must("delete", "-f", id)
}

// TestPidfdSocket receives a pidfd of init over --pidfd-socket.
func TestPidfdSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	l := itest.ListenUnix(t)
	e.Must("create", "--pidfd-socket", l.Addr().String(), "--bundle", e.Bundle(id, []string{"sleep", "100"}), id)
	pidfd, _ := itest.RecvFD(t, l, cmdTimeout)
	defer pidfd.Close()
	link, _ := os.Readlink(filepath.Join("/proc/self/fd", itoa(int(pidfd.Fd()))))
	if link != "anon_inode:[pidfd]" {
		t.Errorf("received %q, not a pidfd", link)
	}
	// The pidfd signals init.
	if err := unix.PidfdSendSignal(int(pidfd.Fd()), unix.SIGKILL, nil, 0); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(id, "stopped")
	e.Must("delete", id)
}
