package libcontainer

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/initsync"
	"github.com/corral-oci/corral/libcontainer/seccomp"
)

// forwardSeccompFD takes the notify listener fd the child just loaded a
// filter for and hands it to the listener the config names, with the
// container's state, as the runtime spec describes.
func forwardSeccompFD(ch *child, st *State) error {
	fd, err := initsync.RecvFD(ch.sock)
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	defer unix.Close(fd)
	sc := st.Config.Seccomp
	if sc == nil || sc.ListenerPath == "" {
		return fmt.Errorf("seccomp: a notify filter needs linux.seccomp.listenerPath")
	}
	state := ociState(st, Created)
	state.Status = specs.StateCreating
	state.Pid = ch.pid
	cps := &specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      ch.pid,
		Metadata: sc.ListenerMetadata,
		State:    *state,
	}
	if err := seccomp.SendListenerFd(sc.ListenerPath, fd, cps); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	if err := initsync.Send(ch.sock, initsync.SeccompDone, nil); err != nil {
		return ch.exitError("seccomp", err)
	}
	return nil
}
