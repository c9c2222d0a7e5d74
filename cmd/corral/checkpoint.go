package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// criuFlags are the flags checkpoint and restore share.
type criuFlags struct {
	imagePath         string
	workPath          string
	manageCgroupsMode string
	emptyNs           []string
	tcpEstablished    bool
	extUnixSk         bool
	shellJob          bool
	fileLocks         bool
	autoDedup         bool
	lazyPages         bool
}

func addCriuFlags(f *pflag.FlagSet, o *criuFlags, imageHelp string) {
	f.StringVar(&o.imagePath, "image-path", "", imageHelp+" (default: ./checkpoint)")
	f.StringVar(&o.workPath, "work-path", "", "path for saving work files and logs (default: the image path)")
	f.BoolVar(&o.tcpEstablished, "tcp-established", false, "allow open tcp connections")
	f.BoolVar(&o.extUnixSk, "ext-unix-sk", false, "allow external unix sockets")
	f.BoolVar(&o.shellJob, "shell-job", false, "allow shell jobs")
	f.BoolVar(&o.fileLocks, "file-locks", false, "handle file locks, for safety")
	f.BoolVar(&o.lazyPages, "lazy-pages", false, "use userfaultfd to lazily restore memory pages")
	f.StringVar(&o.manageCgroupsMode, "manage-cgroups-mode", "", "cgroups mode: soft|full|strict|ignore (default: soft)")
	f.StringArrayVar(&o.emptyNs, "empty-ns", nil, "create a namespace, but don't restore its properties")
	f.BoolVar(&o.autoDedup, "auto-dedup", false, "enable auto deduplication of memory images")
}

// criuOpts turns the shared flags into the library's options.
func (o *criuFlags) criuOpts(g *globals) (*libcontainer.CriuOpts, error) {
	images := o.imagePath
	if images == "" {
		images = "checkpoint"
	}
	images, err := filepath.Abs(images)
	if err != nil {
		return nil, fmt.Errorf("--image-path: %w", err)
	}
	work, err := absPath(o.workPath)
	if err != nil {
		return nil, fmt.Errorf("--work-path: %w", err)
	}
	mode, err := libcontainer.ParseCgroupsMode(o.manageCgroupsMode)
	if err != nil {
		return nil, fmt.Errorf("--manage-cgroups-mode: %w", err)
	}
	opts := &libcontainer.CriuOpts{
		ImagesDirectory:         images,
		WorkDirectory:           work,
		TcpEstablished:          o.tcpEstablished,
		ExternalUnixConnections: o.extUnixSk,
		ShellJob:                o.shellJob,
		FileLocks:               o.fileLocks,
		AutoDedup:               o.autoDedup,
		LazyPages:               o.lazyPages,
		ManageCgroupsMode:       mode,
		CriuPath:                g.criu,
	}
	for _, name := range o.emptyNs {
		t, ok := emptyNsTypes[name]
		if !ok {
			return nil, fmt.Errorf("--empty-ns: unknown namespace %q (want network, ipc, uts, mount, pid, cgroup, time or user)", name)
		}
		opts.EmptyNs = append(opts.EmptyNs, t)
	}
	return opts, nil
}

// emptyNsTypes are the namespaces --empty-ns names, as the OCI spec
// spells them.
var emptyNsTypes = map[string]configs.NamespaceType{
	"network": configs.NEWNET,
	"ipc":     configs.NEWIPC,
	"uts":     configs.NEWUTS,
	"mount":   configs.NEWNS,
	"pid":     configs.NEWPID,
	"cgroup":  configs.NEWCGROUP,
	"time":    configs.NEWTIME,
	"user":    configs.NEWUSER,
}

// checkpointFlags are checkpoint's own flags.
type checkpointFlags struct {
	criuFlags
	parentPath      string
	pageServer      string
	statusFd        int
	leaveRunning    bool
	preDump         bool
	tcpSkipInFlight bool
	linkRemap       bool
}

func newCheckpointCommand(g *globals) *cobra.Command {
	o := &checkpointFlags{}
	cmd := &cobra.Command{
		Use:   "checkpoint [flags] <container-id>",
		Short: "checkpoint a running container",
		Long: `Save the processes of a running container with criu into the image
path (./checkpoint unless --image-path says otherwise). The container is
deleted afterwards unless --leave-running or --pre-dump keeps it; "corral
restore" brings it back, here or on another machine.

The criu binary is "criu" in $PATH unless the global --criu flag names
another.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return checkpointContainer(g, args[0], o)
		},
	}
	f := cmd.Flags()
	addCriuFlags(f, &o.criuFlags, "path for saving criu image files")
	f.StringVar(&o.parentPath, "parent-path", "", "path for previous criu image files in pre-dump")
	f.BoolVar(&o.leaveRunning, "leave-running", false, "leave the process running after checkpointing")
	f.BoolVar(&o.tcpSkipInFlight, "tcp-skip-in-flight", false, "skip in-flight tcp connections")
	f.BoolVar(&o.linkRemap, "link-remap", false, "allow one to link unlinked files back when possible")
	f.IntVar(&o.statusFd, "status-fd", -1, "criu writes \\0 to this FD once lazy-pages is ready")
	f.StringVar(&o.pageServer, "page-server", "", "ADDRESS:PORT of the page server")
	f.BoolVar(&o.preDump, "pre-dump", false, "dump container's memory information only, leave the container running after this")
	return cmd
}

// checkpointContainer checkpoints the container and, unless it is to keep
// running, deletes it as runc does: its processes are gone.
func checkpointContainer(g *globals, id string, o *checkpointFlags) error {
	opts, err := o.criuOpts(g)
	if err != nil {
		return err
	}
	if p := o.parentPath; p != "" {
		// criu links the parent images into the new ones by this path:
		// relative to the image path, so that the two move together,
		// as runc requires.
		if filepath.IsAbs(p) {
			return fmt.Errorf("--parent-path %q: must be relative to the image path", p)
		}
		parent := filepath.Join(opts.ImagesDirectory, p)
		fi, err := os.Stat(parent)
		if err == nil && !fi.IsDir() {
			err = fmt.Errorf("%s: not a directory", parent)
		}
		if err != nil {
			return fmt.Errorf("--parent-path %q: %w", p, err)
		}
	}
	opts.ParentImage = o.parentPath
	opts.LeaveRunning = o.leaveRunning
	opts.PreDump = o.preDump
	opts.TcpSkipInFlight = o.tcpSkipInFlight
	opts.LinkRemap = o.linkRemap
	opts.StatusFd = o.statusFd
	if o.pageServer != "" {
		host, port, err := net.SplitHostPort(o.pageServer)
		if err != nil {
			return fmt.Errorf("--page-server %q: want ADDRESS:PORT: %w", o.pageServer, err)
		}
		n, err := strconv.ParseInt(port, 10, 32)
		if err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("--page-server %q: invalid port %q", o.pageServer, port)
		}
		opts.PageServer = libcontainer.CriuPageServerInfo{Address: host, Port: int32(n)}
	}
	if o.statusFd > 0 {
		if _, err := os.Stat("/proc/self/fd/" + strconv.Itoa(o.statusFd)); err != nil {
			return fmt.Errorf("--status-fd %d: not open", o.statusFd)
		}
	}
	c, err := loadContainer(g, id)
	if err != nil {
		return err
	}
	if err := c.Checkpoint(opts); err != nil {
		return withID("checkpoint", id, err)
	}
	if o.leaveRunning || o.preDump {
		return nil
	}
	return withID("checkpoint", id, c.Destroy())
}
