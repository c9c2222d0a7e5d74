package main

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newRunCommand(g *globals) *cobra.Command {
	o := &startOpts{}
	var keep, noSubreaper bool
	cmd := &cobra.Command{
		Use:   "run [flags] <container-id>",
		Short: "create and run a container",
		Long: `Create a container from the bundle in the current directory (or --bundle)
and run its program.

In the foreground (without --detach), corral passes the signals it receives
to the container's init, waits for it, deletes the container (unless
--keep) and exits with its exit status (128+N when signal N killed it).
With process.terminal set and no --console-socket, corral relays the
container's terminal to its own.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContainer(g, args[0], o, keep)
		},
	}
	f := cmd.Flags()
	addStartFlags(f, o)
	f.BoolVarP(&o.detach, "detach", "d", false, "detach from the container's process")
	f.BoolVar(&keep, "keep", false, "do not delete the container after it exits")
	// runc's flag; corral's foreground waits need no subreaper.
	f.BoolVar(&noSubreaper, "no-subreaper", false, "accepted for compatibility with runc; has no effect")
	f.MarkHidden("no-subreaper")
	return cmd
}

// runContainer creates the container and starts its program; in the
// foreground it waits for it and returns its exit code as an exitError.
func runContainer(g *globals, id string, o *startOpts, keep bool) error {
	warmSpawn()
	var relay *signalRelay
	if !o.detach {
		var err error
		if relay, err = newSignalRelay(); err != nil {
			return err
		}
	}
	s, err := createContainer(g, id, o)
	if err != nil {
		return err
	}
	n, err := listenNotify(filepath.Join(g.root, id))
	if err == nil {
		defer n.close()
		err = s.c.Exec()
	}
	if err != nil {
		if s.tty != nil {
			s.tty.close()
		}
		// A container whose program never ran is of no use to keep.
		s.destroy()
		return execFailure(err)
	}
	if n != nil {
		// Detached, the manager watches init; in the foreground,
		// corral, which stays until init exits and passes on its code.
		pid, _ := s.p.Pid()
		if o.detach {
			return n.relay(s.c, pid)
		}
		go func() {
			if err := n.relay(s.c, os.Getpid()); err != nil {
				slog.Warn("relay READY", "error", err)
			}
		}()
	}
	if o.detach {
		return nil
	}
	code, err := relay.forward(s.p, s.tty)
	if s.tty != nil {
		s.tty.close()
	}
	if !keep {
		s.destroy()
	}
	if err != nil {
		return err
	}
	if code != 0 {
		slog.Debug("container exited", "id", id, "code", code)
		return &exitError{code: code}
	}
	return nil
}
