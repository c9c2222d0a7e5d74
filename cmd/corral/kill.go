package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer"
)

func newKillCommand(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "kill [flags] <container-id> [signal]",
		Short: "send a signal to the container's init process",
		Long: `Send a signal to the init process of a container: a name ("KILL",
"SIGKILL") or a number; SIGTERM when none is given; 0 only checks that
init is alive. --all signals every process of the container, and succeeds
on a stopped container, killing whatever is left in its cgroup. A
container without a pid namespace of its own gets every signal in all of
its processes, and KILL even once its init is gone.`,
		Args: checkArgs(1, 2, "the container id and an optional signal"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sigName := "SIGTERM"
			if len(args) == 2 {
				sigName = args[1]
			}
			sig, err := parseSignal(sigName)
			if err != nil {
				return err
			}
			c, err := loadContainer(g, args[0])
			if err != nil {
				return err
			}
			if all {
				err = c.SignalAll(sig)
			} else {
				err = c.Signal(sig)
			}
			if errors.Is(err, libcontainer.ErrNotRunning) || errors.Is(err, libcontainer.ErrStopped) {
				return &notRunningError{id: c.ID(), err: err}
			}
			return withID("kill", c.ID(), err)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "send the specified signal to all processes inside the container")
	return cmd
}

// notRunningError is kill's error for a container whose init is gone. Its
// message has runc's words, "container not running": containerd's shim
// looks for them in the output of a failed kill and then reports the
// process as already finished (NotFound), which its clients, kubelet's
// StopContainer among them, take as done; any other words make it an
// unknown error.
type notRunningError struct {
	id  string
	err error // the library's, if it noticed
}

func (e *notRunningError) Error() string {
	return fmt.Sprintf("kill container %q: container not running", e.id)
}

func (e *notRunningError) Unwrap() error {
	if e.err != nil {
		return e.err
	}
	return libcontainer.ErrNotRunning
}
