package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer"
)

func newListCommand(g *globals) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Aliases: []string{"ls"},
		Short:   "lists containers started by corral with the given root",
		Long: `List the containers under the state root (--root): a table, their ids
only (--quiet), or their states as a JSON array (--format json, "null"
when there are none, as with runc). A --root that does not exist is an
error; the default one holds no containers until the first create.`,
		Args: checkArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format: invalid value %q (want table or json)", format)
			}
			states, err := listContainers(g)
			if err != nil {
				return err
			}
			if quiet {
				for _, s := range states {
					fmt.Println(s.ID)
				}
				return nil
			}
			if format == "json" {
				return json.NewEncoder(os.Stdout).Encode(states)
			}
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.InitProcessPid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "select one of: table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "display only container IDs")
	return cmd
}

// listContainers loads every container under the root, in name order. An
// entry that is not a container (a stray file, a create interrupted
// before its state was written) is skipped with a warning.
func listContainers(g *globals) ([]containerState, error) {
	ids, err := libcontainer.List(g.root)
	if err != nil {
		// The default root is made by the first create; a root given
		// that does not exist is a typo, as for runc.
		if errors.Is(err, os.ErrNotExist) && !g.rootGiven {
			return nil, nil
		}
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []containerState
	for _, id := range ids {
		c, err := libcontainer.Load(g.root, id)
		if err != nil {
			slog.Warn("list: skip an entry that is not a container", "name", id, "error", err)
			continue
		}
		s, err := stateOf(g, c)
		if err != nil {
			if errors.Is(err, libcontainer.ErrNotExist) {
				continue // deleted meanwhile
			}
			slog.Warn("list: skip a container whose state cannot be read", "id", id, "error", err)
			continue
		}
		out = append(out, *s)
	}
	return out, nil
}
