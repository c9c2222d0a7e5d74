package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corral-oci/corral/internal/reflectjson"
	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/capabilities"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

// execFailed is exec's exit code when the program could not be run.
const execFailed = 255

// execOpts are the flags of exec.
type execOpts struct {
	process        string
	consoleSocket  string
	pidfdSocket    string
	pidFile        string
	cwd            string
	user           string
	processLabel   string
	apparmor       string
	env            []string
	caps           []string
	additionalGids []string
	cgroups        []string
	tty            bool
	detach         bool
	noNewPrivs     bool
	ignorePaused   bool
	preserveFDs    int
}

func newExecCommand(g *globals) *cobra.Command {
	o := &execOpts{}
	cmd := &cobra.Command{
		Use:   "exec [flags] <container-id> <command> [args...]",
		Short: "execute new process inside the container",
		Long: `Run a program in a running (or created) container.

The process starts from the container's config.json process (its env,
cwd, user, capabilities...) with the command and the flags' changes, or is
read whole from --process, a JSON file holding an OCI process object.

In the foreground corral passes its signals on and exits with the
program's exit status; with --detach it exits once the program runs.
When the program cannot be run (an unknown, stopped or paused container,
a missing program, a bad flag value) corral exits with 255, as runc.`,
		Args: checkArgs(1, -1, "the container id and the command to run"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := execProcess(g, cmd.Flags(), o, args[0], args[1:])
			var ee *exitError
			if err == nil || errors.As(err, &ee) {
				return err
			}
			// As runc: 255 tells a failed exec from a program that
			// ran and exited 1.
			return &codedError{code: execFailed, err: err}
		},
		Annotations: map[string]string{annotationStopAtFirstArg: "true"},
	}
	// What follows the container id is the program's: "exec ID sh -c X"
	// must not read -c as --cap.
	cmd.Flags().SetInterspersed(false)
	f := cmd.Flags()
	f.StringVarP(&o.process, "process", "p", "", "path to the process.json")
	f.StringVar(&o.consoleSocket, "console-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
	f.StringVar(&o.pidfdSocket, "pidfd-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the exec process")
	f.StringVar(&o.pidFile, "pid-file", "", "specify the file to write the process id to")
	f.StringVar(&o.cwd, "cwd", "", "current working directory in the container")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set environment variables")
	f.BoolVarP(&o.tty, "tty", "t", false, "allocate a pseudo-TTY")
	f.StringVarP(&o.user, "user", "u", "", "UID (format: <uid>[:<gid>])")
	f.StringArrayVarP(&o.additionalGids, "additional-gids", "g", nil, "additional gids")
	f.BoolVarP(&o.detach, "detach", "d", false, "detach from the container's process")
	f.StringVar(&o.processLabel, "process-label", "", "set the asm process label for the process commonly used with selinux")
	f.StringVar(&o.apparmor, "apparmor", "", "set the apparmor profile for the process")
	f.BoolVar(&o.noNewPrivs, "no-new-privs", false, "set the no new privileges value for the process")
	f.StringArrayVarP(&o.caps, "cap", "c", nil, "add a capability to the bounding set for the process")
	f.IntVar(&o.preserveFDs, "preserve-fds", 0, "pass N additional file descriptors to the container (stdio + N in total)")
	f.StringArrayVar(&o.cgroups, "cgroup", nil, "run the process in an (existing) sub-cgroup(s); format is [<controller>:]<cgroup>")
	f.BoolVar(&o.ignorePaused, "ignore-paused", false, "allow exec in a paused container")
	return cmd
}

func execProcess(g *globals, flags *pflag.FlagSet, o *execOpts, id string, args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	warmSpawn()
	c, err := loadContainer(g, id)
	if err != nil {
		return err
	}
	if err := runExec(g, c, flags, o, args); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return withID("exec in", id, err)
	}
	return nil
}

