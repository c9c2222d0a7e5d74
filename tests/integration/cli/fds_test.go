package cli

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// dataFile is a file holding s, open for reading, to pass as an fd.
func dataFile(t *testing.T, s string) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestPreserveFDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	script := `cat <&3; [ -e /proc/self/fd/4 ] && echo fd4-leaked || echo fd4-closed`
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()

	id := e.ID()
	cmd := e.Command(ctx, "run", "--preserve-fds", "1", "--bundle", e.Bundle(id, []string{"sh", "-c", script}), id)
	cmd.ExtraFiles = []*os.File{dataFile(t, "from-fd-3\n"), dataFile(t, "not passed")}
	if r := e.RunCmd(cmd); r.Code != 0 || r.Stdout != "from-fd-3\nfd4-closed\n" {
		t.Errorf("run: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}

	// Without the flag, fd 3 stays out of the container.
	id = e.ID()
	cmd = e.Command(ctx, "run", "--bundle", e.Bundle(id, []string{"sh", "-c", "[ -e /proc/self/fd/3 ] && echo leaked || echo closed"}), id)
	cmd.ExtraFiles = []*os.File{dataFile(t, "secret")}
	if r := e.RunCmd(cmd); r.Code != 0 || r.Stdout != "closed\n" {
		t.Errorf("run without --preserve-fds: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}

	// exec passes them too.
	id = e.runDetached([]string{"sleep", "100"})
	cmd = e.Command(ctx, "exec", "--preserve-fds", "1", id, "sh", "-c", "cat <&3")
	cmd.ExtraFiles = []*os.File{dataFile(t, "exec-fd-3")}
	if r := e.RunCmd(cmd); r.Code != 0 || r.Stdout != "exec-fd-3" {
		t.Errorf("exec: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	e.fails([]string{"fd 3 is not open"}, "exec", "--preserve-fds", "1", id, "true")
	e.Must("delete", "-f", id)
}

// TestListenFDs passes systemd's socket activation through: the fds of
// LISTEN_FDS, with LISTEN_PID=1 for the container's init.
func TestListenFDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3"})
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	// LISTEN_PID must be corral's own pid: the shell execs corral.
	cmd := e.Command(ctx)
	cmd.Path = "/bin/sh"
	cmd.Args = []string{"sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, corralBin, "--root", e.Root, "run", "--bundle", bundle, id}
	cmd.ExtraFiles = []*os.File{dataFile(t, "activated\n")}
	if r := e.RunCmd(cmd); r.Code != 0 || r.Stdout != "1 1\nactivated\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}
