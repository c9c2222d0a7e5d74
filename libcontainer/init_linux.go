package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
)

// Init is the entry of the re-executed runtime, in the container: the
// nsenter constructor has already put the process in its namespaces. It
// builds the container (or joins it, for an exec'd process) as the setup
// message says and execs the user's program. It does not return: on
// failure it reports the error to the runtime and exits.
func Init() {
	runtime.LockOSThread()
	// Each of the runtime's children has its marker in its arguments and
	// its variable in its environment; a variable alone, inherited by
	// accident, does nothing.
	marker := bootstrap.Marker(os.Args)
	if job := os.Getenv(criuRootEnv); job != "" && marker == bootstrap.MarkCriuRoot {
		// A restore runs criu through this binary (restore_linux.go).
		runCriuRoot(job)
	}
	if fds := os.Getenv(bootstrap.EnvHooks); fds != "" && marker == bootstrap.MarkHooks {
		runStartHooks(fds)
	}
	fd, err := strconv.Atoi(os.Getenv(bootstrap.EnvFD))
	if err != nil || marker != bootstrap.MarkBootstrap {
		fmt.Fprintf(os.Stderr, "init: the runtime did not start this process (arguments %q, %s=%q)\n",
			os.Args, bootstrap.EnvFD, os.Getenv(bootstrap.EnvFD))
		os.Exit(1)
	}
	// Opens the phase file, if the runtime passed one, while the host's
	// paths are visible.
	phase.Enable()
	phase.Mark("init:go-main")
	os.Unsetenv(bootstrap.EnvFD)
	os.Unsetenv(bootstrap.EnvFDs)
	os.Unsetenv("GOMAXPROCS")
	os.Unsetenv("GOGC")
	os.Unsetenv("GODEBUG")
	sock := os.NewFile(uintptr(fd), "init-sync")
	var s setup
	if err := initsync.Expect(sock, initsync.Config, &s); err != nil {
		fmt.Fprintln(os.Stderr, "init: read setup:", err)
		os.Exit(1)
	}
	phase.Mark("init:setup-read")
	// The runtime binary this process runs from, a read-only handle
	// (selfexe): init execs it once more, into its wait mode, which
	// closes it; an exec'd process needs it no more.
	if s.Mode == modeInit {
		unix.CloseOnExec(s.ExeFD)
	} else {
		unix.Close(s.ExeFD)
	}
	switch s.Mode {
	case modeInit:
		if err = s.decodeConfig(); err == nil {
			err = initContainer(sock, &s)
		}
	case modeExec:
		err = initExec(sock, &s)
	default:
		err = fmt.Errorf("unknown setup mode %q", s.Mode)
	}
	var ie *initsync.InitError
	if !errors.As(err, &ie) {
		ie = initsync.NewError("init", err)
	}
	if serr := initsync.Send(sock, initsync.Error, ie); serr != nil && !errors.As(err, new(reportedError)) {
		fmt.Fprintln(os.Stderr, "init:", ie.Message)
	}
	os.Exit(1)
}

// step tags the error of an init step for the runtime.
func step(name string, err error) error {
	if err == nil {
		return nil
	}
	var ie *initsync.InitError
	if errors.As(err, &ie) {
		return err
	}
	return initsync.NewError(name, err)
}

// initContainer is the container's first process: it builds the
// container, waits for start and execs the program.
func initContainer(sock *os.File, s *setup) error {
	cfg := s.Config
	if err := enterCgroupNS(s); err != nil {
		return err
	}
	// Device nodes and mount points get exactly the modes asked for; the
	// process's own umask is set before exec.
	unix.Umask(0)
	// The exec fifo is reopened through a procfs of our own: the
	// container's /proc may be missing, and the fifo must open after this
	// process gave up its privileges.
	procfs, err := openInitProcfs(s.UserNS)
	if err != nil {
		return step("init", err)
	}
	if cfg.Namespaces.Contains(configs.NEWNS) {
		r, err := prepareRootfs(sock, s)
		if err != nil {
			return step("rootfs", err)
		}
		phase.Mark("init:rootfs-prepared")
		if err := runCreateHooks(sock, s, r.dir); err != nil {
			return step("hooks", err)
		}
		if err := r.finish(); err != nil {
			return step("rootfs", err)
		}
		phase.Mark("init:pivoted")
	} else if err := runCreateHooks(sock, s, nil); err != nil {
		return step("hooks", err)
	}
	if s.Process.Terminal {
		if err := setupConsole(s, true); err != nil {
			return step("console", err)
		}
	} else if err := newSession(); err != nil {
		return step("init", err)
	}
	if err := setupNamespaceSettings(cfg); err != nil {
		return err
	}
	if err := setupKeyring(s); err != nil {
		return step("keyring", err)
	}
	phase.Mark("init:namespaces-set")
	return finishProcess(sock, s, procfs)
}