func runExec(g *globals, c *libcontainer.Container, flags *pflag.FlagSet, o *execOpts, args []string) error {
	var err error
	for _, p := range []*string{&o.pidFile, &o.consoleSocket, &o.pidfdSocket, &o.process} {
		if *p, err = absPath(*p); err != nil {
			return err
		}
	}
	// One look at the container gives its status and its bundle; the
	// library checks the status again, under its lock, when it joins.
	st, err := c.OCIState()
	if err != nil {
		return err
	}
	switch st.Status {
	case specs.ContainerState(libcontainer.Stopped.String()):
		return errors.New("cannot exec in a stopped container")
	case specs.ContainerState(libcontainer.Paused.String()):
		if !o.ignorePaused {
			return errors.New("cannot exec in a paused container (use --ignore-paused to override)")
		}
	}
	sp, where, err := execSpec(st.Bundle, flags, o, args)
	if err != nil {
		return err
	}
	if err := checkTerminal(o.detach, sp.Terminal, o.consoleSocket); err != nil {
		return err
	}
	conv, err := convertProcess(sp)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	p := newProcess(sp, conv)
	p.IgnorePaused = o.ignorePaused
	p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
	if p.ExtraFiles, err = g.inherited.preservedFiles(3, o.preserveFDs); err != nil {
		return err
	}
	if p.SubCgroupPaths, err = subCgroupPaths(o.cgroups); err != nil {
		return err
	}

	var tty *ttyRelay
	switch {
	case o.consoleSocket != "":
		if p.ConsoleSocket, err = dialSocket("--console-socket", o.consoleSocket); err != nil {
			return err
		}
		defer p.ConsoleSocket.Close()
	case sp.Terminal:
		var sock *os.File
		if tty, sock, err = newTTYRelay(); err != nil {
			return err
		}
		p.ConsoleSocket = sock
		defer sock.Close()
		defer tty.close()
	}
	if o.pidfdSocket != "" {
		if p.PidfdSocket, err = dialSocket("--pidfd-socket", o.pidfdSocket); err != nil {
			return err
		}
		defer p.PidfdSocket.Close()
	}

	var relay *signalRelay
	if !o.detach {
		if relay, err = newSignalRelay(); err != nil {
			return err
		}
	}
	if err := c.Run(p); err != nil {
		return err
	}
	if tty != nil {
		if err := tty.start(); err != nil {
			p.Signal(os.Kill)
			return err
		}
	}
	pid, err := p.Pid()
	if err != nil {
		return err
	}
	if err := writePidFile(o.pidFile, pid); err != nil {
		// Whoever asked for the pid file cannot manage a process it
		// does not know of.
		p.Signal(os.Kill)
		return err
	}
	if o.detach {
		return nil
	}
	code, err := relay.forward(p, tty)
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// execSpec is the OCI process to run, and where it came from for errors:
// --process as it is, as runc takes it, or else the process of the
// container's config.json with the command and the flags applied.
func execSpec(bundle string, flags *pflag.FlagSet, o *execOpts, args []string) (*specs.Process, string, error) {
	if o.process != "" {
		if len(args) > 0 {
			slog.Warn("exec: --process is given; the command on the command line is ignored", "command", args)
		}
		data, err := os.ReadFile(o.process)
		if err != nil {
			return nil, "", fmt.Errorf("--process: %w", err)
		}
		// Engines pass a process with every exec: reflectjson decodes it
		// without building encoding/json's codec.
		var sp specs.Process
		if err := reflectjson.Decode(data, &sp, func() error {
			return json.NewDecoder(bytes.NewReader(data)).Decode(&sp)
		}); err != nil {
			return nil, "", fmt.Errorf("--process %s: %w", o.process, err)
		}
		return &sp, o.process, nil
	}
	if len(args) == 0 {
		return nil, "", errors.New("no command to run: give one after the container id, or --process")
	}
	path := filepath.Join(bundle, "config.json")
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("read the process defaults from the bundle (or pass --process): %w", err)
	}
	sp, err := specconv.LoadProcess(f)
	f.Close()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	sp.Args = args
	sp.Terminal = o.tty
	sp.Env = append(sp.Env, o.env...)
	if o.cwd != "" {
		sp.Cwd = o.cwd
	}
	if o.apparmor != "" {
		sp.ApparmorProfile = o.apparmor
	}
	if o.processLabel != "" {
		sp.SelinuxLabel = o.processLabel
	}
	if flags.Changed("no-new-privs") {
		sp.NoNewPrivileges = o.noNewPrivs
	}
	if o.user != "" {
		uid, gid, err := parseUser(o.user)
		if err != nil {
			return nil, "", err
		}
		sp.User.UID = uid
		if gid != nil {
			sp.User.GID = *gid
		}
	}
	for _, s := range o.additionalGids {
		gid, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, "", fmt.Errorf("--additional-gids %q: not a gid", s)
		}
		sp.User.AdditionalGids = append(sp.User.AdditionalGids, uint32(gid))
	}
	if err := addCaps(sp, o.caps); err != nil {
		return nil, "", err
	}
	return sp, "process", nil
}

// parseUser reads --user uid[:gid].
func parseUser(s string) (uint32, *uint32, error) {
	u, g, hasGroup := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return 0, nil, fmt.Errorf("--user %q: %q is not a uid", s, u)
	}
	if !hasGroup {
		return uint32(uid), nil, nil
	}
	gid, err := strconv.ParseUint(g, 10, 32)
	if err != nil {
		return 0, nil, fmt.Errorf("--user %q: %q is not a gid", s, g)
	}
	gid32 := uint32(gid)
	return uint32(uid), &gid32, nil
}

// addCaps gives the process the capabilities of --cap: bounding,
// effective and permitted, and ambient only where the process already
// has them inheritable. Inheritable itself is never widened: it outlives
// exec and would reach programs the user did not mean to empower
// (CVE-2022-29162).
func addCaps(sp *specs.Process, caps []string) error {
	if len(caps) == 0 {
		return nil
	}
	if sp.Capabilities == nil {
		sp.Capabilities = &specs.LinuxCapabilities{}
	}
	pc := sp.Capabilities
	for _, c := range caps {
		name := strings.ToUpper(c)
		if !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		if !capabilities.Known(name) {
			return fmt.Errorf("--cap %q: unknown capability", c)
		}
		pc.Bounding = append(pc.Bounding, name)
		pc.Effective = append(pc.Effective, name)
		pc.Permitted = append(pc.Permitted, name)
		for _, i := range pc.Inheritable {
			if i == name {
				pc.Ambient = append(pc.Ambient, name)
				break
			}
		}
	}
	return nil
}

// subCgroupPaths reads --cgroup: "path" for every controller (and cgroup
// v2), or "ctrl[,ctrl...]:path".
func subCgroupPaths(specs []string) (map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := make(map[string]string)
	for _, s := range specs {
		ctrls, path, ok := strings.Cut(s, ":")
		if !ok {
			path, ctrls = ctrls, ""
		}
		if path == "" {
			return nil, fmt.Errorf("--cgroup %q: empty path", s)
		}
		for _, c := range strings.Split(ctrls, ",") {
			if _, dup := out[c]; dup {
				return nil, fmt.Errorf("--cgroup %q: controller %q given twice", s, c)
			}
			out[c] = path
		}
	}
	return out, nil
}
