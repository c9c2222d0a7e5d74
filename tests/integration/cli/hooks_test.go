package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestHooksInContainer (issue 18): the hooks that run in the container's
// namespaces run as runc runs them, here with init handed over to its
// waiter, which execs back into Go after start for the startContainer
// hooks. A createContainer hook runs in the rootfs; hooks that name no
// environment get the process's (a startContainer hook runs as the
// process: its cwd, HOME set); a failing one fails start with "error
// running <kind> hook #N".
func TestHooksInContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	id := e.ID()
	bundle := e.Bundle(id, []string{"cat", "/dev/shm/start"}, func(s *specs.Spec) {
		s.Process.Env = append(s.Process.Env, "FOO=bar")
		s.Process.Cwd = "/dev"
		s.Hooks = &specs.Hooks{
			CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
				"pwd > " + filepath.Join(dir, "cwd") + "; env > " + filepath.Join(dir, "env")}}},
			StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "{ pwd; env; } > /dev/shm/start"}}},
		}
	})
	out := e.Must("run", "--bundle", bundle, id)
	cwd, _ := os.ReadFile(filepath.Join(dir, "cwd"))
	if got := strings.TrimSpace(string(cwd)); got != busybox {
		t.Errorf("createContainer hook ran in %q, want the rootfs %q", got, busybox)
	}
	if env, _ := os.ReadFile(filepath.Join(dir, "env")); !strings.Contains(string(env), "FOO=bar\n") {
		t.Errorf("createContainer hook without an env got:\n%s", env)
	}
	for _, want := range []string{"/dev\n", "FOO=bar\n", "HOME=/root\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("startContainer hook without an env: no %q in\n%s", want, out)
		}
	}
	id = e.ID()
	bundle = e.Bundle(id, []string{"true"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/false"}}}
	})
	e.Must("create", "--bundle", bundle, id)
	e.fails([]string{"error running startContainer hook #1: "}, "start", id)
	e.Must("delete", "--force", id)
}

// TestStartHooksWithoutExecveat: init's wait mode execs into Go for the
// startContainer hooks after it loaded the seccomp filter; a profile that
// denies execveat fails the start, saying why. runc, which runs the hooks
// in its init's Go, runs such a bundle; corral refuses it rather than
// exec its binary through the container's /proc, or wait in Go with
// privileged threads.
func TestStartHooksWithoutExecveat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"true"}, func(s *specs.Spec) {
		s.Process.NoNewPrivileges = true
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"execveat"}, Action: specs.ActErrno}},
		}
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
	})
	e.Must("create", "--bundle", bundle, id)
	defer e.Must("delete", "-f", id)
	e.fails([]string{"hooks: exec into the hooks mode", "the seccomp profile must allow execveat", "operation not permitted"}, "start", id)
}
