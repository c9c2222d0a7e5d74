package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendListenerFd hands a notify listener fd to the seccomp agent at
// listenerPath, as the OCI runtime spec asks: it connects to the unix
// stream socket and sends the fd with SCM_RIGHTS together with state as
// JSON, in one message.
//
// state describes the container; its Fds is set to ["seccompFd"] (the
// one fd sent) and an empty Version to the spec version this package
// implements. Put linux.seccomp.listenerMetadata in state.Metadata.
//
// listenerPath is a host path: call this from the runtime, not from an
// init already inside the container's mount namespace. The fd stays
// open; the caller closes its copy once the agent has it.
func SendListenerFd(listenerPath string, fd int, state *specs.ContainerProcessState) error {
	if state == nil {
		return errors.New("send seccomp listener fd: no container process state")
	}
	if fd < 0 {
		return fmt.Errorf("send seccomp listener fd: bad fd %d", fd)
	}
	st := *state
	st.Fds = []string{specs.SeccompFdName}
	if st.Version == "" {
		st.Version = specs.Version
	}
	msg, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("send seccomp listener fd: %w", err)
	}

	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("send seccomp listener fd: socket: %w", err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: listenerPath}); err != nil {
		return fmt.Errorf("send seccomp listener fd: connect to %q: %w", listenerPath, err)
	}
	// The fd rides with the first byte; a stream socket may take the
	// rest in further writes.
	n, err := sendmsg(sock, msg, unix.UnixRights(fd))
	for err == nil && n < len(msg) {
		var m int
		m, err = sendmsg(sock, msg[n:], nil)
		n += m
	}
	if err != nil {
		return fmt.Errorf("send seccomp listener fd to %q: %w", listenerPath, err)
	}
	return nil
}

func sendmsg(sock int, b, oob []byte) (int, error) {
	for {
		n, err := unix.SendmsgN(sock, b, oob, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			return n, err
		}
	}
}
