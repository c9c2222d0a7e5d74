package main

import (
	"errors"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer"
)

// restoreFlags are restore's own flags.
type restoreFlags struct {
	criuFlags
	start           startOpts
	lsmProfile      string
	lsmMountContext string
	noSubreaper     bool
}

func newRestoreCommand(g *globals) *cobra.Command {
	o := &restoreFlags{}
	cmd := &cobra.Command{
		Use:   "restore [flags] <container-id>",
		Short: "restore a container from a previous checkpoint",
		Long: `Create a container from the bundle in the current directory (or --bundle)
and bring its processes back from the checkpoint in the image path
(./checkpoint unless --image-path says otherwise), instead of starting its
program.

In the foreground corral passes its signals to the restored init, waits
for it, deletes the container and exits with its exit status, as "corral
run" does; --detach leaves it running.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return restoreContainer(g, args[0], o)
		},
	}
	f := cmd.Flags()
	addCriuFlags(f, &o.criuFlags, "path to criu image files for restoring")
	f.StringVar(&o.start.consoleSocket, "console-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
	f.StringVarP(&o.start.bundle, "bundle", "b", "", "path to the root of the bundle directory")
	f.BoolVarP(&o.start.detach, "detach", "d", false, "detach from the container's process")
	f.StringVar(&o.start.pidFile, "pid-file", "", "specify the file to write the process id to")
	f.BoolVar(&o.start.noPivot, "no-pivot", false, "do not use pivot root to jail process inside rootfs")
	// runc's flag; the restored init is corral's own child, which it
	// waits for without a subreaper.
	f.BoolVar(&o.noSubreaper, "no-subreaper", false, "accepted for compatibility with runc; has no effect")
	f.StringVar(&o.lsmProfile, "lsm-profile", "", "ignore the LSM profile of the checkpoint, use this one")
	f.StringVar(&o.lsmMountContext, "lsm-mount-context", "", "ignore the LSM mount context of the checkpoint, use this one")
	return cmd
}

// restoreContainer creates the container from its bundle and restores
// its processes into it; in the foreground it waits for the restored init
// and returns its exit code as an exitError.
func restoreContainer(g *globals, id string, o *restoreFlags) error {
	if err := libcontainer.ValidateID(id); err != nil {
		return err
	}
	opts, err := o.criuOpts(g)
	if err != nil {
		return err
	}
	opts.LsmProfile = o.lsmProfile
	opts.LsmMountContext = o.lsmMountContext
	o.start.start = func(c *libcontainer.Container, p *libcontainer.Process) error {
		return c.Restore(p, opts)
	}
	warmSpawn()
	var relay *signalRelay
	if !o.start.detach {
		if relay, err = newSignalRelay(); err != nil {
			return err
		}
	}
	s, err := prepareContainer(g, id, &o.start)
	if err != nil {
		// Restore's own errors say "restore container" already; the
		// others, Create's among them, are named by restore.
		var ce *libcontainer.ContainerError
		if errors.As(err, &ce) && ce.Op == "restore" && ce.ID == id {
			return err
		}
		return &libcontainer.ContainerError{Op: "restore", ID: id, Err: err}
	}
	if o.start.detach {
		return nil
	}
	code, err := relay.forward(s.p, s.tty)
	if s.tty != nil {
		s.tty.close()
	}
	s.destroy()
	if err != nil {
		return err
	}
	if code != 0 {
		slog.Debug("restored container exited", "id", id, "code", code)
		return &exitError{code: code}
	}
	return nil
}
