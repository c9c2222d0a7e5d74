package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errNoCRIU is what checkpoint and restore return until corral drives
// CRIU.
var errNoCRIU = errors.New("checkpoint/restore: not implemented yet")

// newCheckpointCommand registers checkpoint with runc's flags, so that
// engines probing for them get a clear error rather than a usage one.
func newCheckpointCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkpoint [flags] <container-id>",
		Short: "checkpoint a running container",
		Args:  checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withID("checkpoint", args[0], errNoCRIU)
		},
	}
	f := cmd.Flags()
	f.String("image-path", "", "path for saving criu image files")
	f.String("work-path", "", "path for saving work files and logs")
	f.String("parent-path", "", "path for previous criu image files in pre-dump")
	f.Bool("leave-running", false, "leave the process running after checkpointing")
	f.Bool("tcp-established", false, "allow open tcp connections")
	f.Bool("tcp-skip-in-flight", false, "skip in-flight tcp connections")
	f.Bool("link-remap", false, "allow one to link unlinked files back when possible")
	f.Bool("ext-unix-sk", false, "allow external unix sockets")
	f.Bool("shell-job", false, "allow shell jobs")
	f.Bool("lazy-pages", false, "use userfaultfd to lazily restore memory pages")
	f.Int("status-fd", -1, "criu writes \\0 to this FD once lazy-pages is ready")
	f.String("page-server", "", "ADDRESS:PORT of the page server")
	f.Bool("file-locks", false, "handle file locks, for safety")
	f.Bool("pre-dump", false, "dump container's memory information only, leave the container running after this")
	f.String("manage-cgroups-mode", "", "cgroups mode: soft|full|strict|ignore (default: soft)")
	f.StringArray("empty-ns", nil, "create a namespace, but don't restore its properties")
	f.Bool("auto-dedup", false, "enable auto deduplication of memory images")
	return cmd
}

func newRestoreCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore [flags] <container-id>",
		Short: "restore a container from a previous checkpoint",
		Args:  checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withID("restore", args[0], errNoCRIU)
		},
	}
	f := cmd.Flags()
	f.String("console-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
	f.String("image-path", "", "path to criu image files for restoring")
	f.String("work-path", "", "path for saving work files and logs")
	f.Bool("tcp-established", false, "allow open tcp connections")
	f.Bool("ext-unix-sk", false, "allow external unix sockets")
	f.Bool("shell-job", false, "allow shell jobs")
	f.Bool("file-locks", false, "handle file locks, for safety")
	f.String("manage-cgroups-mode", "", "cgroups mode: soft|full|strict|ignore (default: soft)")
	f.StringP("bundle", "b", "", "path to the root of the bundle directory")
	f.BoolP("detach", "d", false, "detach from the container's process")
	f.String("pid-file", "", "specify the file to write the process id to")
	f.Bool("no-subreaper", false, "disable the use of the subreaper used to reap reparented processes")
	f.Bool("no-pivot", false, "do not use pivot root to jail process inside rootfs")
	f.StringArray("empty-ns", nil, "create a namespace, but don't restore its properties")
	f.Bool("auto-dedup", false, "enable auto deduplication of memory images")
	f.Bool("lazy-pages", false, "use userfaultfd to lazily restore memory pages")
	f.String("lsm-profile", "", "ignore the LSM profile of the checkpoint, use this one")
	f.String("lsm-mount-context", "", "ignore the LSM mount context of the checkpoint, use this one")
	return cmd
}
