package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer/seccomp"
)

// version is corral's release.
const version = "0.1.0"

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  checkArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printVersion(cmd.OutOrStdout())
		},
	}
}

// printVersion prints what `runc --version` prints, with corral's name.
func printVersion(w io.Writer) error {
	seccompVersion := "unknown"
	if major, minor, micro, err := seccomp.Version(); err == nil {
		seccompVersion = fmt.Sprintf("%d.%d.%d", major, minor, micro)
	}
	_, err := fmt.Fprintf(w, "corral version %s\ncommit: %s\nspec: %s\ngo: %s\nlibseccomp: %s\n",
		version, commit(), specs.Version, runtime.Version(), seccompVersion)
	return err
}

// commit is the VCS revision the binary was built from, "unknown" when
// it was built without VCS information (-buildvcs=false, a tarball).
func commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
