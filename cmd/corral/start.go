package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer"
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
			return withID("start", args[0], execFailure(startNotified(g, c, 0)))
		},
	}
}

// execFailure rewrites init's report, through the exec fifo, of a
// program it could not exec (the step and its message: `exec: exec
// "/run.sh": no such file or directory`) as runc prints it, `exec /run.sh:
// no such file or directory`: scripts and engines match those words.
// Other errors are left as they are.
func execFailure(err error) error {
	var ce *libcontainer.ContainerError
	if !errors.As(err, &ce) || ce.Err == nil {
		return err
	}
	msg, ok := strings.CutPrefix(ce.Err.Error(), "exec: exec ")
	if !ok {
		return err
	}
	path, reason, ok := strings.Cut(msg, ": ")
	if q, qerr := strconv.QuotedPrefix(msg); qerr == nil {
		path, _ = strconv.Unquote(q)
		reason, ok = strings.CutPrefix(msg[len(q):], ": ")
	}
	if !ok {
		return err
	}
	return &libcontainer.ContainerError{Op: ce.Op, ID: ce.ID, Err: errors.New("exec " + path + ": " + reason)}
}
