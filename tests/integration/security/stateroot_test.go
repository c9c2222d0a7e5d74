package security

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// The state root holds what the runtime trusts: each container's state
// and compiled seccomp filters (issue 17, point 5). These tests plant a
// filter that allows everything where a container's profile denies
// mkdir, and check that the container never runs with it.

// denyMkdir is the victim's profile: mkdir fails with EPERM.
func denyMkdir() *configs.Seccomp {
	return &configs.Seccomp{
		DefaultAction: configs.Allow,
		Syscalls: []*configs.Syscall{
			{Name: "mkdir", Action: configs.Errno, ErrnoRet: ptr(uint(1))},
			{Name: "mkdirat", Action: configs.Errno, ErrnoRet: ptr(uint(1))},
		},
	}
}

// denyAcct is another profile, which lets mkdir through.
func denyAcct() *configs.Seccomp {
	return &configs.Seccomp{
		DefaultAction: configs.Allow,
		Syscalls:      []*configs.Syscall{{Name: "acct", Action: configs.Errno, ErrnoRet: ptr(uint(1))}},
	}
}

// mkdirScript reports whether mkdir went through.
const mkdirScript = `mkdir /tmp/x 2>/dev/null && echo MKDIR-ALLOWED || echo MKDIR-DENIED`

// runInRoot runs args in a container of cfg under the state root root,
// and destroys it.
func runInRoot(t *testing.T, root string, cfg *configs.Config, args []string) (string, error) {
	t.Helper()
	id := randomID(t)
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		return "", err
	}
	defer c.Destroy()
	var out bytes.Buffer
	p := &libcontainer.Process{Args: args, Env: []string{"PATH=/bin"}, Stdout: &out, Stderr: &out, Init: true}
	if err := c.Run(p); err != nil {
		return "", err
	}
	if _, err := waitTimeout(p, 20*time.Second); err != nil {
		return out.String(), err
	}
	return out.String(), nil
}

// cacheEntry runs a container of profile sc under a fresh state root and
// returns the name and content of the one cache entry it left.
func cacheEntry(t *testing.T, sc *configs.Seccomp) (string, []byte) {
	t.Helper()
	root := t.TempDir()
	cfg := newConfig(t, busybox)
	cfg.Seccomp = sc
	if out, err := runInRoot(t, root, cfg, []string{"true"}); err != nil {
		t.Fatalf("run: %v: %s", err, out)
	}
	dir := filepath.Join(root, ".cache", "seccomp")
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("seccomp cache %s: %v, %d entries", dir, err, len(ents))
	}
	b, err := os.ReadFile(filepath.Join(dir, ents[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	return ents[0].Name(), b
}

// plant writes content as the cache entry name under root.
func plant(t *testing.T, root, name string, content []byte) {
	t.Helper()
	dir := filepath.Join(root, ".cache", "seccomp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSeccompCacheBoundToProfile copies the cached filter of another
// profile over the victim profile's entry, in a sound state root: the
// victim must get its own filter, recompiled, not the one planted.
func TestSeccompCacheBoundToProfile(t *testing.T) {
	guardMounts(t)
	victim, _ := cacheEntry(t, denyMkdir())
	_, permissive := cacheEntry(t, denyAcct())
	root := t.TempDir()
	plant(t, root, victim, permissive)
	cfg := newConfig(t, busybox)
	cfg.Seccomp = denyMkdir()
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: "tmpfs", Destination: "/tmp", Device: "tmpfs"})
	out, err := runInRoot(t, root, cfg, []string{"/bin/sh", "-c", mkdirScript})
	if err != nil {
		t.Fatalf("run: %v: %s", err, out)
	}
	if !strings.Contains(out, "MKDIR-DENIED") {
		t.Errorf("the container ran with another profile's cached filter: %s", out)
	}
}

// TestStateRootOfOthersRefused: a state root that someone else owns or
// may write (here a world-writable one, where another user planted a
// cache entry before the root's user ran anything) is refused, and so is
// a symlink; the error names the path and what is wrong with it.
func TestStateRootOfOthersRefused(t *testing.T) {
	guardMounts(t)
	victim, _ := cacheEntry(t, denyMkdir())
	_, permissive := cacheEntry(t, denyAcct())

	good := t.TempDir()
	for _, tc := range []struct {
		name, want string
		make       func(root string) string
	}{
		{"world-writable", "writable by group and others (mode 1777)", func(root string) string {
			unix.Chmod(root, 0o1777)
			return root
		}},
		{"group-writable", "writable by group (mode 0770)", func(root string) string {
			unix.Chmod(root, 0o770)
			return root
		}},
		{"another owner", "owned by uid 1000, not by the caller (uid 0)", func(root string) string {
			os.Chown(root, 1000, 1000)
			return root
		}},
		{"symlink", "is a symlink", func(root string) string {
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(good, link); err != nil {
				t.Fatal(err)
			}
			return link
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			if err := os.Mkdir(root, 0o700); err != nil {
				t.Fatal(err)
			}
			plant(t, root, victim, permissive)
			plant(t, good, victim, permissive)
			root = tc.make(root)
			cfg := newConfig(t, busybox)
			cfg.Seccomp = denyMkdir()
			cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: "tmpfs", Destination: "/tmp", Device: "tmpfs"})
			out, err := runInRoot(t, root, cfg, []string{"/bin/sh", "-c", mkdirScript})
			if err == nil {
				t.Fatalf("a container ran under the state root (%s): %s", tc.name, strings.TrimSpace(out))
			}
			if !errors.Is(err, libcontainer.ErrUnsafeRoot) || !strings.Contains(err.Error(), root) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want ErrUnsafeRoot naming %s and %q", err, root, tc.want)
			}
			if _, err := libcontainer.Load(root, "any"); !errors.Is(err, libcontainer.ErrUnsafeRoot) {
				t.Errorf("Load under the state root: %v, want ErrUnsafeRoot", err)
			}
		})
	}
}
