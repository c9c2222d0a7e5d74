package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer"
)

func newDeleteCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "delete [flags] <container-id>",
		Aliases: []string{"rm"},
		Short:   "delete any resources held by the container, often used with detached containers",
		Long: `Delete a stopped or created container: its processes, cgroup and state.
A running or paused container is deleted only with --force, which kills
it first; --force also makes an unknown container id no error.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleteContainer(g, args[0], force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "forcibly delete the container if it is still running (uses SIGKILL)")
	return cmd
}

func deleteContainer(g *globals, id string, force bool) error {
	c, err := loadContainer(g, id)
	if errors.Is(err, libcontainer.ErrNotExist) && force {
		return nil
	}
	if errors.Is(err, libcontainer.ErrCorruptState) {
		// Nothing says which processes or cgroups were the container's:
		// what is left to remove is its state directory.
		if !force {
			return fmt.Errorf("%w (use --force to remove its state directory)", err)
		}
		slog.Warn("delete: the state does not decode; removing the state directory only", "id", id, "error", err)
		if rerr := os.RemoveAll(filepath.Join(g.root, id)); rerr != nil {
			return fmt.Errorf("delete container %q: %w", id, rerr)
		}
		return nil
	}
	if err != nil {
		return err
	}
	status, err := c.Status()
	if err != nil {
		return err
	}
	switch status {
	case libcontainer.Stopped, libcontainer.Created:
		// A created container has run nothing of the user's: deleting
		// it needs no force, as with runc.
	default:
		if !force {
			return fmt.Errorf("cannot delete container %q that is not stopped: %s (use --force)", id, status)
		}
	}
	return withID("delete", id, c.Destroy())
}
