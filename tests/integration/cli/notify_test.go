package cli

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var (
	sdnotifyOnce sync.Once
	sdnotifyDir  string
	sdnotifyErr  error
)

// sdnotifyBin builds testdata/sdnotify once, static, into a directory of
// its own that the tests bind at /mnt.
func sdnotifyBin(t *testing.T) string {
	t.Helper()
	sdnotifyOnce.Do(func() {
		sdnotifyDir, sdnotifyErr = os.MkdirTemp(suiteTmp, "sdnotify-")
		if sdnotifyErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(sdnotifyDir, "sdnotify"), "./testdata/sdnotify")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			sdnotifyErr = err
			t.Logf("%s", out)
		}
		os.Chmod(sdnotifyDir, 0o755)
	})
	if sdnotifyErr != nil {
		t.Fatalf("build testdata/sdnotify: %v", sdnotifyErr)
	}
	return sdnotifyDir
}

// notifyBundle is a bundle whose program runs script with sdnotify at
// /mnt/sdnotify, and a tmpfs on /run, so that the notify socket's mount
// point is not made in the shared rootfs.
func notifyBundle(e *env, id, script string) string {
	dir := sdnotifyBin(e.T)
	return e.Bundle(id, []string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=755"}},
			specs.Mount{Destination: "/mnt", Type: "bind", Source: dir, Options: []string{"bind", "ro"}})
	})
}

// hostNotify is the service manager's end: a datagram socket that the
// runtime's NOTIFY_SOCKET names, keeping what it receives.
type hostNotify struct {
	path string
	msgs chan string
}

// listenHostNotify listens on a new datagram socket, acknowledging each
// BARRIER=1 as systemd does: by closing the pipe end that came with it.
func listenHostNotify(t *testing.T) *hostNotify {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	h := &hostNotify{path: path, msgs: make(chan string, 16)}
	go func() {
		buf := make([]byte, 4096)
		oob := make([]byte, unix.CmsgSpace(4*4))
		for {
			n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
			if err != nil {
				close(h.msgs)
				return
			}
			if cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, c := range cmsgs {
					fds, _ := unix.ParseUnixRights(&c)
					for _, fd := range fds {
						unix.Close(fd)
					}
				}
			}
			h.msgs <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return h
}

// next returns the next datagram, or "" after a timeout.
func (h *hostNotify) next(timeout time.Duration) string {
	select {
	case m := <-h.msgs:
		return m
	case <-time.After(timeout):
		return ""
	}
}

// corralNotify runs corral with NOTIFY_SOCKET set to the host socket.
func (e *env) corralNotify(h *hostNotify, args ...string) {
	e.T.Helper()
	cmd := e.Command(context.Background(), args...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+h.path)
	r := e.RunCmd(cmd)
	if r.Code != 0 {
		e.T.Fatalf("%v", r)
	}
	if r.Stderr != "" {
		e.T.Errorf("corral %q warned: %s", args, r.Stderr)
	}
}

// TestNotifySocket: with NOTIFY_SOCKET in corral's environment, the
// container's program finds a socket at its own NOTIFY_SOCKET, and
// `start` returns once it said READY=1, which the host's socket gets with
// MAINPID (init's pid) and a barrier; what it said before is not relayed.
func TestNotifySocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := listenHostNotify(t)
	id := e.ID()
	bundle := notifyBundle(e, id, `/mnt/sdnotify STATUS=starting; sleep 0.5; /mnt/sdnotify "READY=1"; exec sleep 1000`)
	e.corralNotify(h, "create", "--bundle", bundle, id)
	started := time.Now()
	e.corralNotify(h, "start", id)
	if took := time.Since(started); took < 400*time.Millisecond {
		t.Errorf("start returned after %v, before the program said READY=1 (0.5 s in)", took)
	}
	pid := e.state(id).Pid
	if got, want := h.next(5*time.Second), "READY=1\nMAINPID="+strconv.Itoa(pid)+"\n"; got != want {
		t.Errorf("host socket got %q, want %q", got, want)
	}
	if got := h.next(5 * time.Second); got != "BARRIER=1\n" {
		t.Errorf("host socket got %q, want BARRIER=1", got)
	}
	if got := h.next(200 * time.Millisecond); got != "" {
		t.Errorf("host socket got more: %q", got)
	}
	// The container's environment names the socket in the container.
	if got := strings.TrimSpace(e.Must("exec", id, "sh", "-c", `tr '\0' '\n' < /proc/1/environ | grep ^NOTIFY_SOCKET=`)); got != "NOTIFY_SOCKET=/run/notify/notify.sock" {
		t.Errorf("init's environment: %q, want NOTIFY_SOCKET=/run/notify/notify.sock", got)
	}
	e.Must("delete", "--force", id)
}

// TestNotifySocketRunDetached: run -d relays READY=1 with init as MAINPID
// and returns after it; a program that exits without READY does not keep
// the runtime waiting.
func TestNotifySocketRunDetached(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := listenHostNotify(t)
	id := e.ID()
	e.corralNotify(h, "run", "--detach", "--bundle", notifyBundle(e, id, `/mnt/sdnotify READY=1; exec sleep 1000`), id)
	pid := e.state(id).Pid
	if got, want := h.next(5*time.Second), "READY=1\nMAINPID="+strconv.Itoa(pid)+"\n"; got != want {
		t.Errorf("host socket got %q, want %q", got, want)
	}
	if got := h.next(5 * time.Second); got != "BARRIER=1\n" {
		t.Errorf("host socket got %q, want BARRIER=1", got)
	}
	e.Must("delete", "--force", id)

	quiet := e.ID()
	started := time.Now()
	e.corralNotify(h, "run", "--detach", "--bundle", notifyBundle(e, quiet, `exit 0`), quiet)
	if took := time.Since(started); took > 10*time.Second {
		t.Errorf("run -d of a program that never says READY took %v", took)
	}
	if got := h.next(300 * time.Millisecond); got != "" {
		t.Errorf("host socket got %q from a program that said nothing", got)
	}
	e.Must("delete", "--force", quiet)
}

// TestNotifySocketRunForeground: a foreground run stays until its program
// exits, so MAINPID names corral, the process the manager then watches.
func TestNotifySocketRunForeground(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := listenHostNotify(t)
	id := e.ID()
	cmd := e.Command(context.Background(), "run", "--bundle", notifyBundle(e, id, `/mnt/sdnotify READY=1; sleep 1`), id)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+h.path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := h.next(10 * time.Second)
	if want := "READY=1\nMAINPID=" + strconv.Itoa(cmd.Process.Pid) + "\n"; got != want {
		t.Errorf("host socket got %q, want %q", got, want)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("corral run: %v", err)
	}
}
