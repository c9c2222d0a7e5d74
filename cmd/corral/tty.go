package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// dialSocket connects to the unix socket at path, for --console-socket
// and --pidfd-socket, and returns the connection as a file the library
// can hand to the container's process. what names the flag in errors.
func dialSocket(what, path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("%s: %s is not a unix socket", what, path)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: connect to %s: %w", what, path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// checkTerminal applies runc's rules to a terminal request: a detached
// process (any created container) with a terminal needs a console
// socket to send it to, and a console socket is only for that.
func checkTerminal(detach, terminal bool, consoleSocket string) error {
	if detach && terminal && consoleSocket == "" {
		return errors.New("cannot allocate a tty if corral will detach without setting a console socket (--console-socket)")
	}
	if (!detach || !terminal) && consoleSocket != "" {
		return errors.New("cannot use a console socket if corral will not detach or allocate a tty")
	}
	return nil
}

// ttyRelay is the terminal of a process run in the foreground: corral
// receives the pty master itself and copies between it and its own
// stdio, with its own terminal (if stdin is one) in raw mode.
type ttyRelay struct {
	recv    *os.File // our end of the console socket pair
	master  console.Console
	host    console.Console // nil when stdin is not a terminal
	outDone chan struct{}
}

// newTTYRelay makes the socket pair; the second file is the console
// socket of the process.
func newTTYRelay() (*ttyRelay, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("console socket pair: %w", err)
	}
	t := &ttyRelay{recv: os.NewFile(uintptr(fds[0]), "console-socket-recv")}
	return t, os.NewFile(uintptr(fds[1]), "console-socket"), nil
}

// start receives the master (the process has sent it by the time it
// runs) and starts copying.
func (t *ttyRelay) start() error {
	master, err := recvFile(t.recv)
	t.recv.Close()
	if err != nil {
		return fmt.Errorf("receive the pty master: %w", err)
	}
	t.master, err = console.ConsoleFromFile(master)
	if err != nil {
		master.Close()
		return fmt.Errorf("pty master: %w", err)
	}
	// Our own terminal translates newlines already (containerd/console's
	// raw mode keeps OPOST), and a file or pipe wants them bare: the
	// container's pty must not add a carriage return of its own.
	if err := console.ClearONLCR(t.master.Fd()); err != nil {
		slog.Debug("clear ONLCR on the pty", "error", err)
	}
	if host, err := console.ConsoleFromFile(os.Stdin); err == nil {
		if err := host.SetRaw(); err == nil {
			t.host = host
			t.resize()
		}
	}
	go func() {
		// Never waited for: stdin may never end. A pty has no
		// half-close, so its EOF is not passed on.
		io.Copy(t.master, os.Stdin)
	}()
	t.outDone = make(chan struct{})
	go func() {
		// Ends with EIO once every holder of the pty's peer is gone.
		io.Copy(os.Stdout, t.master)
		close(t.outDone)
	}()
	return nil
}

// resize gives the pty the size of our terminal, on start and SIGWINCH.
func (t *ttyRelay) resize() {
	if t.host == nil || t.master == nil {
		return
	}
	// A terminal that does not know its size (0x0) would undo the
	// spec's consoleSize.
	if ws, err := t.host.Size(); err == nil && ws.Width > 0 && ws.Height > 0 {
		if err := t.master.Resize(ws); err != nil {
			slog.Debug("resize the pty", "error", err)
		}
	}
}

// close waits a little for the process's last output, then restores our
// terminal. A process left in the background holding the pty must not
// keep corral from exiting.
func (t *ttyRelay) close() {
	if t.master != nil {
		select {
		case <-t.outDone:
		case <-time.After(time.Second):
		}
		t.master.Close()
	} else {
		t.recv.Close()
	}
	if t.host != nil {
		t.host.Reset()
	}
}

// recvFile receives one fd sent with SCM_RIGHTS, as the console socket
// protocol does.
func recvFile(sock *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), name, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, err
		}
		if len(msgs) != 1 {
			return nil, fmt.Errorf("expected one control message, got %d", len(msgs))
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil {
			return nil, err
		}
		if len(fds) != 1 {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return nil, fmt.Errorf("expected one fd, got %d", len(fds))
		}
		return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
	}
}