// enterCgroupNS makes the container's cgroup namespace, rooted at its
// cgroup, for this thread only: the one that execs. It is made here, not
// in the bootstrap, because on the fallback path the runtime adds the
// process to its cgroup only after the bootstrap.
func enterCgroupNS(s *setup) error {
	if !s.UnshareCgroupNS {
		return nil
	}
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return step("namespaces", fmt.Errorf("create cgroup namespace: %w", err))
	}
	return nil
}

// initExec is an extra process in a running container: the bootstrap
// joined its namespaces; what is left is the process's own setup.
//
// This process is not in the container's pid namespace (the bootstrap
// did not fork into it): nothing in the container can see it, or ptrace
// one of its threads while they hold the runtime's privileges. Its
// locked thread alone takes the program's credentials, and clones the
// program's process into the pid namespace (spawnProgram), which also
// makes the process's session.
func initExec(sock *os.File, s *setup) error {
	if s.PidNSFD > 0 {
		// For this thread only, while it may: the program's process,
		// which it clones, is born in the namespace. Go makes the
		// threads a locked thread asks for from another one.
		err := unix.Setns(s.PidNSFD, unix.CLONE_NEWPID)
		unix.Close(s.PidNSFD)
		if err != nil {
			return step("exec", fmt.Errorf("join pid namespace (fd %d): %w", s.PidNSFD, err))
		}
	}
	faultPoint("exec:setup")
	if s.Process.Terminal {
		if err := setupConsole(s, false); err != nil {
			return step("console", err)
		}
	}
	return finishProcess(sock, s, nil)
}

// newSession makes the process the leader of a session of its own, as a
// terminal does for its process: otherwise its session leader is the
// runtime, outside the container, and CRIU refuses to checkpoint a tree
// whose session leader it cannot restore.
func newSession() error {
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	return nil
}

// runCreateHooks lets the runtime run the prestart and createRuntime hooks,
// then runs the createContainer hooks here, in the container's namespaces
// before pivot_root, as the runtime spec asks, with the rootfs as their
// working directory and, when they name no environment, the process's, as
// runc runs them.
func runCreateHooks(sock *os.File, s *setup, rootfs *os.File) error {
	if s.RunHooks {
		if err := initsync.Send(sock, initsync.Hooks, nil); err != nil {
			return err
		}
		if err := initsync.Expect(sock, initsync.HooksDone, nil); err != nil {
			return err
		}
	}
	if len(s.Hooks.CreateContainer) == 0 {
		return nil
	}
	var err error
	if rootfs != nil {
		err = unix.Fchdir(int(rootfs.Fd()))
	} else {
		err = unix.Chdir(s.Config.Rootfs)
	}
	if err != nil {
		return fmt.Errorf("enter rootfs %s for the createContainer hooks: %w", s.Config.Rootfs, err)
	}
	return runHooks(configs.CreateContainer, s.Hooks.CreateContainer, s.HookState, s.Process.Env)
}

// setupNamespaceSettings applies what the container's own namespaces
// hold: host and domain names, the loopback interface, sysctls.
func setupNamespaceSettings(cfg *configs.Config) error {
	if cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return step("hostname", fmt.Errorf("hostname %q: %w", cfg.Hostname, err))
		}
	}
	if cfg.Domainname != "" {
		if err := unix.Setdomainname([]byte(cfg.Domainname)); err != nil {
			return step("domainname", fmt.Errorf("domainname %q: %w", cfg.Domainname, err))
		}
	}
	if err := setupNetworks(cfg); err != nil {
		return step("network", err)
	}
	if err := writeSysctls(cfg.Sysctl); err != nil {
		return step("sysctl", err)
	}
	return nil
}
