package main

import (
	"github.com/spf13/cobra"
)

func newPauseCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pause <container-id>",
		Short: "pause suspends all processes inside the container",
		Long: `Freeze every process of a running container with the cgroup freezer;
"corral resume" thaws them.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(g, args[0])
			if err != nil {
				return err
			}
			return withID("pause", args[0], c.Pause())
		},
	}
}

func newResumeCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "resume <container-id>",
		Short: "resumes all processes that have been previously paused",
		Args:  checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(g, args[0])
			if err != nil {
				return err
			}
			return withID("resume", args[0], c.Resume())
		},
	}
}
