package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
)

// The sd_notify(3) protocol through a container, as runc passes it: a
// service manager (systemd for a Type=notify unit, podman --sdnotify=
// container) names its socket in the runtime's NOTIFY_SOCKET. The
// container's program cannot reach the host's socket, so:
//
//   - create makes the directory notify/ in the container's state
//     directory, and the spec gets a read-only bind mount of it at
//     /run/notify and NOTIFY_SOCKET=/run/notify/notify.sock in the
//     process's environment;
//   - start (or run) binds a datagram socket there, writable to every
//     user of the container, starts the program and waits until it sends
//     READY=1 (or init dies); then it sends the host's socket the READY
//     line, MAINPID (init's pid, or with a foreground run corral's own,
//     the process the manager then watches) and BARRIER=1, whose
//     acknowledgement tells that the manager has read the rest.
//
// Like runc, only the READY line is relayed: what the program says before
// (STATUS=...) is dropped, and nothing is read after READY.
const (
	notifyDir         = "notify"
	notifySocketName  = "notify.sock"
	notifyInContainer = "/run/notify"
)

// notifyHostSocket returns the manager's socket named in the runtime's
// environment, or "" when there is none.
func notifyHostSocket() string {
	return os.Getenv("NOTIFY_SOCKET")
}

// notifySpec gives the container's process the socket's directory and
// NOTIFY_SOCKET, at create, when the runtime's environment names a host
// socket. stateDir is the container's state directory.
func notifySpec(spec *specs.Spec, stateDir string) {
	if notifyHostSocket() == "" {
		return
	}
	spec.Mounts = append(spec.Mounts, specs.Mount{
		Destination: notifyInContainer,
		Source:      filepath.Join(stateDir, notifyDir),
		Type:        "bind",
		Options:     []string{"bind", "nosuid", "noexec", "nodev", "ro"},
	})
	spec.Process.Env = append(spec.Process.Env, "NOTIFY_SOCKET="+notifyInContainer+"/"+notifySocketName)
}

// makeNotifyDir makes the directory the bind mount of notifySpec needs,
// once the state directory exists. The container's users, root of a user
// namespace as well, must reach the socket in it.
func makeNotifyDir(stateDir string) error {
	if notifyHostSocket() == "" {
		return nil
	}
	dir := filepath.Join(stateDir, notifyDir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: make %s: %w", dir, err)
	}
	return nil
}

// notifyRelay is the socket the container's program notifies, bound at
// start.
type notifyRelay struct {
	host string
	conn *net.UnixConn
}

// listenNotify binds the container's notify socket when the runtime's
// environment names a host socket and the container was created with one
// (else nil: a container made without NOTIFY_SOCKET has no directory for
// it).
func listenNotify(stateDir string) (*notifyRelay, error) {
	host := notifyHostSocket()
	if host == "" {
		return nil, nil
	}
	dir := filepath.Join(stateDir, notifyDir)
	if _, err := os.Stat(dir); err != nil {
		slog.Debug("NOTIFY_SOCKET is set, but the container was created without it", "error", err)
		return nil, nil
	}
	path := filepath.Join(dir, notifySocketName)
	os.Remove(path) // of a start that failed
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: bind %s: %w", path, err)
	}
	// Any user of the container may say it is ready.
	if err := os.Chmod(path, 0o777); err != nil {
		conn.Close()
		return nil, fmt.Errorf("NOTIFY_SOCKET: chmod %s: %w", path, err)
	}
	return &notifyRelay{host: host, conn: conn}, nil
}

// close closes the socket; its file goes with the state directory.
func (n *notifyRelay) close() {
	if n != nil {
		n.conn.Close()
	}
}

// waitReady waits until the container's program sends READY=, and
// returns that line; nil when the container stops first. Its status, not
// the pid, tells: init may be a zombie of this very process (run -d).
func (n *notifyRelay) waitReady(c *libcontainer.Container) []byte {
	ready := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			nr, err := n.conn.Read(buf)
			if err != nil {
				return // closed
			}
			for _, line := range bytes.Split(buf[:nr], []byte{'\n'}) {
				if bytes.HasPrefix(line, []byte("READY=")) {
					ready <- bytes.Clone(line)
					return
				}
			}
		}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case line := <-ready:
			return line
		case <-tick.C:
			if st, err := c.Status(); err != nil || st == libcontainer.Stopped {
				return nil
			}
		}
	}
}

// relay waits for the program's READY (see waitReady) and tells the
// host's socket, with mainPid as MAINPID. A manager that does not
// acknowledge the barrier within a few seconds is warned about, not an
// error: the container runs either way.
func (n *notifyRelay) relay(c *libcontainer.Container, mainPid int) error {
	line := n.waitReady(c)
	if line == nil {
		slog.Debug("NOTIFY_SOCKET: the container stopped before READY", "id", c.ID())
		return nil
	}
	host, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.host, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: connect to %s: %w", n.host, err)
	}
	defer host.Close()
	msg := append(line, '\n')
	msg = append(msg, "MAINPID="+strconv.Itoa(mainPid)+"\n"...)
	if _, err := host.Write(msg); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: notify %s: %w", n.host, err)
	}
	if err := notifyBarrier(host, 5*time.Second); err != nil {
		slog.Warn("NOTIFY_SOCKET: the manager did not acknowledge READY", "socket", n.host, "error", err)
	}
	return nil
}

// notifyBarrier sends BARRIER=1 with the write end of a pipe and waits for
// the manager to close it: sd_notify_barrier(3), which tells that the
// manager has read every message sent before.
func notifyBarrier(host *net.UnixConn, timeout time.Duration) error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return err
	}
	r := os.NewFile(uintptr(p[0]), "barrier")
	defer r.Close()
	// net refuses WriteMsgUnix on a connected datagram socket: sendmsg
	// on its fd.
	raw, err := host.SyscallConn()
	if err != nil {
		unix.Close(p[1])
		return err
	}
	var sendErr error
	err = raw.Write(func(fd uintptr) bool {
		sendErr = unix.Sendmsg(int(fd), []byte("BARRIER=1\n"), unix.UnixRights(p[1]), nil, 0)
		return !errors.Is(sendErr, unix.EAGAIN)
	})
	unix.Close(p[1])
	if err == nil {
		err = sendErr
	}
	if err != nil {
		return fmt.Errorf("send BARRIER=1: %w", err)
	}
	fds := []unix.PollFd{{Fd: int32(p[0]), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return errors.New("no acknowledgement of BARRIER=1")
		}
		nfds, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if nfds > 0 {
			if fds[0].Revents&unix.POLLHUP != 0 {
				return nil
			}
			return errors.New("unexpected data on the barrier pipe")
		}
	}
}

// startNotified starts a created container's program and, when the
// runtime's environment names a host socket, relays its READY with
// mainPid as the process to watch (0: init's).
func startNotified(g *globals, c *libcontainer.Container, mainPid int) error {
	n, err := listenNotify(filepath.Join(g.root, c.ID()))
	if err != nil {
		return err
	}
	defer n.close()
	if err := c.Exec(); err != nil {
		return err
	}
	if n == nil {
		return nil
	}
	if mainPid == 0 {
		st, err := c.State()
		if err != nil {
			return err
		}
		mainPid = st.InitProcessPid
	}
	return n.relay(c, mainPid)
}
