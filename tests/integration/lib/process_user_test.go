package lib

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// privateDir binds at dest a new host directory owned by uid:gid with
// mode: a directory the process's user may not be able to enter.
func privateDir(t *testing.T, cfg *configs.Config, dest string, uid, gid int, mode os.FileMode) {
	t.Helper()
	dir := t.TempDir()
	// The test's temporary directory is root's alone: a user namespace's
	// root must be able to pass through it to the bind's source.
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: dir, Destination: dest, Device: "bind", Flags: unix.MS_BIND | unix.MS_REC})
}

// asUser runs the process as user in cwd, without the capabilities that
// override file permissions (as `runc spec`'s bundle, whose capabilities
// are those of kill and bind alone).
func asUser(user, cwd string) runOpts {
	caps := []string{"CAP_KILL"}
	return func(p *libcontainer.Process) {
		p.User, p.Cwd = user, cwd
		p.Capabilities = &configs.Capabilities{Bounding: caps, Effective: caps, Permitted: caps}
	}
}

// A non-root user whose cwd only root may enter starts there, as with
// runc: the runtime changes to the cwd while it is still root, and only
// then becomes the user. The program itself cannot list it.
func TestCwdOnlyRootMayEnter(t *testing.T) {
	cfg := newConfig(t, busybox)
	privateDir(t, cfg, "/root", 0, 0, 0o700)
	const script = `id -u; pwd; ls . >/dev/null 2>&1 || echo cannot list`
	const want = "1000\n/root\ncannot list\n"
	if out := sh(t, cfg, script, asUser("1000:1000", "/root")); out != want {
		t.Errorf("init: got %q, want %q", out, want)
	}
	c, _, _ := startScript(t, cfg, `sleep 1000`)
	if out, code := execIn(t, c, []string{"/bin/sh", "-c", script}, asUser("1000:1000", "/root")); code != 0 || out != want {
		t.Errorf("exec: exit %d, got %q, want %q", code, out, want)
	}
}

// A cwd that root may not enter, in a user namespace whose root does
// not own it, but the user may (by its group): the runtime tries again as
// the user, as runc does. One neither may enter is an error naming the
// cwd.
func TestCwdOnlyTheUserMayEnter(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	// Owned by the host's root, which the namespace does not map, so
	// that its root has no override; group 1000 of the container.
	privateDir(t, cfg, "/mnt", 0, 101000, 0o070)
	if out := sh(t, cfg, "id -u; pwd", asUser("1000:1000", "/mnt")); out != "1000\n/mnt\n" {
		t.Errorf("got %q", out)
	}
	_, err := run(t, cfg, []string{"pwd"}, asUser("1000:1001", "/mnt"))
	if err == nil || !strings.Contains(err.Error(), `process.cwd "/mnt": permission denied`) {
		t.Errorf("a cwd no one may enter: %v", err)
	}
}

// A container that joins another's namespaces (as a pod's containers join
// its sandbox's) gets the same: its user 1000 starts in a cwd only root
// may enter, with and without a user namespace joined.
func TestCwdJoiningNamespaces(t *testing.T) {
	for _, userns := range []bool{false, true} {
		name := "no-user-namespace"
		if userns {
			name = "joined-user-namespace"
		}
		t.Run(name, func(t *testing.T) {
			first := newConfig(t, busybox)
			owner := 0
			if userns {
				first.Namespaces.Add(configs.NEWUSER, "")
				first.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
				first.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
				owner = 100000
			}
			_, p := startLong(t, first)
			pid, err := p.Pid()
			if err != nil {
				t.Fatal(err)
			}
			cfg := newConfig(t, busybox)
			cfg.Hostname = ""
			cfg.Networks = nil
			types := []configs.NamespaceType{configs.NEWNET, configs.NEWUTS, configs.NEWIPC}
			if userns {
				types = append(types, configs.NEWUSER)
				cfg.Devices = nil
			}
			for _, ns := range types {
				cfg.Namespaces.Add(ns, fmt.Sprintf("/proc/%d/ns/%s", pid, ns.File()))
			}
			privateDir(t, cfg, "/root", owner, owner, 0o700)
			if out := sh(t, cfg, "id -u; pwd", asUser("1000:1000", "/root")); out != "1000\n/root\n" {
				t.Errorf("got %q", out)
			}
		})
	}
}

// An empty HOME, also the last of several, is the user's home from the
// container's /etc/passwd, as with runc; one HOME stays.
func TestEmptyHomeIsTheUsers(t *testing.T) {
	const script = `echo "$HOME"; env | grep -c ^HOME=`
	for _, tc := range []struct {
		user string
		env  []string
		want string
	}{
		{"1000", []string{"HOME="}, "/home/user1\n1\n"},
		{"0", []string{"HOME=/a", "HOME="}, "/root\n1\n"},
		{"1000", []string{"HOME=", "HOME=/b"}, "/b\n1\n"},
		{"4321", []string{"HOME="}, "/\n1\n"},
	} {
		env := func(p *libcontainer.Process) {
			p.User = tc.user
			p.Env = append(p.Env, tc.env...)
		}
		if out := sh(t, newConfig(t, busybox), script, env); out != tc.want {
			t.Errorf("user %s, env %q: got %q, want %q", tc.user, tc.env, out, tc.want)
		}
	}
	c, _, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	out, code := execIn(t, c, []string{"/bin/sh", "-c", script}, func(p *libcontainer.Process) {
		p.User = "user1"
		p.Env = append(p.Env, "HOME=/a", "HOME=")
	})
	if code != 0 || out != "/home/user1\n1\n" {
		t.Errorf("exec: exit %d, got %q", code, out)
	}
}

// TestStdioIsTheUsers: a process run as a user owns the pipes of its
// stdio, as with runc, so that it can open /dev/stdout, to which images
// link their logs; with a user namespace too. A host file given as stdio
// stays the host's (runc would give it to the user).
func TestStdioIsTheUsers(t *testing.T) {
	const script = `stat -Lc %u /proc/self/fd/1 /proc/self/fd/2; echo reopened > /dev/stdout`
	const want = "1000\n1000\nreopened\n"
	hostFile, err := os.Create(filepath.Join(t.TempDir(), "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	defer hostFile.Close()
	stdin := func(p *libcontainer.Process) { p.Stdin = hostFile }
	if out := sh(t, newConfig(t, busybox), script, asUser("1000:1000", "/"), stdin); out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if fi, err := hostFile.Stat(); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("the host file given as stdin changed owner: %v", err)
	}
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	if out := sh(t, cfg, script, asUser("1000:1000", "/")); out != want {
		t.Errorf("user namespace: got %q, want %q", out, want)
	}
	c, _, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	if out, code := execIn(t, c, []string{"/bin/sh", "-c", script}, asUser("1000:1000", "/")); code != 0 || out != want {
		t.Errorf("exec: exit %d, got %q, want %q", code, out, want)
	}
}
