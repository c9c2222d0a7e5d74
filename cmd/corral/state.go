package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/moby/sys/user"
	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer"
)

// containerState is what `state` prints and `list --format json` lists:
// the OCI state plus the rootfs, creation time and owner, with runc's
// field names and order, which engines decode.
type containerState struct {
	// Version is the OCI runtime-spec version of the config.
	Version string `json:"ociVersion"`
	// ID is the container's id.
	ID string `json:"id"`
	// InitProcessPid is init's pid on the host, 0 once it stopped.
	InitProcessPid int `json:"pid"`
	// Status is created, running, paused or stopped.
	Status string `json:"status"`
	// Bundle is the absolute path of the bundle directory.
	Bundle string `json:"bundle"`
	// Rootfs is the host path of the root filesystem.
	Rootfs string `json:"rootfs"`
	// Created is when the container was created, in UTC.
	Created time.Time `json:"created"`
	// Annotations are the config's annotations.
	Annotations map[string]string `json:"annotations,omitempty"`
	// Owner is the user owning the container's state directory.
	Owner string `json:"owner"`
}

func newStateCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "state <container-id>",
		Short: "output the state of a container",
		Long:  `Print the state of a container as JSON.`,
		Args:  checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(g, args[0])
			if err != nil {
				return err
			}
			cs, err := stateOf(g, c)
			if err != nil {
				return withID("state of", args[0], err)
			}
			b, err := json.MarshalIndent(cs, "", "  ")
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(append(b, '\n'))
			return err
		},
	}
}

// stateOf gathers the state of c.
func stateOf(g *globals, c *libcontainer.Container) (*containerState, error) {
	oci, err := c.OCIState()
	if err != nil {
		return nil, err
	}
	st, err := c.State()
	if err != nil {
		return nil, err
	}
	// runc reports the spec version of the container's config.json.
	version := st.Config.Version
	if version == "" {
		version = oci.Version
	}
	cs := &containerState{
		Version:        version,
		ID:             oci.ID,
		InitProcessPid: oci.Pid,
		Status:         string(oci.Status),
		Bundle:         oci.Bundle,
		Rootfs:         st.Config.Rootfs,
		Created:        st.Created.UTC(),
		Owner:          ownerOf(filepath.Join(g.root, c.ID())),
	}
	if len(oci.Annotations) > 0 {
		cs.Annotations = oci.Annotations
	}
	return cs, nil
}

// ownerOf names the owner of the state directory, "#uid" if it has no
// name in /etc/passwd, as runc does.
func ownerOf(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	if u, err := user.LookupUid(int(st.Uid)); err == nil {
		return u.Name
	}
	return "#" + strconv.FormatUint(uint64(st.Uid), 10)
}
