// Command corral is an OCI runtime: it creates and runs containers from
// OCI bundles with runc's command line, so that containerd, podman and
// Kubernetes drive it as they drive runc.
//
// Every container start runs this binary twice (the command, then the
// re-executed container init), so nothing here does work at package
// initialisation: the command tree is built in main.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	_ "github.com/opencontainers/cgroups/devices"
	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer"
	_ "github.com/corral-oci/corral/libcontainer/nsenter"
)

// init turns the re-executed binary into the container's init before
// anything else runs: libcontainer.Init never returns.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
		libcontainer.Init()
		panic("libcontainer.Init returned")
	}
}

// defaultRoot is where container state lives unless --root says
// otherwise; rootful podman passes no --root and relies on it.
const defaultRoot = "/run/corral"

// globals are the flags every command shares.
type globals struct {
	root string
	// rootGiven is set when --root was given: a root that does not exist
	// is then a mistake, not a host where nothing ran yet.
	rootGiven     bool
	logPath       string
	logFormat     string
	debug         bool
	systemdCgroup bool
	rootless      string
	criu          string

	// inherited are the fds corral started with, for --preserve-fds
	// and LISTEN_FDS.
	inherited inheritedFDs

	// logReady is set once the log is open; logToFile when it is a
	// file, not stderr: errors then go to both.
	logReady  bool
	logToFile bool
}

func main() {
	// CORRAL_PHASES is corral's to read, not the library's.
	phase.Enable()
	phase.Mark("cli:main")
	code := execute(os.Args[1:])
	phase.Mark("cli:exit")
	os.Exit(code)
}

// execute runs the command line and returns the exit code.
func execute(args []string) int {
	g := &globals{inherited: probeInheritedFDs(args)}
	root := newRootCommand(g, args)
	if name := unknownCommand(root, args); name != "" {
		reportError(g, fmt.Errorf("unknown command %q for %q", name, root.Name()))
		return 1
	}
	root.SetArgs(normalizeArgs(root, args))
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	reportError(g, err)
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return 1
}

func newRootCommand(g *globals, args []string) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   "corral",
		Short: "Open Container Initiative runtime",
		Long: `corral is a command line client for running applications packaged
according to the Open Container Initiative (OCI) format.

Containers are configured using bundles: a directory with a config.json
and the container's root filesystem. "corral spec" writes a config.json
to start from.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flag("root"); f != nil {
				g.rootGiven = f.Changed
			}
			return g.setup()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				return printVersion(cmd.OutOrStdout())
			}
			return cmd.Help()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.Flags().BoolVarP(&showVersion, "version", "v", false, "print the version")

	f := root.PersistentFlags()
	f.StringVar(&g.root, "root", defaultRootDir(), "root directory for storage of container state (this should be located in tmpfs)")
	f.StringVar(&g.logPath, "log", "", "set the log file to write corral logs to (default is stderr)")
	f.StringVar(&g.logFormat, "log-format", "text", "set the log format ('text' or 'json')")
	f.BoolVar(&g.debug, "debug", false, "enable debug logging")
	f.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\"")
	f.StringVar(&g.rootless, "rootless", "auto", "ignore cgroup permission errors ('true', 'false', or 'auto')")
	f.StringVar(&g.criu, "criu", "criu", "path to the criu binary used for checkpoint and restore")

	addCommands(root, g, args)
	return root
}

// addCommands adds the subcommands to root. Their flags are most of the
// cost of the command line, paid on every container start, so when args
// name a command only that one is built; help and errors get them all.
func addCommands(root *cobra.Command, g *globals, args []string) {
	commands := []struct {
		names []string
		build func(*globals) *cobra.Command
	}{
		{[]string{"create"}, newCreateCommand},
		{[]string{"start"}, newStartCommand},
		{[]string{"run"}, newRunCommand},
		{[]string{"exec"}, newExecCommand},
		{[]string{"kill"}, newKillCommand},
		{[]string{"delete", "rm"}, newDeleteCommand},
		{[]string{"state"}, newStateCommand},
		{[]string{"list", "ls"}, newListCommand},
		{[]string{"ps"}, newPsCommand},
		{[]string{"pause"}, newPauseCommand},
		{[]string{"resume"}, newResumeCommand},
		{[]string{"events"}, newEventsCommand},
		{[]string{"update"}, newUpdateCommand},
		{[]string{"spec"}, newSpecCommand},
		{[]string{"features"}, newFeaturesCommand},
		{[]string{"version"}, newVersionCommand},
		{[]string{"checkpoint"}, newCheckpointCommand},
		{[]string{"restore"}, newRestoreCommand},
	}
	if name := commandName(root, args); name != "" {
		for _, c := range commands {
			if slices.Contains(c.names, name) {
				root.AddCommand(c.build(g))
				return
			}
		}
	}
	for _, c := range commands {
		root.AddCommand(c.build(g))
	}
}

// defaultRootDir is /run/corral for root and, as runc does, a directory
// under XDG_RUNTIME_DIR for anyone else, who cannot write /run.
func defaultRootDir() string {
	if os.Geteuid() != 0 {
		if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
			return filepath.Join(dir, "corral")
		}
	}
	return defaultRoot
}

// setup checks the global flags and opens the log. Paths become absolute
// now: create and run change into the bundle directory later.
func (g *globals) setup() error {
	switch g.rootless {
	case "auto", "true", "false":
	default:
		return fmt.Errorf("--rootless: invalid value %q (want true, false or auto)", g.rootless)
	}
	if g.root == "" {
		return errors.New("--root: empty")
	}
	var err error
	if g.root, err = filepath.Abs(g.root); err != nil {
		return fmt.Errorf("--root %s: %w", g.root, err)
	}
	return setupLogging(g)
}

// codedError is a failure that corral reports, then exits with code
// rather than 1.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }

func (e *codedError) Unwrap() error { return e.err }

// exitError carries the exit code of a container's process out of a
// command: corral exits with it and prints nothing.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
