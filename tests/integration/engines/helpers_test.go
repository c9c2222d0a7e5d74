package engines

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// cmdTimeout bounds one engine command: a hang is a failure, not a stuck
// test run.
const cmdTimeout = 30 * time.Second

// runCmd runs name with args and env added to the test's environment, to
// its end or until timeout.
func runCmd(timeout time.Duration, env []string, name string, args ...string) itest.Result {
	return runCmdInput("", timeout, env, name, args...)
}

// runCmdInput is runCmd with input on the command's stdin (/dev/null
// when empty).
func runCmdInput(input string, timeout time.Duration, env []string, name string, args ...string) itest.Result {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	if input != "" {
		cmd.Stdin = strings.NewReader(input)
	}
	// The copy of the input must not outlive the command by much.
	cmd.WaitDelay = 5 * time.Second
	return itest.Run(cmd, timeout)
}

// mountsUnder lists the mount points at or under dir, deepest first: the
// order to unmount them in.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMountinfo(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of
// mountinfo's paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range []byte(s[i+1 : i+4]) {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + c - '0'
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountAll detaches every mount at or under dir and reports those that
// were left (a leak of the engine or of corral).
func unmountAll(t *testing.T, dir string) {
	t.Helper()
	mps := mountsUnder(dir)
	for _, mp := range mps {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			t.Logf("unmount %s: %v", mp, err)
		}
	}
}

// cgroupV2 reports whether /sys/fs/cgroup is the unified hierarchy.
func cgroupV2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

// removeCgroups removes the cgroup directories named rel (relative to a
// hierarchy's root) in every hierarchy, children first. Only cgroups the
// test made are passed here.
func removeCgroups(t *testing.T, rel string) {
	t.Helper()
	for _, d := range itest.CgroupDirs(rel) {
		var all []string
		filepath.WalkDir(d, func(p string, de os.DirEntry, err error) error {
			if err == nil && de.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
		for _, p := range all {
			// A cgroup with processes cannot go: kill them first.
			if b, err := os.ReadFile(filepath.Join(p, "cgroup.procs")); err == nil {
				for _, f := range strings.Fields(string(b)) {
					var pid int
					if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			if !itest.WaitFor(2*time.Second, func() bool {
				err := os.Remove(p)
				return err == nil || errors.Is(err, os.ErrNotExist)
			}) {
				t.Logf("cannot remove cgroup %s", p)
			}
		}
	}
}

// copyTree copies the directory tree src to dst (which must not exist):
// directories, regular files and symlinks, with their modes and owners.
// It stays on src's file system: a mount that another test has on a
// directory of the shared rootfs is not part of it.
func copyTree(src, dst string) error {
	var root syscall.Stat_t
	if err := syscall.Lstat(src, &root); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Dev != root.Dev {
			if fi.IsDir() {
				// Keep the mount point, empty.
				if err := os.Mkdir(target, 0o755); err != nil {
					return err
				}
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case fi.Mode().IsDir():
			if err := os.Mkdir(target, fi.Mode().Perm()); err != nil {
				return err
			}
			if err := os.Chmod(target, fi.Mode().Perm()|fi.Mode()&(os.ModeSticky|os.ModeSetuid|os.ModeSetgid)); err != nil {
				return err
			}
		case fi.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, target); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, b, fi.Mode().Perm()); err != nil {
				return err
			}
		default:
			// Devices, sockets, fifos: a test rootfs needs none.
			return nil
		}
		return os.Lchown(target, int(st.Uid), int(st.Gid))
	})
}
