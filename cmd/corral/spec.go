package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer/specconv"
)

func newSpecCommand(g *globals) *cobra.Command {
	var bundle string
	var rootless bool
	cmd := &cobra.Command{
		Use:   "spec [flags]",
		Short: "create a new specification file",
		Long: `Write a config.json to start a bundle from: sh on a terminal in the
read-only root filesystem "rootfs" next to it, with its own namespaces and
few capabilities. --rootless writes one that runs without root. An existing
config.json is never overwritten.`,
		Args: checkArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec := specconv.Example()
			if rootless {
				specconv.ToRootless(spec)
			}
			path := filepath.Join(bundle, "config.json")
			b, err := json.MarshalIndent(spec, "", "\t")
			if err != nil {
				return err
			}
			// O_EXCL: the refusal to overwrite cannot race another writer.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("spec: %s exists; remove it first", path)
			}
			if err != nil {
				return fmt.Errorf("spec: %w", err)
			}
			_, err = f.Write(append(b, '\n'))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return fmt.Errorf("spec: write %s: %w", path, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&bundle, "bundle", "b", "", "path to the root of the bundle directory")
	cmd.Flags().BoolVar(&rootless, "rootless", false, "generate a configuration for a rootless container")
	return cmd
}
