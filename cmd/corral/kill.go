package main

import (
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
"SIGKILL") or a number; SIGTERM when none is given. --all signals every
process of the container.`,
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
			status, err := c.Status()
			if err != nil {
				return err
			}
			if status == libcontainer.Stopped {
				return fmt.Errorf("kill container %q: %w", c.ID(), libcontainer.ErrNotRunning)
			}
			if all {
				return withID("kill", c.ID(), c.SignalAll(sig))
			}
			return withID("kill", c.ID(), c.Signal(sig))
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "send the specified signal to all processes inside the container")
	return cmd
}
