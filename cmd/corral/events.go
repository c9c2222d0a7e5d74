package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer"
)

func newEventsCommand(g *globals) *cobra.Command {
	var interval time.Duration
	var once bool
	cmd := &cobra.Command{
		Use:   "events [flags] <container-id>",
		Short: "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
		Long: `Print the container's events as JSON, one per line: its resource usage
every --interval ({"type":"stats","id":...,"data":{...}}) and each OOM kill
({"type":"oom","id":...}), until the container stops. --stats prints the
usage once and exits.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if interval <= 0 {
				return errors.New("--interval: must be positive")
			}
			c, err := loadContainer(g, args[0])
			if err != nil {
				return err
			}
			return withID("events of", args[0], streamEvents(c, interval, once))
		},
	}
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Second, "set the stats collection interval")
	cmd.Flags().BoolVar(&once, "stats", false, "display the container's stats then exit")
	return cmd
}

func streamEvents(c *libcontainer.Container, interval time.Duration, once bool) error {
	status, err := c.Status()
	if err != nil {
		return err
	}
	if status == libcontainer.Stopped {
		return libcontainer.ErrNotRunning
	}
	enc := json.NewEncoder(os.Stdout)
	if once {
		s, err := c.Stats()
		if err != nil {
			return err
		}
		return enc.Encode(&event{Type: "stats", ID: c.ID(), Data: convertStats(s)})
	}
	oom, err := c.NotifyOOM()
	if err != nil {
		// Stats still work without OOM notification (no memory
		// controller, or a cgroup we cannot watch).
		slog.Warn("events: no OOM notifications", "id", c.ID(), "error", err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				// The cgroup is gone: so is the container.
				return nil
			}
			if err := enc.Encode(&event{Type: "oom", ID: c.ID()}); err != nil {
				return err
			}
		case <-tick.C:
			s, err := c.Stats()
			if err != nil {
				if status, serr := c.Status(); serr != nil || status == libcontainer.Stopped {
					return nil
				}
				slog.Error("events: read stats", "id", c.ID(), "error", err)
				continue
			}
			if err := enc.Encode(&event{Type: "stats", ID: c.ID(), Data: convertStats(s)}); err != nil {
				return err
			}
		}
	}
}
