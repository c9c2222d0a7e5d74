package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/moby/sys/userns"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

// startOpts are the flags of create, shared with run.
type startOpts struct {
	bundle        string
	pidFile       string
	consoleSocket string
	pidfdSocket   string
	noPivot       bool
	noNewKeyring  bool
	preserveFDs   int
	// detach is true for create, and for run --detach: the process's
	// terminal, if any, goes to the console socket.
	detach bool
	// start starts the created container's init: Container.Start when
	// nil; restore brings it back from a checkpoint instead.
	start func(*libcontainer.Container, *libcontainer.Process) error
}

func addStartFlags(f *pflag.FlagSet, o *startOpts) {
	f.StringVarP(&o.bundle, "bundle", "b", "", "path to the root of the bundle directory, defaults to the current directory")
	f.StringVar(&o.consoleSocket, "console-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
	f.StringVar(&o.pidfdSocket, "pidfd-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the init process")
	f.StringVar(&o.pidFile, "pid-file", "", "specify the file to write the process id to")
	f.BoolVar(&o.noPivot, "no-pivot", false, "do not use pivot root to jail process inside rootfs; this should be used whenever the rootfs is on top of a ramdisk")
	f.BoolVar(&o.noNewKeyring, "no-new-keyring", false, "do not create a new session keyring for the container; this will cause the container to inherit the calling processes session key")
	f.IntVar(&o.preserveFDs, "preserve-fds", 0, "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)")
}

func newCreateCommand(g *globals) *cobra.Command {
	o := &startOpts{detach: true}
	cmd := &cobra.Command{
		Use:   "create [flags] <container-id>",
		Short: "create a container",
		Long: `Create a container from the bundle in the current directory (or --bundle)
and leave it waiting to run its program: "corral start" runs it.

The container id must be unique on the host, and made of letters, digits
and _+.- only.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			warmSpawn()
			_, err := createContainer(g, args[0], o)
			return err
		},
	}
	addStartFlags(cmd.Flags(), o)
	return cmd
}

// started is a container whose init is set up and waits for start.
type started struct {
	c   *libcontainer.Container
	p   *libcontainer.Process
	tty *ttyRelay // set when corral relays the terminal itself
}

// destroy removes the container, saying why it could not.
func (s *started) destroy() {
	if err := s.c.Destroy(); err != nil {
		slog.Error("destroy container", "id", s.c.ID(), "error", err)
	}
}

// createContainer is create, and the first half of run: it checks and
// converts the bundle's config.json, creates the container and starts its
// init, then writes the pid file. A failure at any step leaves nothing
// behind.
func createContainer(g *globals, id string, o *startOpts) (*started, error) {
	if err := libcontainer.ValidateID(id); err != nil {
		return nil, err
	}
	s, err := prepareContainer(g, id, o)
	if err != nil {
		return nil, withID("create", id, err)
	}
	return s, nil
}

func prepareContainer(g *globals, id string, o *startOpts) (_ *started, retErr error) {
	var err error
	for _, p := range []*string{&o.bundle, &o.pidFile, &o.consoleSocket, &o.pidfdSocket} {
		if *p, err = absPath(*p); err != nil {
			return nil, err
		}
	}
	if o.bundle == "" {
		if o.bundle, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
	}
	phase.Mark("cli:parsed")
	spec, err := loadBundle(o.bundle)
	if err != nil {
		return nil, err
	}
	phase.Mark("cli:spec-loaded")
	if err := checkTerminal(o.detach, spec.Process.Terminal, o.consoleSocket); err != nil {
		return nil, err
	}
	notifySpec(spec, filepath.Join(g.root, id))
	rootlessEUID, rootlessCgroups := g.rootlessMode()
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       id,
		UseSystemdCgroup: g.systemdCgroup,
		NoPivotRoot:      o.noPivot,
		NoNewKeyring:     o.noNewKeyring,
		Spec:             spec,
		RootlessEUID:     rootlessEUID,
		RootlessCgroups:  rootlessCgroups,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(o.bundle, "config.json"), err)
	}
	// The library reads the bundle back from here for the OCI state.
	cfg.Labels = append(cfg.Labels, "bundle="+o.bundle)

	p := newProcess(spec.Process, cfg)
	p.Init = true
	// process.execCPUAffinity is for exec'd processes, not init.
	p.CPUAffinity = nil
	p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
	if files := g.inherited.listenFiles(); len(files) > 0 {
		// The sockets keep their numbers, and the program, pid 1 in
		// its namespace, learns they are its own.
		p.Env = append(p.Env, "LISTEN_FDS="+strconv.Itoa(len(files)), "LISTEN_PID=1")
		p.ExtraFiles = files
	}
	preserved, err := g.inherited.preservedFiles(3+len(p.ExtraFiles), o.preserveFDs)
	if err != nil {
		return nil, err
	}
	p.ExtraFiles = append(p.ExtraFiles, preserved...)

	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	var tty *ttyRelay
	switch {
	case o.consoleSocket != "":
		if p.ConsoleSocket, err = dialSocket("--console-socket", o.consoleSocket); err != nil {
			return nil, err
		}
		closers = append(closers, p.ConsoleSocket)
	case spec.Process.Terminal:
		if tty, p.ConsoleSocket, err = newTTYRelay(); err != nil {
			return nil, err
		}
		closers = append(closers, p.ConsoleSocket)
		defer func() {
			if retErr != nil {
				tty.close()
			}
		}()
	}
	if o.pidfdSocket != "" {
		if p.PidfdSocket, err = dialSocket("--pidfd-socket", o.pidfdSocket); err != nil {
			return nil, err
		}
		closers = append(closers, p.PidfdSocket)
	}

	c, err := libcontainer.Create(g.root, id, cfg)
	if err != nil {
		return nil, err
	}
	s := &started{c: c, p: p, tty: tty}
	defer func() {
		if retErr != nil {
			s.destroy()
		}
	}()
	if err := makeNotifyDir(filepath.Join(g.root, id)); err != nil {
		return nil, err
	}
	start := c.Start
	if o.start != nil {
		start = func(p *libcontainer.Process) error { return o.start(c, p) }
	}
	if err := start(p); err != nil {
		return nil, err
	}
	if tty != nil {
		if err := tty.start(); err != nil {
			return nil, err
		}
	}
	pid, err := p.Pid()
	if err != nil {
		return nil, err
	}
	if err := writePidFile(o.pidFile, pid); err != nil {
		return nil, err
	}
	return s, nil
}

// loadBundle reads the bundle's config.json from inside the bundle: the
// relative paths of the spec (root.path, bind mount sources) are relative
// to it, and the conversion resolves them against the working directory.
func loadBundle(bundle string) (*specs.Spec, error) {
	if err := os.Chdir(bundle); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	path := filepath.Join(bundle, "config.json")
	f, err := os.Open("config.json")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	spec, err := specconv.LoadSpec(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if spec.Process == nil {
		return nil, fmt.Errorf("%s: process: missing", path)
	}
	if err := checkProcess(spec.Process); err != nil {
		return nil, fmt.Errorf("%s: process.%w", path, err)
	}
	return spec, nil
}

// rootlessMode says whether corral runs without root, and whether the
// cgroup may be unwritable to it (--rootless).
func (g *globals) rootlessMode() (euid, cgroups bool) {
	euid = os.Geteuid() != 0
	switch g.rootless {
	case "true":
		cgroups = true
	case "false":
		cgroups = false
	default:
		// systemd delegates a writable cgroup to the user's manager.
		cgroups = !g.systemdCgroup && (euid || userns.RunningInUserNS())
	}
	return euid, cgroups
}
