package main

import (
	"github.com/spf13/cobra"
)

func newStartCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start <container-id>",
		Short: "execute the user defined process in a created container",
		Long: `Run the program of a container made by "corral create". The container
must be in the created state.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(g, args[0])
			if err != nil {
				return err
			}
			// Exec checks the status under the container's lock and
			// names it when it is not "created".
			return withID("start", args[0], c.Exec())
		},
	}
}
