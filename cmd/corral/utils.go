package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
)

// absPath makes a path from the command line absolute against the
// directory corral started in, before create or run change into the
// bundle.
func absPath(p string) (string, error) {
	if p == "" || filepath.IsAbs(p) {
		return p, nil
	}
	return filepath.Abs(p)
}

// checkArgs is cobra's PositionalArgs with runc's wording: commands name
// what they expect ("the container id") instead of counting.
func checkArgs(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return fmt.Errorf("%q requires %s; see %q", cmd.Name(), what, cmd.CommandPath()+" --help")
		case max >= 0 && len(args) > max:
			return fmt.Errorf("%q takes %s, got unexpected arguments %q", cmd.Name(), what, args[min:])
		}
		return nil
	}
}

// loadContainer opens the container id under the state root.
func loadContainer(g *globals, id string) (*libcontainer.Container, error) {
	if id == "" {
		return nil, errors.New("container id cannot be empty")
	}
	return libcontainer.Load(g.root, id)
}

// writePidFile writes pid to path atomically, without a newline, as runc
// does: engines poll for the file and must never read a partial pid.
func writePidFile(path string, pid int) error {
	if path == "" {
		return nil
	}
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, "."+base+".*")
	if err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	_, err = tmp.WriteString(strconv.Itoa(pid))
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write pid file %s: %w", path, err)
	}
	return nil
}

// dedupEnv keeps the last value of each variable, in the place of its
// first occurrence: `exec -e PATH=...` appends to the spec's env, and the
// C library's getenv would find the first, stale, PATH.
func dedupEnv(env []string) []string {
	last := make(map[string]int, len(env))
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		last[k] = i
	}
	if len(last) == len(env) {
		return env
	}
	out := make([]string, 0, len(last))
	seen := make(map[string]bool, len(last))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, env[last[k]])
	}
	return out
}

// exitCode is the shell's view of how a process ended: its exit status,
// or 128 plus the signal that killed it.
func exitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// inheritedFDs are the fds from 3 up that corral was started with and may
// hand to a container (--preserve-fds, LISTEN_FDS). A caller that names
// an fd it did not pass must get an error, not one of corral's own files
// in its container: the Go runtime keeps the cgroup's cpu.cfs_quota_us
// and cpu.cfs_period_us open from before main, the cgroups library a
// handle of /sys/fs/cgroup, corral its log.
type inheritedFDs map[int]bool

// probeInheritedFDs records which of the fds that the arguments and the
// environment may ask for are open. It parses --preserve-fds itself,
// before cobra, at the cost of a few fcntl calls and only when asked.
func probeInheritedFDs(args []string) inheritedFDs {
	n := 0
	if v, err := strconv.Atoi(os.Getenv("LISTEN_FDS")); err == nil && v > 0 {
		n += v
	}
	preserve := 0
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "preserve-fds" || !strings.HasPrefix(a, "-") {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		if v, err := strconv.Atoi(value); err == nil && v > preserve {
			preserve = v
		}
	}
	n += preserve
	if n == 0 {
		return nil
	}
	open := make(inheritedFDs, n)
	for fd := 3; fd < 3+n; fd++ {
		// An fd that crossed execve into corral cannot be close-on-exec;
		// every fd the runtime opened for itself is.
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			open[fd] = true
		}
	}
	return open
}

// preservedFiles returns the fds from first up to first+n-1 that corral
// was started with, for --preserve-fds: they become the same fds of the
// container's process.
func (in inheritedFDs) preservedFiles(first, n int) ([]*os.File, error) {
	if n < 0 {
		return nil, fmt.Errorf("--preserve-fds: %d is negative", n)
	}
	files := make([]*os.File, 0, n)
	for fd := first; fd < first+n; fd++ {
		if !in[fd] {
			return nil, fmt.Errorf("--preserve-fds: fd %d is not open", fd)
		}
		files = append(files, os.NewFile(uintptr(fd), "preserved-fd-"+strconv.Itoa(fd)))
	}
	return files, nil
}

// listenFiles returns the sockets of systemd socket activation (fds 3 up
// to 3+LISTEN_FDS-1) when they are meant for this process, as sd_listen_fds
// decides: LISTEN_PID must be our pid.
func (in inheritedFDs) listenFiles() []*os.File {
	nfds := os.Getenv("LISTEN_FDS")
	if nfds == "" {
		return nil
	}
	if pid, err := strconv.Atoi(os.Getenv("LISTEN_PID")); err != nil || pid != os.Getpid() {
		return nil
	}
	n, err := strconv.Atoi(nfds)
	if err != nil || n <= 0 {
		return nil
	}
	files := make([]*os.File, 0, n)
	for fd := 3; fd < 3+n && in[fd]; fd++ {
		files = append(files, os.NewFile(uintptr(fd), "listen-fd-"+strconv.Itoa(fd)))
	}
	return files
}

// withID makes err name the container, as every error of corral should:
// the library's errors mostly do already, and are left as they are.
func withID(verb, id string, err error) error {
	if err == nil || namesContainer(err, id) {
		return err
	}
	return &libcontainer.ContainerError{Op: verb, ID: id, Err: err}
}

// namesContainer reports whether err is the library's error of an
// operation on container id, which names it.
func namesContainer(err error, id string) bool {
	var ce *libcontainer.ContainerError
	return errors.As(err, &ce) && ce.ID == id
}
